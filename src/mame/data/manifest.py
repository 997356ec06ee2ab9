"""Training manifests: image-prompt pairs for healthy images, image-mask pairs for lesions.

A dataset's prompts carry one attribute (the study: area for OMI-H, density for VinDr); the
fusion manifest joins datasets and inserts each image's vendor word. Every caption comes from
`mame.prompts.build_prompt`, the builder that sampling and the GUI use too.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from mame.prompts import LESION_PROMPT, area_word, build_prompt, density_word
from mame.shapes import FULL_FIELD_COLUMNS, TIME_ID_COLUMNS

log = logging.getLogger(__name__)

PROMPT_ATTRIBUTES = ("area", "density", "none")
HEALTHY_RULES = ("no_marks", "nbss_normal")
NORMAL_STATUS = "Normal"
HEALTHY_COLUMNS = [
    "key",
    "patient",
    "image",
    "prompt",
    "vendor",
    "view",
    "laterality",
    "area_fraction",
    "area",
    "density",
    "split",
    "status",
    *TIME_ID_COLUMNS,
    *FULL_FIELD_COLUMNS,
]
LESION_COLUMNS = [
    "key",
    "patient",
    "image",
    "mask",
    "prompt",
    "vendor",
    "view",
    "laterality",
    "categories",
    "boxes",
    "split",
    *TIME_ID_COLUMNS,
    *FULL_FIELD_COLUMNS,
]


@dataclass(frozen=True)
class ManifestSettings:
    vendor: str
    prompt_attribute: str = "area"  # which attribute this dataset's captions carry
    area_thresholds: tuple[float, float] = (0.4, 0.6)
    lesion_categories: tuple[str, ...] = ("Mass", "Suspicious Calcification")
    holdout_fraction: float = 0.1
    # which images without marks are healthy: all of them, or only those of a patient whose screening
    # status (OMI-DB's NBSS) is Normal; datasets without a status fall back to no_marks
    healthy: str = "no_marks"

    def __post_init__(self) -> None:
        if self.prompt_attribute not in PROMPT_ATTRIBUTES:
            raise ValueError(
                f"prompt_attribute {self.prompt_attribute!r} unknown; expected one of {PROMPT_ATTRIBUTES}"
            )
        if self.healthy not in HEALTHY_RULES:
            raise ValueError(f"healthy {self.healthy!r} unknown; expected one of {HEALTHY_RULES}")

    @classmethod
    def from_dict(cls, settings: dict) -> ManifestSettings:
        """From the workflow's params or the CLI's options (lists become tuples)."""
        return cls(
            vendor=settings["vendor"],
            prompt_attribute=settings["prompt_attribute"],
            area_thresholds=tuple(settings["area_thresholds"]),
            lesion_categories=tuple(settings["lesion_categories"]),
            holdout_fraction=settings["holdout_fraction"],
            healthy=settings.get("healthy", "no_marks"),
        )


def read_converted(paths: list[str | Path]) -> pd.DataFrame:
    """The converted shards' tables as one frame (density letters and splits stay text)."""
    text = {"density": str, "split": str, "status": str}
    frames = [pd.read_csv(p, dtype=text, keep_default_na=False) for p in paths]
    return pd.concat(frames, ignore_index=True)


def assign_split(patient: str, holdout_fraction: float) -> str:
    """Patient-level split from the (already salted) patient key: no patient in both sets."""
    return "holdout" if int(patient[:8], 16) / 0xFFFFFFFF < holdout_fraction else "train"


def caption(row: pd.Series, attribute: str, vendor: str | None = None) -> str:
    """The training caption of one healthy image (never both area and density)."""
    area = row["area"] if attribute == "area" else None
    density = row["density_word"] if attribute == "density" else None
    return build_prompt(row["view"], area=area, density=density, vendor=vendor)


def draw_mask(shape: tuple[int, int], boxes: list[list[float]]) -> np.ndarray:
    """255 inside every box (edges rounded outwards, so a lesion is never shaved), 0 elsewhere."""
    mask = np.zeros(shape, dtype=np.uint8)
    height, width = shape
    for x1, y1, x2, y2 in boxes:
        left, top = max(0, int(np.floor(x1))), max(0, int(np.floor(y1)))
        right, bottom = min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2)))
        mask[top:bottom, left:right] = 255
    return mask


