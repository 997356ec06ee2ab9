"""A generic CSV for any other dataset: `path` (relative to the root) and optional labels.

Columns: path, and any of laterality, view, density, split, patient, and one finding per row in
x1, y1, x2, y2, category (repeat the path for more findings).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from mame.data.adapters.base import Candidate, clean, density_letter, sorted_box

EXPECTED = "a CSV whose `path` column names files under the root (paths relative to it)"
UNSPECIFIED = "Unspecified"  # a box without a category: kept, never selected by default


def table_candidates(root: Path, table: Path) -> Iterator[Candidate]:
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    if "path" not in frame.columns:
        raise ValueError(f"table {table} needs a 'path' column; it has {list(frame.columns)}")
    for relative, rows in frame.groupby("path", sort=True):
        first = rows.iloc[0]
        findings = []
        if {"x1", "y1", "x2", "y2"} <= set(rows.columns):
            for _, row in rows.iterrows():
                if row["x1"] != "":
                    box = sorted_box(*(float(row[k]) for k in ("x1", "y1", "x2", "y2")))
                    findings.append({"box": box, "category": row.get("category", "") or UNSPECIFIED})
        yield Candidate(
            relative=relative,
            laterality=clean(first.get("laterality")),
            view=clean(first.get("view")),
            density=density_letter(first.get("density")),
            split=clean(first.get("split")),
            patient=clean(first.get("patient")),
            findings=findings,
            reject="" if (root / relative).exists() else "file_missing",
        )
