"""Index a dataset from its headers (no pixels): one row per usable image, one reject per other file.

Adapters turn a dataset layout into candidates (a file plus what its tables say about it):
`vindr` (VinDr-Mammo CSVs), `omi` (OMI-DB imagedb JSON), `table` (a generic CSV of paths and
labels). The header checks after that are shared, so every dataset is filtered by the same rules.
The index holds source paths and is therefore private (results/work/); everything downstream
names images by their salted key only.
"""

from __future__ import annotations

import ast
import json
import logging
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from mame.data.dicom import NATIVE_SYNTAXES, check_pixel_data_complete, read_header
from mame.data.privacy import pseudonym, scrub
from mame.data.rejections import Rejection
from mame.prompts import VIEWS

log = logging.getLogger(__name__)

ADAPTERS = ("vindr", "omi", "table")
DECODABLE_SYNTAXES = NATIVE_SYNTAXES | {
    "1.2.840.10008.1.2.1.99",  # deflated explicit VR little endian
    "1.2.840.10008.1.2.4.50",  # JPEG baseline
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57",  # JPEG lossless
    "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80",  # JPEG-LS
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91",  # JPEG 2000
    "1.2.840.10008.1.2.4.201",  # HTJ2K
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
    "1.2.840.10008.1.2.5",  # RLE lossless
}
INDEX_COLUMNS = [
    "key",
    "patient",
    "source",
    "vendor",
    "manufacturer",
    "view",
    "laterality",
    "density",
    "findings",
    "split",
    "rows",
    "cols",
    "bits_stored",
    "photometric",
    "voi",
    "transfer_syntax",
]


@dataclass
class Candidate:
    """A file the dataset's tables know about, with the labels they give it."""

    relative: str  # path relative to the dataset root, as a POSIX string
    laterality: str = ""
    view: str = ""
    density: str = ""
    split: str = ""
    findings: list[dict] = field(default_factory=list)  # {"box": [x1, y1, x2, y2], "category": str}
    reject: str = ""  # set by the adapter for table/file mismatches


@dataclass(frozen=True)
class IndexFilters:
    """What the study keeps; every exclusion is a reject with a reason."""

    views: tuple[str, ...] = VIEWS
    manufacturers: tuple[str, ...] = ()  # empty: any; otherwise case-insensitive prefixes
    exclude_implants: bool = True


# --- adapters -------------------------------------------------------------------------------------


