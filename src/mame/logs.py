"""Logging for pipeline steps: a Snakemake script sends everything to its rule's log file."""

from __future__ import annotations

import logging
import sys


def log_to(path: str | None = None, level: int = logging.INFO) -> None:
    """Send stderr (tracebacks, tqdm progress) and the `logging` records to `path` (or the console)."""
    if path:
        sys.stderr = open(path, "w", buffering=1)  # noqa: SIM115 - lives as long as the process
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
