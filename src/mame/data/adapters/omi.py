"""OMI-DB (the study's OMI-H) read by its maintainers' own parser, the `omidb` package (MIT).

Layout, as `omidb.DB` reads it: `data/<client>/imagedb_<client>.json` (or `IMAGEDB_`), `nbss_<client>.json`
(or `NBSS_`), `data/<client>/<study uid>/<image uid>.json` (per-image DICOM JSON headers), and
`images/<client>/<study uid>/<image uid>.dcm`. A client is one woman. The study built its OMI-H set with
`omidb.DB` as well, so reading through it keeps our images, marks and statuses the ones the study saw.

What `omidb` drops it logs (with loguru) and carries on; here nothing is dropped silently: a client it
cannot parse, an image whose mark it cannot parse, a DICOM it does not list and an image it lists without
a file all become rejects with a reason.
"""

from __future__ import annotations

import logging
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mame.data.adapters.base import (
    Candidate,
    EmptyDataset,
    child,
    files_with_suffix,
    relative_to,
    sorted_box,
)

log = logging.getLogger(__name__)

EXPECTED = (
    "data/<client>/imagedb_<client>.json + nbss_<client>.json and images/<client>/<study>/<image>.dcm, "
    "client folders named demd… or optm… (OMI-DB as the `omidb` package reads it)"
)
CLIENT_PREFIXES = ("demd", "optm")
# omidb's Mark flags -> the category names the manifests select by (VinDr's words where they exist)
MARK_CATEGORIES = {
    "mass": "Mass",
    "suspicious_calcifications": "Suspicious Calcification",
    "architectural_distortion": "Architectural Distortion",
    "focal_asymmetry": "Focal Asymmetry",
    "calcifications": "With Calcification",
    "dystrophic_calcification": "Dystrophic Calcification",
    "fat_necrosis": "Fat Necrosis",
    "milk_of_calcium": "Milk Of Calcium",
    "other_benign_cluster": "Other Benign Cluster",
    "plasma_cell_mastitis": "Plasma Cell Mastitis",
    "benign_skin_feature": "Benign Skin Feature",
    "suture_calcification": "Suture Calcification",
    "vascular_feature": "Vascular Feature",
}
UNSPECIFIED = "Unspecified"  # a mark with no flag set: kept, never selected by default
NORMAL_STATUS = "Normal"
_MARK_FAILURE = re.compile(r"Failed to parse mark data of (\S+) ([\d.]+)\.dcm")
_CLIENT_FAILURE = re.compile(r"Failed to parse (\S+), skipping")


def mark_findings(mark) -> list[dict]:
    """One finding per flag an `omidb.mark.Mark` carries, all with its (sorted) bounding box."""
    box = mark.boundingBox
    corners = sorted_box(float(box.x1), float(box.y1), float(box.x2), float(box.y2))
    categories = [name for flag, name in MARK_CATEGORIES.items() if getattr(mark, flag, None)]
    return [{"box": corners, "category": category} for category in categories or [UNSPECIFIED]]


class OmidbMessages:
    """What `omidb` logged while parsing: failures by client / image, and warnings counted by kind."""

    def __init__(self) -> None:
        self.failed_clients: dict[str, str] = {}
        self.failed_marks: dict[str, str] = {}  # image uid -> reason
        self.warnings: Counter[str] = Counter()

    def __call__(self, message) -> None:
        record = message.record
        text = record["message"]
        error = record["exception"]
        reason = f"{error.type.__name__}: {error.value}" if error is not None and error.type else ""
        if found := _MARK_FAILURE.search(text):
            self.failed_marks[found.group(2)] = reason or text
        elif found := _CLIENT_FAILURE.search(text):
            self.failed_clients[found.group(1)] = reason or text
        elif record["level"].no >= 30:  # WARNING and above; omidb's INFO is one line per study
            # "<client>/Episode <n>: what happened" -> "what happened" with ids folded away
            kind = re.sub(r"[\d.]{6,}", "<uid>", text.split(": ", 1)[-1])
            self.warnings[re.sub(r"\d+", "<n>", kind)[:120]] += 1

    def log_summary(self) -> None:
        for kind, count in self.warnings.most_common():
            log.info("omidb warned %d x: %s", count, kind)


@contextmanager
def omidb_messages() -> Iterator[OmidbMessages]:
    """Route omidb's loguru output into one collector (no per-study lines on the console).

    omidb disables its own logger on import, which would hide the mark and client failures; it is
    enabled for the parse with loguru's console handler swapped for the collector, then put back."""
    from loguru import logger

    messages = OmidbMessages()
    logger.remove()
    sink = logger.add(messages, level="DEBUG", filter="omidb")
    logger.enable("omidb")
    try:
        yield messages
    finally:
        logger.disable("omidb")
        logger.remove(sink)
        logger.add(sys.stderr)  # loguru's own default handler
        messages.log_summary()


def omi_candidates(root: Path) -> Iterator[Candidate]:
    """Every image `omidb` lists (marks, client as patient, NBSS status), then the files it does not."""
    import omidb

    data_dir, image_dir = child(root, "data"), child(root, "images")
    if data_dir is None or image_dir is None or not data_dir.is_dir():
        present = sorted(p.name for p in root.iterdir())[:10] if root.is_dir() else []
        raise EmptyDataset("omi", root, EXPECTED, f"it holds {present}")
    clients = sorted(
        p.name for p in data_dir.iterdir() if p.is_dir() and p.name[:4].lower() in CLIENT_PREFIXES
    )
    if not clients:
        raise EmptyDataset("omi", root, EXPECTED, f"no client folder in {data_dir.name}/")
    on_disk = {
        (path.parts[-3].lower(), path.parts[-2], path.stem): path
        for path in files_with_suffix(image_dir, (".dcm",), depth=3)
    }
    with omidb_messages() as messages:
        parsed = sorted(omidb.DB(data_dir, image_dir, clients=clients), key=lambda client: client.id)
    listed: set[tuple[str, str, str]] = set()
    for client in parsed:
        status = client.status.value
        for episode in client.episodes:
            for study in episode.studies:
                for series in study.series:
                    for image in series.images:
                        key = (client.id.lower(), study.id, image.id)
                        if key in listed:
                            continue
                        listed.add(key)
                        path = on_disk.get(key)
                        relative = (
                            relative_to(root, path)
                            if path is not None
                            else f"{image_dir.name}/{client.id}/{study.id}/{image.id}.dcm"
                        )
                        candidate = Candidate(
                            relative=relative,
                            findings=[f for mark in image.marks for f in mark_findings(mark)],
                            patient=client.id,
                            status=status,
                        )
                        if path is None:
                            candidate.reject = "file_missing"
                        elif image.id in messages.failed_marks:
                            candidate.reject = "marks_unreadable"
                            candidate.reject_detail = messages.failed_marks[image.id]
                        yield candidate
    for key, path in sorted(on_disk.items()):
        if key in listed:
            continue
        client = next((c for c in clients if c.lower() == key[0]), "")
        if client in messages.failed_clients:
            why = f"omidb could not parse the client's records ({messages.failed_clients[client]})"
        elif not client:
            why = "no data/ folder for this client"
        else:
            why = "not in omidb's parse of the client (not in its imagedb, or its study has no NBSS episode)"
        yield Candidate(relative=relative_to(root, path), reject="not_in_table", reject_detail=why)
