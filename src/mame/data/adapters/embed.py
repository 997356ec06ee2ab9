"""EMBED, the Emory Breast Imaging Dataset (AWS Open Data release), read as its data descriptor says.

`tables/EMBED_OpenData_metadata.csv` has one row per file (empi_anon, acc_anon, anon_dicom_path,
FinalImageType 2D / C-view, ImageLateralityFinal, ViewPosition, spot_mag, ROI_coords as
(ymin, xmin, ymax, xmax) per ROI); `tables/EMBED_OpenData_clinical.csv` one row per finding (acc_anon,
side L/R/B, tissueden 1-4 (5: male), massshape, calcfind, ...). The two join on acc_anon and side: a
finding of side L goes to the left images, B or blank to both. Images live at
`images/cohort_<n>/<empi_anon>/<study>/<file>.dcm`; anon_dicom_path names them on the curators' mount,
so the part from `cohort_` on is looked up under the root (or its `images/`).

EMBED does not link an ROI to one finding, so each ROI carries the categories of its side's findings;
a finding on a side whose images have no ROI is a finding without a box (`lesion_without_box`). Only
`2D` images are full-field mammograms; C-views (synthesised from tomosynthesis) are rejected.
"""

from __future__ import annotations

import re
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
)

EXPECTED = (
    "tables/EMBED_OpenData_metadata.csv, tables/EMBED_OpenData_clinical.csv and images/cohort_*/... (EMBED)"
)
MASS_SHAPES = {
    **dict.fromkeys("GROX", "Mass"),
    **dict.fromkeys("QA", "Architectural Distortion"),
    "F": "Focal Asymmetry",
    "B": "Global Asymmetry",
    **dict.fromkeys("SV", "Asymmetry"),
    **dict.fromkeys("NY", "Lymph Node"),
    "T": "Other",
}
# BI-RADS 5th edition: amorphous, coarse heterogeneous, fine pleomorphic, fine linear (branching)
SUSPICIOUS_CALCIFICATIONS = set("AHIFBK")


def _table(root: Path, stem: str) -> pd.DataFrame:
    tables = child(root, "tables") or root
    path = child(tables, f"{stem}.csv") or child(tables, f"{stem}_reduced.csv")
    if path is None:
        raise EmptyDataset("embed", root, EXPECTED, f"tables/{stem}.csv is missing")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def roi_boxes(text: str) -> list[list[float]]:
    """'((ymin, xmin, ymax, xmax), ...)' in any bracket style -> [[x1, y1, x2, y2], ...]."""
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", text or "")]
    boxes = []
    for start in range(0, len(numbers) - len(numbers) % 4, 4):
        ymin, xmin, ymax, xmax = numbers[start : start + 4]
        boxes.append([min(xmin, xmax), min(ymin, ymax), max(xmin, xmax), max(ymin, ymax)])
    return boxes


def finding_categories(row: dict) -> list[str]:
    categories = []
    shape = clean(row.get("massshape"))
    if shape:
        categories.append(MASS_SHAPES.get(shape, "Other"))
    calcification = clean(row.get("calcfind"))
    if calcification:
        suspicious = calcification in SUSPICIOUS_CALCIFICATIONS
        categories.append("Suspicious Calcification" if suspicious else "Benign Calcification")
    return categories


def local_path(root: Path, anon_dicom_path: str) -> tuple[str, Path | None]:
    """The file under the root that the curators' path names (from `cohort_` on)."""
    text = clean(anon_dicom_path).replace("\\", "/")
    tail = text[text.find("cohort_") :] if "cohort_" in text else text.lstrip("./")
    for base in (child(root, "images"), root):
        if base is not None and (base / tail).is_file():
            return relative_to(root, base / tail), base / tail
    return f"images/{tail}", None


def embed_candidates(root: Path) -> Iterator[Candidate]:
    metadata = _table(root, "EMBED_OpenData_metadata")
    clinical = _table(root, "EMBED_OpenData_clinical")
    by_exam: dict[str, list[dict]] = {}
    for row in clinical.to_dict("records"):
        by_exam.setdefault(row["acc_anon"], []).append(row)
    listed = set()
    for row in metadata.to_dict("records"):
        relative, path = local_path(root, row["anon_dicom_path"])
        listed.add(relative)
        side = clean(row.get("ImageLateralityFinal")).upper()
        findings_rows = [
            f for f in by_exam.get(row["acc_anon"], []) if clean(f.get("side")).upper() in (side, "B", "")
        ]
        categories = sorted({c for f in findings_rows for c in finding_categories(f)})
        boxes = roi_boxes(row.get("ROI_coords", ""))
        if boxes:
            findings = [{"box": box, "category": c} for box in boxes for c in categories or ["Unspecified"]]
        else:
            findings = [{"box": None, "category": c} for c in categories]
        # density belongs to the exam and is repeated on every finding row, whatever its side
        exam = by_exam.get(row["acc_anon"], [])
        densities = [clean(f["tissueden"]) for f in exam if clean(f.get("tissueden")) in ("1", "2", "3", "4")]
        candidate = Candidate(
            relative=relative,
            laterality=side,
            view=clean(row.get("ViewPosition")),
            density=density_letter(densities[0]) if densities else "",
            findings=findings,
            patient=row["empi_anon"],
            spot_magnified=clean(row.get("spot_mag")) in ("1", "1.0"),
        )
        image_type = clean(row.get("FinalImageType"))
        if path is None:
            candidate.reject = "file_missing"
        elif image_type and image_type.upper() != "2D":
            candidate.reject, candidate.reject_detail = "not_full_field_2d", f"FinalImageType {image_type}"
        yield candidate
    images = child(root, "images") or root
    for path in files_with_suffix(images, (".dcm",), 4):
        if relative_to(root, path) not in listed:
            yield Candidate(relative=relative_to(root, path), reject="not_in_table")
