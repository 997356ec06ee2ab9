"""Index a dataset from its headers (no pixels): one row per usable image, one reject per other file.

Adapters (`mame.data.adapters`, one per delivered layout) turn a dataset into candidates: a file plus
what its tables say about it. The header checks after that are shared, so every dataset is filtered by
the same rules, and a header that contradicts its table is a reject, not a guess.
The index holds source paths and is therefore private (results/work/); everything downstream
names images by their salted key only.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from mame.data.adapters import ADAPTERS, Candidate, candidates
from mame.data.dicom import NATIVE_SYNTAXES, check_pixel_data_complete, read_header
from mame.data.privacy import pseudonym, scrub
from mame.data.rejections import Rejection
from mame.logs import WarningTally, library_messages
from mame.prompts import VIEWS

log = logging.getLogger(__name__)

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
    "status",
    "implant_tag",
]
MG_FOR_PROCESSING_CLASSES = ("1.2.840.10008.5.1.4.1.1.1.2.1", "1.2.840.10008.5.1.4.1.1.1.3.1")
MODIFIED_VIEWS = ("spot", "magnif")  # View Modifier Code Sequence meanings that are not a screening view
# SNOMED CT codes of the two, for writers that leave out the meaning
MODIFIED_VIEW_CODES = {"399055006": "Spot Compression", "399163009": "Magnification"}


@dataclass(frozen=True)
class IndexFilters:
    """What the study keeps; every exclusion is a reject with a reason."""

    views: tuple[str, ...] = VIEWS
    manufacturers: tuple[str, ...] = ()  # empty: any; otherwise case-insensitive prefixes
    exclude_implants: bool = True
    exclude_spot_magnified: bool = True


# --- header checks --------------------------------------------------------------------------------


def view_modifiers(ds) -> list[str]:
    """Meanings of View Code Sequence > View Modifier Code Sequence (spot compression, magnification)."""
    found = []
    for view in getattr(ds, "ViewCodeSequence", None) or []:
        for modifier in getattr(view, "ViewModifierCodeSequence", None) or []:
            meaning = str(getattr(modifier, "CodeMeaning", "") or "")
            code = str(getattr(modifier, "CodeValue", "") or "")
            found.append(meaning or MODIFIED_VIEW_CODES.get(code, code))
    return found


CODED_VIEWS = {
    "cranio-caudal": "CC",
    "medio-lateral oblique": "MLO",
    "medio-lateral": "ML",
    "latero-medial": "LM",
    "exaggerated cranio-caudal": "XCCL",
}


def coded_view(ds) -> str:
    """The view from View Code Sequence's meaning, for headers without ViewPosition (e.g. CMMD)."""
    for view in getattr(ds, "ViewCodeSequence", None) or []:
        meaning = str(getattr(view, "CodeMeaning", "") or "").strip().lower()
        if meaning in CODED_VIEWS:
            return CODED_VIEWS[meaning]
    return ""


def _header_text(ds, keyword: str) -> str:
    return str(getattr(ds, keyword, "") or "").strip().upper()