def build_manifests(
    converted: pd.DataFrame, settings: ManifestSettings, mask_dir: str | Path
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (healthy, lesions, excluded); writes one mask PNG per lesion image into `mask_dir`."""
    mask_dir = Path(mask_dir)
    mask_dir.mkdir(parents=True, exist_ok=True)
    frame = converted.copy()
    frame["density"] = frame["density"].fillna("").astype(str)
    frame["status"] = frame["status"].fillna("").astype(str) if "status" in frame else ""
    frame["split"] = [
        "holdout" if str(split).lower() == "test" else assign_split(patient, settings.holdout_fraction)
        for split, patient in zip(frame["split"].fillna(""), frame["patient"], strict=True)
    ]
    frame["area"] = [area_word(a, settings.area_thresholds) for a in frame["area_fraction"]]
    frame["density_word"] = [density_word(d) if d else "" for d in frame["density"]]
    findings = [json.loads(f) for f in frame["findings"]]
    healthy_rows, lesion_rows, excluded = [], [], []
    for (_, row), found in zip(frame.iterrows(), findings, strict=True):
        if not found:
            status = row["status"]
            if settings.healthy == "nbss_normal" and status and status != NORMAL_STATUS:
                excluded.append(
                    {"key": row["key"], "stage": "manifest", "reason": "not_normal_status", "detail": status}
                )
                continue
            if settings.prompt_attribute == "density" and not row["density"]:
                excluded.append(
                    {"key": row["key"], "stage": "manifest", "reason": "missing_density", "detail": ""}
                )
                continue
            healthy_rows.append({**row, "prompt": caption(row, settings.prompt_attribute)})
            continue
        if all(f.get("box") is None for f in found):
            categories = ", ".join(sorted({f["category"] for f in found}))
            excluded.append(
                {"key": row["key"], "stage": "manifest", "reason": "lesion_without_box", "detail": categories}
            )
            continue
        selected = [f for f in found if f["category"] in settings.lesion_categories]
        if not selected:
            categories = sorted({f["category"] for f in found})
            excluded.append(
                {
                    "key": row["key"],
                    "stage": "manifest",
                    "reason": "category_not_selected",
                    "detail": ", ".join(categories),
                }
            )
            continue
        located = [f["box"] for f in selected if f.get("box") is not None]
        boxes = [box for box in located if box[2] > box[0] and box[3] > box[1]]
        if not boxes:
            excluded.append(
                {"key": row["key"], "stage": "manifest", "reason": "lesion_outside_crop", "detail": ""}
            )
            continue
        with Image.open(row["image"]) as image:
            shape = (image.height, image.width)
        mask_path = mask_dir / f"{row['key']}.png"
        Image.fromarray(draw_mask(shape, boxes)).save(mask_path, format="PNG")
        lesion_rows.append(
            {
                **row,
                "mask": mask_path.as_posix(),
                "prompt": LESION_PROMPT,
                "categories": ";".join(sorted({f["category"] for f in selected})),
                "boxes": json.dumps(boxes),
            }
        )
    healthy = pd.DataFrame(healthy_rows).reindex(columns=HEALTHY_COLUMNS)
    healthy["density"] = [density_word(d) if d else "" for d in healthy["density"].fillna("")]
    lesions = pd.DataFrame(lesion_rows).reindex(columns=LESION_COLUMNS)
    log.info("manifest: %d healthy, %d with lesion, %d excluded", len(healthy), len(lesions), len(excluded))
    return healthy, lesions, pd.DataFrame(excluded, columns=["key", "stage", "reason", "detail"])


def fusion_manifest(healthy_by_dataset: dict[str, pd.DataFrame], attributes: dict[str, str]) -> pd.DataFrame:
    """Join datasets' healthy manifests; each caption gains its vendor word ("a hologic mammogram ...")."""
    parts = []
    for name, healthy in healthy_by_dataset.items():
        part = healthy.copy()
        part["dataset"] = name
        part["density_word"] = part["density"].fillna("")
        part["prompt"] = [caption(row, attributes[name], vendor=row["vendor"]) for _, row in part.iterrows()]
        parts.append(part.drop(columns="density_word"))
    return (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=HEALTHY_COLUMNS + ["dataset"])
    )


