"""INbreast: `AllDICOMs/<file name>_<patient>_MG_<side>_<view>_ANON.dcm`, `AllXML/<file name>.xml`
and the sheet `INbreast.xls` (Patient ID, Patient age, Laterality, View, Acquisition date, File Name,
ACR, Bi-Rads; a CSV or .xlsx copy of it is read too).

The XML files are Apple property lists: Images > ROIs > {Name, NumberOfPoints, Point_px ["(x, y)", ...]}.
A lesion's box is the bounding box of its contour; a single-point ROI (one calcification) gets a box of
2 px around the point. The patient is the file name's second part (the sheet's Patient ID is removed).
"""

from __future__ import annotations

import plistlib
import re
from collections.abc import Iterator
from pathlib import Path

from mame.data.adapters.base import (
    Candidate,
    EmptyDataset,
    child,
    density_letter,
    files_with_suffix,
    relative_to,
    unlisted,
)
from mame.data.adapters.sheets import find_sheet, integer_text, read_sheet

EXPECTED = "INbreast.xls (or .csv/.xlsx), AllDICOMs/<file name>_*.dcm and AllXML/<file name>.xml (INbreast)"
CATEGORIES = {
    "mass": "Mass",
    "calcification": "Calcification",
    "calcifications": "Calcification",
    "cluster": "Calcification Cluster",
    "asymmetry": "Asymmetry",
    "assymetry": "Asymmetry",
    "distortion": "Architectural Distortion",
    "spiculated region": "Spiculated Region",
}
_POINT = re.compile(r"\(\s*([-\d.eE]+)\s*,\s*([-\d.eE]+)")


def xml_findings(path: Path) -> list[dict]:
    """Boxes and categories of every ROI in one INbreast XML (plist) file."""
    with path.open("rb") as handle:
        document = plistlib.load(handle)
    findings = []
    for image in document.get("Images", []):
        for roi in image.get("ROIs", []):
            points = [
                (float(x), float(y)) for x, y in (_POINT.match(p).groups() for p in roi.get("Point_px", []))
            ]
            if not points:
                continue
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            x1, y1, x2, y2 = min(xs), min(ys), max(xs) + 1, max(ys) + 1
            if len(points) == 1:
                x1, y1, x2, y2 = x1 - 1, y1 - 1, x2 + 1, y2 + 1
            name = str(roi.get("Name", "")).strip()
            findings.append(
                {"box": [x1, y1, x2, y2], "category": CATEGORIES.get(name.lower(), name or "Unspecified")}
            )
    return findings


def inbreast_candidates(root: Path) -> Iterator[Candidate]:
    sheet_path = find_sheet(root, "INbreast")
    if sheet_path is None:
        raise EmptyDataset("inbreast", root, EXPECTED, "INbreast.xls is missing")
    sheet = read_sheet(sheet_path)
    dicoms = {
        p.name.split("_")[0]: p
        for p in files_with_suffix(child(root, "AllDICOMs") or root / "AllDICOMs", (".dcm",), 1)
    }
    xml_dir = child(root, "AllXML") or root / "AllXML"
    listed = set()
    for row in sheet.to_dict("records"):
        name = integer_text(row["File Name"])
        if not name:
            continue
        listed.add(name)
        path = dicoms.get(name)
        xml = child(xml_dir, f"{name}.xml") if xml_dir.is_dir() else None
        yield Candidate(
            relative=relative_to(root, path) if path else f"AllDICOMs/{name}",
            laterality=row.get("Laterality", ""),
            view=row.get("View", ""),
            density=density_letter(integer_text(row.get("ACR", ""))),
            findings=xml_findings(xml) if xml is not None else [],
            patient=path.name.split("_")[1] if path and path.name.count("_") >= 1 else name,
            reject="" if path else "file_missing",
        )
    yield from unlisted(root, dicoms, listed)
