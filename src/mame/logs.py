"""Logging for pipeline steps: a Snakemake script sends everything to its rule's log file."""

from __future__ import annotations

import logging
import sys

# notices from libraries that tell a user nothing they can act on, dropped by message
NOISE = {"transformers.utils.import_utils": ("requires torchvision (not installed)",)}


class _DropNotices(logging.Filter):
    def __init__(self, patterns: tuple[str, ...]) -> None:
        super().__init__()
        self.patterns = patterns

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(pattern in record.getMessage() for pattern in self.patterns)


def quiet_library_notices() -> None:
    """Drop the notices in NOISE (e.g. transformers' torchvision line on every pipeline load)."""
    for name, patterns in NOISE.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNotices) for f in logger.filters):
            logger.addFilter(_DropNotices(patterns))


def log_to(path: str | None = None, level: int = logging.INFO) -> None:
    """Send stderr (tracebacks, tqdm progress) and the `logging` records to `path` (or the console)."""
    if path:
        sys.stderr = open(path, "w", buffering=1)  # noqa: SIM115 - lives as long as the process
    logging.basicConfig(
        stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    quiet_library_notices()
