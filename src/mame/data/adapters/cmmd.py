"""CMMD, the Chinese Mammography Database (TCIA): `CMMD/<ID1>/<study>/<series>/1-<n>.dcm` and the
clinical sheet `CMMD_clinicaldata_revision.xlsx` (ID1, LeftRight, Age, number, abnormality,
classification Benign/Malignant, subtype).

The sheet has one row per breast with a lesion and no location, so an image of a listed breast carries
its classification as a finding without a box (`lesion_without_box` in the manifests). Laterality and
view come from the headers (ImageLaterality; ViewPosition or View Code Sequence). An image of a breast
the sheet does not list is not assumed healthy: it is `not_in_table`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mame.data.adapters.base import Candidate, EmptyDataset, child, files_with_suffix, relative_to
from mame.data.adapters.sheets import find_sheet, read_sheet
from mame.data.dicom import read_header
from mame.data.rejections import Rejection

EXPECTED = "CMMD_clinicaldata_revision.xlsx and CMMD/<ID1>/<study>/<series>/*.dcm (TCIA CMMD)"
SHEET = "CMMD_clinicaldata_revision"


def _laterality(path: Path) -> str:
    try:
        ds = read_header(path)
    except Rejection:
        return ""
    return str(getattr(ds, "ImageLaterality", "") or getattr(ds, "Laterality", "") or "").strip().upper()


def cmmd_candidates(root: Path) -> Iterator[Candidate]:
    sheet_path = find_sheet(root, SHEET)
    if sheet_path is None:
        raise EmptyDataset("cmmd", root, EXPECTED, f"{SHEET}.xlsx is missing")
    sheet = read_sheet(sheet_path)
    labels: dict[tuple[str, str], list[dict]] = {}
    for row in sheet.itertuples(index=False):
        side = row.LeftRight.upper()[:1]
        category = row.classification or "Unspecified"
        labels.setdefault((row.ID1, side), []).append({"box": None, "category": category})
    tree = child(root, "CMMD") or root
    patients = {p.name: p for p in tree.iterdir() if p.is_dir()} if tree.is_dir() else {}
    listed_patients = {patient for patient, _ in labels}
    for patient in sorted(listed_patients - set(patients)):
        yield Candidate(relative=f"{tree.name}/{patient}", patient=patient, reject="file_missing")
    for patient, folder in sorted(patients.items()):
        for path in files_with_suffix(folder, (".dcm",), 3):
            side = _laterality(path)
            findings = labels.get((patient, side))
            candidate = Candidate(relative=relative_to(root, path), patient=patient, findings=findings or [])
            if findings is None:
                candidate.reject = "not_in_table"
                candidate.reject_detail = "the clinical sheet has no row for this patient and side"
            yield candidate
