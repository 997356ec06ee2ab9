"""CBIS-DDSM as TCIA delivers it: `CBIS-DDSM/<case>/<study>/<series>/1-1.dcm` and four description CSVs.

A case folder is named like `Mass-Training_P_00001_LEFT_CC`; its ROI folders are `<case>_<abnormality
id>` and hold the cropped lesion and its binary mask. The CSVs (mass/calc x train/test) give patient_id,
breast density 1-4 (spelled `breast_density` in the mass tables, `breast density` in the calc ones),
side, view, abnormality id and type, pathology, and paths whose first folder is the case folder (the
UID folders after it do not match a TCIA download, so only the first is used). Boxes come from the
masks: the bounding box of the mask's non-zero pixels, the mask being the ROI file of the full image's
size. Masses are "Mass"; CBIS-DDSM's calcifications were all biopsied, so they are "Suspicious
Calcification". Every image has a lesion: this dataset has no healthy images.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom

from mame.data.adapters.base import Candidate, EmptyDataset, child, clean, density_letter, relative_to
from mame.data.dicom import decode_pixels, read_header
from mame.data.rejections import Rejection

TABLES = (
    "mass_case_description_train_set.csv",
    "mass_case_description_test_set.csv",
    "calc_case_description_train_set.csv",
    "calc_case_description_test_set.csv",
)
EXPECTED = "the four *_case_description_*_set.csv tables and CBIS-DDSM/<case>/<study>/<series>/*.dcm (TCIA)"
CATEGORIES = {"mass": "Mass", "calcification": "Suspicious Calcification"}
_ROI_FOLDER = re.compile(r"_\d+$")


def _case(path_text: str) -> str:
    return clean(path_text).replace("\\", "/").split("/")[0]


def _dicoms(folder: Path | None) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".dcm") if folder else []


def mask_box(roi_files: list[Path], shape: tuple[int, int]) -> list[float] | None:
    """The bounding box (x1, y1, x2, y2; edges) of the ROI file that is the full image's size."""
    for path in roi_files:
        try:
            header = read_header(path)
        except Rejection:
            continue
        if (int(header.Rows), int(header.Columns)) != shape:
            continue  # the cropped lesion, not the mask
        mask = decode_pixels(pydicom.dcmread(path)) > 0
        ys, xs = np.nonzero(mask)
        if len(ys):
            return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]
    return None


def cbis_candidates(root: Path) -> Iterator[Candidate]:
    tables = [(name, child(root, name)) for name in TABLES]
    present = [(name, path) for name, path in tables if path is not None]
    if not present:
        raise EmptyDataset("cbis_ddsm", root, EXPECTED, "no case description table")
    frames = []
    for name, path in present:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.columns = [c.strip().replace("_", " ") for c in frame.columns]
        frames.append(frame.assign(split="test" if "_test_" in name else "training"))
    rows = pd.concat(frames, ignore_index=True)
    tree = child(root, "CBIS-DDSM") or root
    folders = {p.name: p for p in tree.iterdir() if p.is_dir()} if tree.is_dir() else {}
    listed = set()
    for case, group in rows.groupby(rows["image file path"].map(_case), sort=True):
        listed.add(case)
        first = group.iloc[0]
        files = _dicoms(folders.get(case))
        candidate = Candidate(
            relative=relative_to(root, files[0]) if files else f"{tree.name}/{case}",
            laterality=clean(first["left or right breast"])[:1].upper(),
            view=clean(first["image view"]).upper(),
            density=density_letter(first["breast density"]),
            split=first["split"],
            patient=clean(first["patient id"]),
        )
        if not files:
            candidate.reject = "file_missing"
            yield candidate
            continue
        shape = read_header(files[0])
        for row in group.itertuples(index=False):
            roi = _case(row[group.columns.get_loc("ROI mask file path")])
            box = mask_box(_dicoms(folders.get(roi)), (int(shape.Rows), int(shape.Columns)))
            category = CATEGORIES.get(
                clean(row[group.columns.get_loc("abnormality type")]).lower(), "Unspecified"
            )
            candidate.findings.append({"box": box, "category": category})
        yield candidate
        for extra in files[1:]:
            yield Candidate(
                relative=relative_to(root, extra),
                reject="not_in_table",
                reject_detail="a second file in a case folder",
            )
    for name, folder in sorted(folders.items()):
        if name not in listed and not (_ROI_FOLDER.search(name) and _ROI_FOLDER.sub("", name) in folders):
            for path in _dicoms(folder):
                yield Candidate(relative=relative_to(root, path), reject="not_in_table")
