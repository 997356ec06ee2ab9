"""Pre-flight audit of a dataset from its headers, before any GPU hour is spent on it.

Counts what is there (manufacturer, view, laterality, presentation intent, transfer syntax, bit depth,
photometric interpretation), what the index would reject and why, where header and table disagree or a
file and its row miss each other, lesions by category, and patients. It reads headers only, in parallel,
and reuses the index's adapters and checks, so its verdicts are the index's own. Counts only: no path,
name or identifier leaves it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from mame.data.adapters import Candidate, candidates
from mame.data.dicom import read_header
from mame.data.index import IndexFilters, inspect
from mame.data.rejections import REASONS, Rejection
from mame.logs import WarningTally, library_messages

log = logging.getLogger(__name__)

HEADER_FACTS = {
    "manufacturer": "Manufacturer",
    "view": "ViewPosition",
    "laterality": "ImageLaterality",
    "presentation_intent": "PresentationIntentType",
    "transfer_syntax": None,  # from the file meta
    "bits_stored": "BitsStored",
    "photometric": "PhotometricInterpretation",
}
TABLE_REASONS = ("file_missing", "not_in_table", "header_table_mismatch")
AUDIT_COLUMNS = ["section", "value", "files"]


def header_facts(ds) -> dict[str, str]:
    """The audited header fields of one dataset ('unreadable' for None: not DICOM)."""
    if ds is None:
        return dict.fromkeys(HEADER_FACTS, "unreadable")
    facts = {}
    for name, keyword in HEADER_FACTS.items():
        if keyword is None:
            value = ds.file_meta.get("TransferSyntaxUID", "")
        else:
            value = getattr(ds, keyword, "") or (
                getattr(ds, "Laterality", "") if name == "laterality" else ""
            )
        facts[name] = str(value).strip() or "missing"
    return facts


def _read(path: Path):
    """The header as the index reads it (pixel extent kept), else whatever of it reads, else None."""
    for extent in (True, False):
        try:
            return read_header(path, pixel_extent=extent), extent
        except Rejection:
            continue
    return None, False


def _audit_one(job: tuple[Path, Candidate, IndexFilters]) -> tuple[dict, list[tuple[str, str]]]:
    """One file's counts and the index's verdict on it, from one parse of its header."""
    root, candidate, filters = job
    with library_messages() as caught:
        facts, ds, complete = {}, None, False
        if candidate.reject != "file_missing":
            ds, complete = _read(root / candidate.relative)
            facts = header_facts(ds)
        try:
            inspect(root, candidate, filters, ds if complete else None)
            facts["outcome"] = "kept"
        except Rejection as rejection:
            facts["outcome"] = rejection.reason
    return facts, caught


def audit_dataset(
    adapter: str,
    root: str | Path,
    filters: IndexFilters | None = None,
    table: str | Path | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Counts per (section, value) for one dataset root; see the module docstring for the sections."""
    root = Path(root)
    filters = filters or IndexFilters()
    started = time.perf_counter()
    found = candidates(adapter, root, Path(table) if table else None)
    jobs = [(root, candidate, filters) for candidate in found]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(
                tqdm(pool.map(_audit_one, jobs, chunksize=64), total=len(jobs), desc="audit", disable=None)
            )
    else:
        results = [_audit_one(job) for job in tqdm(jobs, desc="audit", unit="file", disable=None)]
    counts: Counter[tuple[str, str]] = Counter()
    tally = WarningTally()
    for (facts, caught), candidate in zip(results, found, strict=True):
        tally.add_all(caught)
        counts[("files", "candidates")] += 1
        for name, value in facts.items():
            counts[(name, value)] += 1
        if facts["outcome"] in TABLE_REASONS:
            counts[("table_vs_header", facts["outcome"])] += 1
        if facts["outcome"] == "kept":
            counts[
                ("lesions", "images with a lesion" if candidate.findings else "images without a lesion")
            ] += 1
            for category in sorted({f["category"] for f in candidate.findings}):
                counts[("lesion_category", category)] += 1
            if candidate.status:
                counts[("screening_status", candidate.status)] += 1
    patients = {c.patient for c in found if c.patient}
    if patients:
        counts[("patients", "from the dataset's tables")] = len(patients)
    tally.log_summary(log, "audit")
    elapsed = time.perf_counter() - started
    log.info(
        "audit: %d files in %.1f s (%.2f s per 1000)",
        len(found),
        elapsed,
        1000 * elapsed / max(1, len(found)),
    )
    rows = [{"section": s, "value": v, "files": n} for (s, v), n in counts.items()]
    order = [
        "files",
        "outcome",
        "table_vs_header",
        *HEADER_FACTS,
        "lesions",
        "lesion_category",
        "screening_status",
        "patients",
    ]
    frame = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    frame["rank"] = frame["section"].map({s: i for i, s in enumerate(order)})
    return (
        frame.sort_values(["rank", "files", "value"], ascending=[True, False, True])
        .drop(columns="rank")
        .reset_index(drop=True)
    )


def audit_markdown(audit: pd.DataFrame, title: str) -> str:
    """The audit as a Markdown page: one small table per section, reject reasons explained."""
    lines = [f"# Pre-flight audit: {title}", ""]
    for section, rows in audit.groupby("section", sort=False):
        lines += [f"## {section.replace('_', ' ')}", "", "| value | files |", "|---|---:|"]
        for row in rows.itertuples(index=False):
            label = (
                f"{row.value} ({REASONS[row.value]})"
                if section in ("outcome", "table_vs_header") and row.value in REASONS
                else row.value
            )
            lines.append(f"| {label} | {row.files} |")
        lines.append("")
    return "\n".join(lines)
