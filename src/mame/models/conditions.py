"""What a text-to-image model was trained on: per vendor, the attribute values its captions held.

Training writes `conditions.json` beside the pipeline; the GUI reads it to mark a control the model
never saw captioned for a vendor (e.g. density for Hologic) as extrapolated.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from mame.io import in_split, read_manifests

FILE = "conditions.json"
ATTRIBUTES = ("view", "area", "density")


def conditions_from_manifests(paths: list[str]) -> dict:
    """{"vendors": {vendor: {attribute: [values]}}, "vendor_in_prompt": bool} over training images."""
    frame = in_split(read_manifests(paths))
    vendors = {}
    for vendor, group in frame.groupby(frame["vendor"] if "vendor" in frame else pd.Series("", frame.index)):
        vendors[str(vendor)] = {
            attribute: sorted(
                {
                    str(v)
                    for v, prompt in zip(group[attribute], group["prompt"], strict=True)
                    if str(v) and f"{v} {attribute}" in prompt  # captioned, not just measured
                }
            )
            for attribute in ATTRIBUTES
            if attribute in group
        }
    pairs = zip(frame.get("vendor", []), frame["prompt"], strict=False)
    in_prompt = bool(len(frame) and "vendor" in frame and all(v and v in p for v, p in pairs))
    return {"vendors": vendors, "vendor_in_prompt": in_prompt}


def write_conditions(model_dir: str | Path, manifests: list[str]) -> None:
    Path(model_dir, FILE).write_text(json.dumps(conditions_from_manifests(manifests), indent=1) + "\n")


def read_conditions(model_dir: str | Path) -> dict | None:
    """The model's conditions; for models saved before this file existed, the manifests named in its
    model card when they are still on disk; None when unknown."""
    path = Path(model_dir, FILE)
    if path.exists():
        return json.loads(path.read_text())
    card = Path(model_dir, "README.md")
    match = re.search(r"manifests: ([^)]+)\)", card.read_text()) if card.exists() else None
    manifests = [p.strip() for p in match.group(1).split(",")] if match else []
    if manifests and all(Path(p).exists() for p in manifests):
        return conditions_from_manifests(manifests)
    return None


def extrapolated(conditions: dict | None, vendor: str | None, **asked: str | None) -> list[str]:
    """The asked attributes this model never saw captioned for this vendor (empty when unknown)."""
    if not conditions:
        return []
    vendors = conditions["vendors"]
    seen = vendors.get(vendor or "") if vendor else None
    if seen is None:  # no vendor asked (or unknown): what any vendor's captions held
        seen = {a: sorted({v for values in vendors.values() for v in values.get(a, [])}) for a in ATTRIBUTES}
    return [
        f"{attribute} '{value}'"
        for attribute, value in asked.items()
        if value and value not in seen.get(attribute, [])
    ]
