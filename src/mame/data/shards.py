"""How an index splits into conversion jobs. A module of its own: the workflow reads it at every
parse (each cluster job parses the Snakefile again), without the conversion's imaging libraries."""

from __future__ import annotations


def shard_count(rows: int, shard_size: int) -> int:
    """Conversion jobs for an index of `rows` images, `shard_size` each (at least one)."""
    return max(1, -(-rows // shard_size))
