"""RSNA Screening Mammography (Kaggle 2023): `train.csv` and `train_images/<patient_id>/<image_id>.dcm`.

Columns: site_id, patient_id, image_id, laterality, view, age, cancer, biopsy, invasive, BIRADS,
implant, density (A-D, often blank), machine_id, difficult_negative_case. `cancer` is a label per image
without a location: such an image is neither healthy nor usable for inpainting, and the manifests say
so (`lesion_without_box`). `implant` = 1 is honoured like the header's BreastImplantPresent.
"""

from __future__ import annotations

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
    unlisted,
)

EXPECTED = "train.csv and train_images/<patient_id>/<image_id>.dcm (RSNA Screening Mammography)"
CANCER = "Cancer"


def rsna_candidates(root: Path) -> Iterator[Candidate]:
    table = child(root, "train.csv")
    if table is None:
        raise EmptyDataset("rsna", root, EXPECTED, "train.csv is missing")
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    images = child(root, "train_images") or root / "train_images"
    on_disk = {(p.parent.name, p.stem): p for p in files_with_suffix(images, (".dcm", ".dicom"), 2)}
    listed = set()
    for row in frame.itertuples(index=False):
        key = (row.patient_id, row.image_id)
        listed.add(key)
        path = on_disk.get(key)
        yield Candidate(
            relative=relative_to(root, path) if path else f"train_images/{row.patient_id}/{row.image_id}.dcm",
            laterality=clean(row.laterality),
            view=clean(row.view),
            density=density_letter(row.density),
            findings=[{"box": None, "category": CANCER}] if clean(row.cancer) == "1" else [],
            patient=row.patient_id,
            implant=clean(row.implant) == "1",
            reject="" if path else "file_missing",
        )
    yield from unlisted(root, on_disk, listed)