def write_metadata_jsonl(healthy: pd.DataFrame, path: str | Path) -> None:
    """diffusers' imagefolder captions: one {"file_name", "text"} per line, paths relative to the file."""
    path = Path(path)
    base = path.parent
    with path.open("w") as handle:
        for row in healthy.itertuples(index=False):
            name = os.path.relpath(row.image, base)
            handle.write(json.dumps({"file_name": Path(name).as_posix(), "text": row.prompt}) + "\n")


def write_manifests(
    converted: list[str | Path],
    settings: ManifestSettings,
    out_dir: str | Path,
    rejects: list[str | Path] = (),
) -> dict[str, int]:
    """One dataset's images.csv, healthy.csv, lesions.csv, metadata.jsonl, masks/ and rejects.csv in
    `out_dir`: what the workflow's manifest rule and `mame manifest` both write. `rejects` are the earlier
    stages' tables (the index's, the shards'), joined before the manifest's own exclusions; the index's
    private source paths are dropped."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = read_converted(converted)
    healthy, lesions, excluded = build_manifests(frame, settings, out / "masks")
    frame.drop(columns=["findings"]).to_csv(out / "images.csv", index=False)
    healthy.to_csv(out / "healthy.csv", index=False)
    lesions.to_csv(out / "lesions.csv", index=False)
    write_metadata_jsonl(healthy, out / "metadata.jsonl")
    earlier = [
        pd.read_csv(path, keep_default_na=False).drop(columns=["source"], errors="ignore") for path in rejects
    ]
    joined = pd.concat([*earlier, excluded], ignore_index=True)
    joined.to_csv(out / "rejects.csv", index=False)
    return {"healthy": len(healthy), "lesions": len(lesions), "rejects": len(joined)}


def healthy_by_rule(healthy: pd.DataFrame, rejects: pd.DataFrame, rule: str) -> dict[str, int]:
    """Healthy images under both rules, from the manifest one rule made (OMI-DB's NBSS status)."""
    status = healthy["status"].fillna("").astype(str) if "status" in healthy else pd.Series([], dtype=str)
    not_normal_kept = int(((status != "") & (status != NORMAL_STATUS)).sum())
    not_normal_dropped = int((rejects["reason"] == "not_normal_status").sum()) if len(rejects) else 0
    if rule == "nbss_normal":
        return {"no_marks": len(healthy) + not_normal_dropped, "nbss_normal": len(healthy)}
    return {"no_marks": len(healthy), "nbss_normal": len(healthy) - not_normal_kept}


def dataset_table(
    counts: dict[str, tuple[int, int]],
    healthy_rules: dict[str, dict[str, int]] | None = None,
) -> pd.DataFrame:
    """The study's table: healthy / with lesion / total per dataset, plus a combined column.

    `healthy_rules` (dataset -> {rule: count}) adds both healthy counts where a dataset records
    screening status."""
    table = pd.DataFrame(
        {name: [healthy, lesion, healthy + lesion] for name, (healthy, lesion) in counts.items()},
        index=pd.Index(["Healthy", "With lesion", "Total"], name="images"),
    )
    for rule, label in (("no_marks", "Healthy (no marks)"), ("nbss_normal", "Healthy (NBSS normal)")):
        if healthy_rules and any(rule in by_rule for by_rule in healthy_rules.values()):
            table.loc[label] = [healthy_rules.get(name, {}).get(rule, counts[name][0]) for name in counts]
    table["Combined"] = table.sum(axis=1)
    return table


def dataset_notes(indexes: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What the dataset table's counts could not check, per dataset (the implant tag VinDr removed)."""
    rows = [
        {
            "dataset": name,
            "note": "no file carries BreastImplantPresent (0028,1300): implants could not be excluded",
        }
        for name, index in indexes.items()
        if len(index) and (index["implant_tag"] == "absent").all()
    ]
    return pd.DataFrame(rows, columns=["dataset", "note"])


def rejects_by_reason(rejects: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rejected files counted per dataset, stage and reason (`rejects`: dataset -> its rejects table)."""
    frames = [frame.assign(dataset=name) for name, frame in rejects.items()]
    joined = pd.concat(frames, ignore_index=True)
    return joined.groupby(["dataset", "stage", "reason"]).size().rename("images").reset_index()
