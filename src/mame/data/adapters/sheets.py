"""Label sheets as datasets ship them: CSV (any delimiter), .xlsx (openpyxl) or legacy .xls (xlrd)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from mame.data.adapters.base import child

SHEET_SUFFIXES = (".xlsx", ".xls", ".csv")


def find_sheet(root: Path, stem: str) -> Path | None:
    """`stem` with any of the sheet suffixes, matched case-insensitively."""
    for suffix in SHEET_SUFFIXES:
        found = child(root, stem + suffix)
        if found is not None:
            return found
    return None


def read_sheet(path: Path) -> pd.DataFrame:
    """Every cell as text ('' for empty); column names stripped."""
    if path.suffix.lower() in (".xlsx", ".xls"):
        frame = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        with path.open(newline="") as handle:
            delimiter = csv.Sniffer().sniff(handle.read(4096), delimiters=",;\t").delimiter
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=delimiter)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def integer_text(value: str) -> str:
    """'20586908.0' (a spreadsheet's number) -> '20586908'; other text unchanged."""
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value
