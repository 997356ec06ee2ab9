"""The loss log of a run (results/models/<model>/training_log.csv): one row per optimizer step."""

from __future__ import annotations

import csv
from pathlib import Path

COLUMNS = ["step", "loss", "lr", "seconds"]


def open_log(path: Path, resumed_at: int, saved: Path | None = None) -> None:
    """Start the log, or continue a resumed run's log up to its step: from the checkpoint's copy
    (`saved`) when there is one, else from `path`."""
    source = saved if saved is not None and saved.exists() else path
    rows = list(csv.reader(source.open())) if resumed_at and source.exists() else []
    kept = [row for row in rows[1:] if row and int(row[0]) <= resumed_at]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(kept)


def append_row(path: Path, step: int, loss: float, lr: float, seconds: float) -> None:
    with path.open("a", newline="") as handle:
        csv.writer(handle).writerow([step, f"{loss:.6f}", f"{lr:.3e}", f"{seconds:.1f}"])