def inspect(root: Path, candidate: Candidate, filters: IndexFilters, ds=None) -> dict:
    """Header-only checks shared by all adapters. Returns index fields or raises Rejection.

    `ds`: the header already read with `read_header(path, pixel_extent=True)` (the audit reads it once
    for its counts and these checks)."""
    if candidate.reject:
        raise Rejection(candidate.reject, candidate.reject_detail)
    path = root / candidate.relative
    if ds is None:  # one parse serves the filters and the truncation check
        ds = read_header(path, pixel_extent=True)
    modality = _header_text(ds, "Modality")
    if modality != "MG":
        raise Rejection("not_mammogram", f"Modality is {modality or 'missing'}")
    intent = _header_text(ds, "PresentationIntentType")
    # VinDr's de-identification removed SOPClassUID; the file meta keeps the storage class
    sop_class = str(getattr(ds, "SOPClassUID", "") or ds.file_meta.get("MediaStorageSOPClassUID", ""))
    if intent == "FOR PROCESSING" or sop_class in MG_FOR_PROCESSING_CLASSES:
        raise Rejection("for_processing")
    header_view, table_view = (
        _header_text(ds, "ViewPosition") or coded_view(ds),
        candidate.view.strip().upper(),
    )
    if header_view and table_view and header_view != table_view:
        raise Rejection("header_table_mismatch", f"view: header {header_view}, table {table_view}")
    view = header_view or table_view
    if view not in filters.views:
        raise Rejection("view_not_selected", f"view {view or 'missing'} not in {list(filters.views)}")
    modifiers = view_modifiers(ds)
    if filters.exclude_spot_magnified and any(m in x.lower() for x in modifiers for m in MODIFIED_VIEWS):
        raise Rejection("spot_or_magnified", ", ".join(modifiers))
    if filters.exclude_spot_magnified and candidate.spot_magnified:
        raise Rejection("spot_or_magnified", "the dataset's table marks a special view")
    header_side = _header_text(ds, "ImageLaterality") or _header_text(ds, "Laterality")
    table_side = candidate.laterality.strip().upper()
    if header_side in ("L", "R") and table_side in ("L", "R") and header_side != table_side:
        raise Rejection("header_table_mismatch", f"laterality: header {header_side}, table {table_side}")
    laterality = header_side or table_side
    if laterality not in ("L", "R"):
        raise Rejection("no_laterality", f"laterality {laterality!r}" if laterality else "")
    manufacturer = str(getattr(ds, "Manufacturer", "") or "")
    if filters.manufacturers and not any(
        manufacturer.upper().startswith(m.upper()) for m in filters.manufacturers
    ):
        raise Rejection(
            "manufacturer_not_selected", f"{manufacturer or 'missing'} not in {list(filters.manufacturers)}"
        )
    implant = _header_text(ds, "BreastImplantPresent")
    if filters.exclude_implants and (implant == "YES" or candidate.implant):
        raise Rejection("implant", "" if implant == "YES" else "the dataset's table says so")
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
        "implant_tag": implant or "absent",
        "patient_source": candidate.patient
        or str(getattr(ds, "PatientID", "") or "")
        or str(getattr(ds, "StudyInstanceUID", "")),
    }


def _inspect_one(
    job: tuple[Path, Candidate, IndexFilters],
) -> tuple[Candidate, dict | None, Rejection | None, list[tuple[str, str]]]:
    """One file's checks, with the library warnings it raised returned (a worker's stderr is not the log)."""
    root, candidate, filters = job
    with library_messages() as caught:
        try:
            fields, rejection = inspect(root, candidate, filters), None
        except Rejection as error:
            fields, rejection = None, error
    return candidate, fields, rejection, caught


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
    """Return (index, rejects). Rejects carry key, stage, reason, detail and the private source.

    Raises EmptyDataset when the root (or table) yields no file at all: a wrong path is not 0 images."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"dataset {dataset!r}: root folder {root} does not exist (datasets.{dataset}.root)"
        )
    if adapter not in ADAPTERS:
        raise ValueError(f"adapter {adapter!r} unknown; expected one of {ADAPTERS}")
    found = candidates(adapter, root, Path(table) if table else None)
    jobs = [(root, candidate, filters) for candidate in found]
    rows, rejects = [], []
    tally = WarningTally()
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_inspect_one, jobs, chunksize=64)
            results = list(tqdm(results, total=len(jobs), desc=f"index {dataset}", unit="file", disable=None))
    else:
        results = [
            _inspect_one(job) for job in tqdm(jobs, desc=f"index {dataset}", unit="file", disable=None)
        ]
    for candidate, fields, rejection, caught in results:
        tally.add_all(caught)
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
                "status": candidate.status,
                **fields,
            }
        )
    tally.log_summary(log, f"index {dataset}")
    index = pd.DataFrame(rows, columns=INDEX_COLUMNS).sort_values("key", kind="stable").reset_index(drop=True)
    rejects_frame = pd.DataFrame(rejects, columns=["key", "stage", "reason", "detail", "source"])
    if len(index) and not (index["implant_tag"] != "absent").any():
        log.warning(
            "index %s: no file carries BreastImplantPresent (0028,1300): implants cannot be excluded", dataset
        )
    log.info("index %s: %d images kept, %d rejected", dataset, len(index), len(rejects_frame))
    return index, rejects_frame


def filters_from_settings(settings: dict) -> IndexFilters:
    return IndexFilters(
        views=tuple(v.upper() for v in settings.get("views", VIEWS)),
        manufacturers=tuple(settings.get("manufacturers", ())),
        exclude_implants=bool(settings.get("exclude_implants", True)),
        exclude_spot_magnified=bool(settings.get("exclude_spot_magnified", True)),
    )
