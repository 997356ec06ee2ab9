"""Logging for pipeline steps: a Snakemake script sends everything to its rule's log file."""

from __future__ import annotations

import logging
import re
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

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


class WarningTally:
    """Library warnings counted by kind, logged once each: VinDr's md5 UIDs make pydicom warn on every
    file (20k lines), and a count says the same in one."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    @staticmethod
    def kind(message: str) -> str:
        """The message with its quoted values and long numbers folded, so one kind is one line."""
        folded = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
        return re.sub(r"\b[0-9a-fA-F.]{8,}\b", "…", folded)[:200]

    def add_all(self, caught: list[tuple[str, str]]) -> None:
        for category, message in caught:
            self.counts[(category, self.kind(message))] += 1

    def log_summary(self, logger: logging.Logger, what: str) -> None:
        for (category, kind), count in self.counts.most_common():
            logger.warning("%s: %s raised %d time(s): %s", what, category, count, kind)


class _Collect(logging.Handler):
    def __init__(self, into: list[tuple[str, str]]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:  # the first line only: tracebacks stay out of the log
            self.into.append((f"{record.name} {record.levelname}", record.getMessage().splitlines()[0]))


@contextmanager
def library_messages(loggers: tuple[str, ...] = ("pydicom",)) -> Iterator[list[tuple[str, str]]]:
    """Collect what libraries warn or log while one file is read, instead of printing it.

    pydicom logs every decoder that fails (with its traceback) before the next one succeeds, and warns
    and logs each odd value; the caller gets (kind, first line) pairs to count (WarningTally) or to fold
    into a reject's detail. The list is filled when the block ends."""
    caught: list[tuple[str, str]] = []
    logged: list[tuple[str, str]] = []
    handler = _Collect(logged)
    targets = [logging.getLogger(name) for name in loggers]
    saved = [target.propagate for target in targets]
    for target in targets:
        target.addHandler(handler)
        target.propagate = False
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            yield caught
    finally:
        for target, propagate in zip(targets, saved, strict=True):
            target.removeHandler(handler)
            target.propagate = propagate
        warned = [(w.category.__name__, str(w.message).splitlines()[0]) for w in recorded]
        texts = {text for _, text in warned}
        caught.extend(warned + [(kind, text) for kind, text in logged if text not in texts])