def _clean(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()


def vindr_candidates(root: Path) -> Iterator[Candidate]:
    """VinDr-Mammo: images/<study_id>/<image_id>.dicom + breast-level and finding CSVs."""
    breast = pd.read_csv(root / "breast-level_annotations.csv", dtype=str, keep_default_na=False)
    findings = pd.read_csv(root / "finding_annotations.csv", dtype=str, keep_default_na=False)
    boxes: dict[str, list[dict]] = {}
    for row in findings.itertuples(index=False):
        categories = ast.literal_eval(row.finding_categories) if row.finding_categories else []
        categories = [c for c in categories if c != "No Finding"]
        if not categories:
            continue
        box = [float(row.xmin), float(row.ymin), float(row.xmax), float(row.ymax)]
        for category in categories:
            boxes.setdefault(row.image_id, []).append({"box": box, "category": category})
    listed = set()
    for row in breast.itertuples(index=False):
        relative = f"images/{row.study_id}/{row.image_id}.dicom"
        listed.add(relative)
        yield Candidate(
            relative=relative,
            laterality=_clean(row.laterality),
            view=_clean(row.view_position),
            density=_clean(row.breast_density).replace("DENSITY", "").strip(),
            split=_clean(row.split),
            findings=boxes.get(row.image_id, []),
            reject="" if (root / relative).exists() else "file_missing",
        )
    for path in sorted((root / "images").glob("*/*.dicom")):
        relative = path.relative_to(root).as_posix()
        if relative not in listed:
            yield Candidate(relative=relative, reject="not_in_table")


def omi_candidates(root: Path) -> Iterator[Candidate]:
    """OMI-DB: images/<client>/<study>/<image>.dcm + data/<client>/imagedb_<client>.json marks."""
    marks: dict[str, list[dict]] = {}
    for db_path in sorted((root / "data").glob("*/imagedb_*.json")):
        database = json.loads(db_path.read_text())
        for study in database.get("STUDIES", {}).values():
            for series in study.get("SERIES", {}).values():
                for image_uid, image in series.items():
                    if not isinstance(image, dict):
                        continue
                    for mark in image.get("marks", image.get("MARKS", [])) or []:
                        box = [float(mark[k]) for k in ("X1", "Y1", "X2", "Y2")]
                        category = _omi_category(mark)
                        marks.setdefault(image_uid, []).append({"box": box, "category": category})
    for path in sorted((root / "images").glob("*/*/*.dcm")):
        yield Candidate(relative=path.relative_to(root).as_posix(), findings=marks.get(path.stem, []))


def _omi_category(mark: dict) -> str:
    kind = str(mark.get("LesionType") or mark.get("lesion_type") or "").lower()
    if "calc" in kind:
        return "Suspicious Calcification"
    if "distortion" in kind:
        return "Architectural Distortion"
    if "asym" in kind:
        return "Asymmetry"
    return "Mass"


def table_candidates(root: Path, table: Path) -> Iterator[Candidate]:
    """A generic CSV: `path` (relative to root) and optional laterality, view, density, split, and
    one finding per row in x1, y1, x2, y2, category (repeat the path for more findings)."""
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    if "path" not in frame.columns:
        raise ValueError(f"table {table} needs a 'path' column; it has {list(frame.columns)}")
    for relative, rows in frame.groupby("path", sort=True):
        first = rows.iloc[0]
        findings = []
        if {"x1", "y1", "x2", "y2"} <= set(rows.columns):
            for _, row in rows.iterrows():
                if row["x1"] != "":
                    box = [float(row[k]) for k in ("x1", "y1", "x2", "y2")]
                    findings.append({"box": box, "category": row.get("category", "") or "Mass"})
        yield Candidate(
            relative=relative,
            laterality=_clean(first.get("laterality")),
            view=_clean(first.get("view")),
            density=_clean(first.get("density")).replace("DENSITY", "").strip(),
            split=_clean(first.get("split")),
            findings=findings,
            reject="" if (root / relative).exists() else "file_missing",
        )


def candidates(adapter: str, root: Path, table: Path | None = None) -> list[Candidate]:
    if adapter == "vindr":
        return list(vindr_candidates(root))
    if adapter == "omi":
        return list(omi_candidates(root))
    if adapter == "table":
        if table is None:
            raise ValueError(
                "adapter 'table' needs the dataset's `table` setting (a CSV of paths and labels)"
            )
        return list(table_candidates(root, table))
    raise ValueError(f"adapter {adapter!r} unknown; expected one of {ADAPTERS}")


# --- header checks --------------------------------------------------------------------------------


def inspect(root: Path, candidate: Candidate, filters: IndexFilters) -> dict:
    """Header-only checks shared by all adapters. Returns index fields or raises Rejection."""
    if candidate.reject:
        raise Rejection(candidate.reject)
    path = root / candidate.relative
    ds = read_header(path, pixel_extent=True)  # one parse serves the filters and the truncation check
    modality = str(getattr(ds, "Modality", "")).upper()
    if modality != "MG":
        raise Rejection("not_mammogram", f"Modality is {modality or 'missing'}")
    intent = str(getattr(ds, "PresentationIntentType", "")).upper()
    sop_class = str(getattr(ds, "SOPClassUID", ""))
    if intent == "FOR PROCESSING" or sop_class.endswith(".1.2.1") or sop_class.endswith(".1.3.1"):
        raise Rejection("for_processing")
    view = str(getattr(ds, "ViewPosition", "") or candidate.view).upper()
    if view not in filters.views:
        raise Rejection("view_not_selected", f"view {view or 'missing'} not in {list(filters.views)}")
    laterality = str(
        getattr(ds, "ImageLaterality", "") or getattr(ds, "Laterality", "") or candidate.laterality
    )
    laterality = laterality.upper()
    if laterality not in ("L", "R"):
        raise Rejection("no_laterality", f"laterality {laterality!r}" if laterality else "")
    manufacturer = str(getattr(ds, "Manufacturer", ""))
    if filters.manufacturers and not any(
        manufacturer.upper().startswith(m.upper()) for m in filters.manufacturers
    ):
        raise Rejection(
            "manufacturer_not_selected", f"{manufacturer or 'missing'} not in {list(filters.manufacturers)}"
        )
    if filters.exclude_implants and str(getattr(ds, "BreastImplantPresent", "")).upper() == "YES":
        raise Rejection("implant")
    syntax = str(ds.file_meta.get("TransferSyntaxUID", ""))
    if syntax not in DECODABLE_SYNTAXES:
        raise Rejection("unsupported_transfer_syntax", f"transfer syntax {syntax or 'missing'}")
    check_pixel_data_complete(ds, path)
    if "VOILUTSequence" in ds:
        voi = "sequence"
    elif "WindowCenter" in ds:
        voi = f"window:{getattr(ds, 'VOILUTFunction', 'LINEAR') or 'LINEAR'}"
    else:
        voi = "none"
    return {
        "view": view,
        "laterality": laterality,
        "manufacturer": manufacturer,
        "rows": int(ds.Rows),
        "cols": int(ds.Columns),
        "bits_stored": int(getattr(ds, "BitsStored", ds.BitsAllocated)),
        "photometric": str(ds.PhotometricInterpretation),
        "voi": voi,
        "transfer_syntax": syntax,
        "patient_source": str(getattr(ds, "PatientID", "")) or str(getattr(ds, "StudyInstanceUID", "")),
    }


def _inspect_one(
    job: tuple[Path, Candidate, IndexFilters],
) -> tuple[Candidate, dict | None, Rejection | None]:
    root, candidate, filters = job
    try:
        return candidate, inspect(root, candidate, filters), None
    except Rejection as rejection:
        return candidate, None, rejection


def build_index(
    dataset: str,
    adapter: str,
    root: str | Path,
    vendor: str,
    salt: str,
    filters: IndexFilters,
    table: str | Path | None = None,
    workers: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (index, rejects). Rejects carry key, stage, reason, detail and the private source."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"dataset {dataset!r}: root folder {root} does not exist (datasets.{dataset}.root)"
        )
    found = candidates(adapter, root, Path(table) if table else None)
    jobs = [(root, candidate, filters) for candidate in found]
    rows, rejects = [], []
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_inspect_one, jobs, chunksize=64)
            results = list(tqdm(results, total=len(jobs), desc=f"index {dataset}", unit="file", disable=None))
    else:
        results = [
            _inspect_one(job) for job in tqdm(jobs, desc=f"index {dataset}", unit="file", disable=None)
        ]
    for candidate, fields, rejection in results:
        key = pseudonym(salt, dataset, candidate.relative)
        source = str(root / candidate.relative)
        if rejection is not None:
            detail = scrub(rejection.detail, source, candidate.relative, str(root))
            rejects.append(
                {"key": key, "stage": "index", "reason": rejection.reason, "detail": detail, "source": source}
            )
            continue
        patient = pseudonym(salt, dataset, "patient", fields.pop("patient_source"))
        rows.append(
            {
                "key": key,
                "patient": patient,
                "source": source,
                "vendor": vendor,
                "density": candidate.density.upper(),
                "split": candidate.split,
                "findings": json.dumps(candidate.findings),
                **fields,
            }
        )
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS).sort_values("key", kind="stable").reset_index(drop=True)
    rejects_frame = pd.DataFrame(rejects, columns=["key", "stage", "reason", "detail", "source"])
    log.info("index %s: %d images kept, %d rejected", dataset, len(index), len(rejects_frame))
    return index, rejects_frame


def filters_from_settings(settings: dict) -> IndexFilters:
    return IndexFilters(
        views=tuple(v.upper() for v in settings.get("views", VIEWS)),
        manufacturers=tuple(settings.get("manufacturers", ())),
        exclude_implants=bool(settings.get("exclude_implants", True)),
    )
