"""What every dataset adapter hands the index: candidates, and a loud error when there are none.

An adapter turns one dataset's delivered layout (its folders and label tables) into candidates: a file
plus what the tables say about it. Deliveries differ in case (`DATA/` vs `data/`, `.DCM` vs `.dcm`),
so folders and files are found case-insensitively. A root that yields nothing is never "0 images,
exit 0": it raises `EmptyDataset`, naming the root and the layout that was expected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Candidate:
    """A file the dataset's tables know about, with the labels they give it."""

    relative: str  # path relative to the dataset root, as a POSIX string
    laterality: str = ""
    view: str = ""
    density: str = ""  # A..D
    split: str = ""
    # {"box": [x1, y1, x2, y2] or None (a label without a location: RSNA cancer, CMMD), "category": str}
    findings: list[dict] = field(default_factory=list)
    patient: str = ""  # the dataset's own patient unit (OMI-DB client, VinDr study); else the header's
    status: str = ""  # the patient's screening outcome where the dataset records one (OMI-DB's NBSS)
    implant: bool = False  # the table says the breast has an implant (RSNA), whatever the header says
    spot_magnified: bool = False  # the table says it is a spot or magnification view (EMBED spot_mag)
    reject: str = ""  # set by the adapter for table/file mismatches
    reject_detail: str = ""


class EmptyDataset(ValueError):
    """A dataset root (or its table) yielded no candidate: the wrong folder or the wrong adapter."""

    def __init__(self, adapter: str, root: Path, expected: str, found: str = "") -> None:
        message = f"adapter {adapter!r} found no images under {root}; it expects {expected}"
        super().__init__(message + (f" ({found})" if found else ""))


def child(folder: Path, name: str) -> Path | None:
    """The entry of `folder` called `name`, matched case-insensitively (exact match first)."""
    exact = folder / name
    if exact.exists():
        return exact
    if not folder.is_dir():
        return None
    lowered = name.lower()
    matches = sorted(p for p in folder.iterdir() if p.name.lower() == lowered)
    return matches[0] if matches else None


def files_with_suffix(folder: Path, suffixes: tuple[str, ...], depth: int) -> Iterator[Path]:
    """Files exactly `depth` levels below `folder` whose suffix is one of `suffixes` (any case)."""
    if not folder.is_dir():
        return
    pattern = "/".join(["*"] * depth)
    wanted = {s.lower() for s in suffixes}
    for path in sorted(folder.glob(pattern)):
        if path.is_file() and path.suffix.lower() in wanted:
            yield path


def clean(value) -> str:
    """A table cell as stripped text ('' for missing)."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def density_letter(value) -> str:
    """'DENSITY C', 'c', '3', 3.0 -> 'C'; anything else -> ''."""
    text = clean(value).upper().replace("DENSITY", "").strip()
    if text in ("1", "2", "3", "4", "1.0", "2.0", "3.0", "4.0"):
        return "ABCD"[int(float(text)) - 1]
    return text if text in ("A", "B", "C", "D") else ""


def sorted_box(x1: float, y1: float, x2: float, y2: float) -> list[float]:
    """Corners in (left, top, right, bottom) order whichever way the annotator drew them."""
    return [min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)]


def relative_to(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def unlisted(root: Path, on_disk: dict, listed: set) -> Iterator[Candidate]:
    """A `not_in_table` candidate for every delivered file (keyed as in `on_disk`) no table row names."""
    for key, path in sorted(on_disk.items()):
        if key not in listed:
            yield Candidate(relative=relative_to(root, path), reject="not_in_table")
