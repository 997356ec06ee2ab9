"""Lesions painted into full-field images, exported as DICOM Secondary Capture objects that keep the
source's geometry: Conversion Type SYN, the full-field pixel spacing, and the source's laterality.
Right breasts, which the conversion mirrors to the training convention, are mirrored back to the
orientation they were acquired in, so that the orientation codes are true."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mame.export.dicom import SampleRecord, secondary_capture
from mame.io import read_pixels


def export_painted(rows: list[dict]) -> list[dict]:
    """Write each painted full field (`mame.sampling.full_field_panels.paint_full_fields` rows) as
    DICOM beside its PNG; the rows with `dicom` added."""
    exported = []
    for row in rows:
        pixels = read_pixels(row["after"])
        laterality = row["laterality"] if row["laterality"] in ("L", "R") else "L"
        shown = np.ascontiguousarray(np.fliplr(pixels) if laterality == "R" else pixels)
        record = SampleRecord(
            file=row["after"],
            model=row["model"],
            prompt=row["prompt"],
            guidance=float(row["guidance"]),
            seed=int(row["seed"]),
            steps=int(row["steps"]),
            view=row["view"],
            laterality=laterality,
        )
        spacing = (row["spacing_row_mm"], row["spacing_col_mm"])
        has_spacing = all(np.isfinite(spacing))
        target = Path(row["after"]).with_suffix(".dcm")
        dataset = secondary_capture(record, shown, spacing=spacing if has_spacing else None)
        dataset.save_as(target, enforce_file_format=True)
        exported.append({**row, "dicom": str(target)})
    return exported
