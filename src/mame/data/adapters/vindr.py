"""VinDr-Mammo as released: `images/<study_id>/<image_id>.dicom` plus two CSVs.

`breast-level_annotations.csv` holds one row per image (laterality, view_position, breast_density
"DENSITY A".."D", split); `finding_annotations.csv` one row per finding, its categories a Python-list
string ("['Mass', 'Suspicious Calcification']") and its box in original pixels (boxes may reach past the
image; geometry clips them). The released DICOMs went through VinDr's de-identification, which removed
PatientID, so the patient unit is the study.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from mame.data.adapters.base import (
    Candidate,
    EmptyDataset,
    child,
    clean,
    density_letter,
    files_with_suffix,
    relative_to,
    sorted_box,
    unlisted,
)

BREAST_TABLE = "breast-level_annotations.csv"
FINDING_TABLE = "finding_annotations.csv"
EXPECTED = f"{BREAST_TABLE}, {FINDING_TABLE} and images/<study_id>/<image_id>.dicom (VinDr-Mammo)"


def _table(root: Path, name: str) -> pd.DataFrame:
    path = child(root, name)
    if path is None:
        raise EmptyDataset("vindr", root, EXPECTED, f"{name} is missing")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def finding_boxes(findings: pd.DataFrame) -> dict[str, list[dict]]:
    """image_id -> findings; a row with several categories gives one finding per category."""
    boxes: dict[str, list[dict]] = {}
    for row in findings.itertuples(index=False):
        categories = ast.literal_eval(row.finding_categories) if row.finding_categories else []
        categories = [c for c in categories if c != "No Finding"]
        if not categories or "" in (row.xmin, row.ymin, row.xmax, row.ymax):
            continue
        box = sorted_box(float(row.xmin), float(row.ymin), float(row.xmax), float(row.ymax))
        for category in categories:
            boxes.setdefault(row.image_id, []).append({"box": box, "category": category})
    return boxes


def vindr_candidates(root: Path) -> Iterator[Candidate]:
    breast = _table(root, BREAST_TABLE)
    boxes = finding_boxes(_table(root, FINDING_TABLE))
    image_dir = child(root, "images") or root / "images"
    on_disk = {
        (path.parent.name, path.stem): path for path in files_with_suffix(image_dir, (".dicom", ".dcm"), 2)
    }
    listed = set()
    for row in breast.itertuples(index=False):
        key = (row.study_id, row.image_id)
        listed.add(key)
        path = on_disk.get(key)
        yield Candidate(
            relative=relative_to(root, path) if path else f"images/{row.study_id}/{row.image_id}.dicom",
            laterality=clean(row.laterality),
            view=clean(row.view_position),
            density=density_letter(row.breast_density),
            split=clean(row.split),
            findings=boxes.get(row.image_id, []),
            patient=row.study_id,
            reject="" if path else "file_missing",
        )
    yield from unlisted(root, on_disk, listed)
