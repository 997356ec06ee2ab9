"""A sweep's samples (samples.csv) exported as DICOM and validated: what the export_dicom rule and
`mame export-dicom` both run."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pandas as pd

from mame.export.dicom import SampleRecord, export_samples
from mame.export.validation import validate

log = logging.getLogger(__name__)


def records_from_samples(samples: pd.DataFrame, base: str | Path = ".") -> list[SampleRecord]:
    """samples.csv rows as records; file paths relative to `base`."""
    base = Path(base)
    text = samples.fillna("")
    return [
        SampleRecord(
            file=str(base / row["file"]),
            model=str(row["model"]),
            prompt=str(row["prompt"]),
            guidance=float(row["guidance"]),
            seed=int(row["seed"]),
            steps=int(row["steps"]),
            view=str(row.get("view", "")),
            laterality=str(row.get("laterality", "")),
            negative_prompt=str(row.get("negative_prompt", "")),
        )
        for _, row in text.iterrows()
    ]


def export_sweep(
    samples: pd.DataFrame,
    folder: str | Path,
    table: str | Path,
    summary_path: str | Path,
    base: str | Path = ".",
) -> dict:
    """Export every sample into `folder`, validate every file, write the per-file table (sample, DICOM,
    SOP Instance UID, validation counts) and the summary JSON the report shows; return the summary."""
    started = time.perf_counter()
    records = records_from_samples(samples, base)
    rows = pd.DataFrame(export_samples(records, folder))
    exported = time.perf_counter() - started
    checks, summary = validate(rows["dicom"].tolist())
    rows = rows.merge(pd.DataFrame(checks), on="dicom")
    rows.to_csv(table, index=False)
    summary = {"folder": str(folder), **summary, "seconds": round(time.perf_counter() - started, 1)}
    Path(summary_path).write_text(json.dumps(summary, indent=2) + "\n")
    log.info(
        "exported %d DICOM files in %.1f s (%.0f files/s); validation: %s, %d files with problems",
        len(rows),
        exported,
        len(rows) / max(exported, 1e-9),
        summary["validator"],
        summary["files_with_problems"],
    )
    return summary
