"""Dataset adapters: one module per delivered layout, all yielding `Candidate`s for the one index."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from mame.data.adapters import cbis_ddsm, cmmd, embed, inbreast, omi, rsna, table, vindr
from mame.data.adapters.base import Candidate, EmptyDataset

EXPECTED_LAYOUTS = {
    "vindr": vindr.EXPECTED,
    "omi": omi.EXPECTED,
    "cbis_ddsm": cbis_ddsm.EXPECTED,
    "rsna": rsna.EXPECTED,
    "inbreast": inbreast.EXPECTED,
    "embed": embed.EXPECTED,
    "cmmd": cmmd.EXPECTED,
    "table": table.EXPECTED,
}
READERS = {
    "vindr": vindr.vindr_candidates,
    "omi": omi.omi_candidates,
    "cbis_ddsm": cbis_ddsm.cbis_candidates,
    "rsna": rsna.rsna_candidates,
    "inbreast": inbreast.inbreast_candidates,
    "embed": embed.embed_candidates,
    "cmmd": cmmd.cmmd_candidates,
}
ADAPTERS = tuple(EXPECTED_LAYOUTS)


def candidates(adapter: str, root: Path, table_path: Path | None = None) -> list[Candidate]:
    """The adapter's candidates; raises EmptyDataset when not one of them names an existing file."""
    if adapter in READERS:
        found = list(READERS[adapter](root))
    elif adapter == "table":
        if table_path is None:
            raise ValueError(
                "adapter 'table' needs the dataset's `table` setting (a CSV of paths and labels)"
            )
        found = list(table.table_candidates(root, table_path))
    else:
        raise ValueError(f"adapter {adapter!r} unknown; expected one of {ADAPTERS}")
    if not any(c.reject in ("", "marks_unreadable") for c in found):  # files the tables also name
        reasons = Counter(c.reject for c in found)
        summary = ", ".join(f"{n} {r}" for r, n in reasons.most_common()) or "no candidates at all"
        raise EmptyDataset(adapter, root, EXPECTED_LAYOUTS[adapter], summary)
    return found


__all__ = ["ADAPTERS", "Candidate", "EmptyDataset", "candidates"]
