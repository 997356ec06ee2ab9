"""What the site's SLURM offers, read from `sinfo` (partitions: CPUs, memory and GPUs per node, time
limit) and whether `sacct` answers (a SLURM without slurmdbd does not)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

SINFO_FORMAT = "%P|%c|%m|%G|%l"  # %P marks the default partition with "*" (%R does not)


@dataclass(frozen=True)
class SitePartition:
    """One partition as its nodes offer it: the most a single job can get there."""

    name: str
    cpus: int
    memory_mb: int
    gpus: int
    max_minutes: float | None  # None: no time limit


def minutes(limit: str) -> float | None:
    """A SLURM time limit ("30", "2:00:00", "1-12:00:00", "infinite") in minutes."""
    if limit.lower() in ("infinite", "unlimited", "n/a"):
        return None
    days, _, clock = limit.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    if len(parts) == 1:
        hours, mins, secs = 0, parts[0], 0
    elif len(parts) == 2:
        hours, mins, secs = 0, parts[0], parts[1]
    else:
        hours, mins, secs = parts[-3:]
    return (int(days) if days else 0) * 1440 + hours * 60 + mins + secs / 60


def _gpus(gres: str) -> int:
    """GPUs per node from sinfo's GRES column (e.g. "gpu:2", "gpu:a100:4(S:0-1)", "(null)")."""
    total = 0
    for entry in gres.split(","):
        match = re.match(r"gpu(?::[^:(]+)?:(\d+)", entry.strip())
        if match:
            total += int(match.group(1))
    return total


def parse_sinfo(text: str) -> dict[str, SitePartition]:
    """`sinfo -h -o "%P|%c|%m|%G|%l"` as partitions; a partition with unlike nodes keeps its largest."""
    partitions: dict[str, SitePartition] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, cpus, memory, gres, limit = (field.strip() for field in line.split("|"))
        name = name.rstrip("*")
        found = SitePartition(
            name, int(cpus.rstrip("+")), int(memory.rstrip("+")), _gpus(gres), minutes(limit)
        )
        known = partitions.get(name)
        if known is None or (found.cpus, found.memory_mb, found.gpus) > (
            known.cpus,
            known.memory_mb,
            known.gpus,
        ):
            partitions[name] = found
    return partitions


def default_partition(text: str) -> str | None:
    """The partition sinfo marks with '*': where a job without --partition goes."""
    return next((line.split("|")[0].strip()[:-1] for line in text.splitlines() if "*|" in line), None)


def sinfo_text() -> str:
    """`sinfo -h -o "%P|%c|%m|%G|%l"` on this machine."""
    result = subprocess.run(
        ["sinfo", "-h", "-o", SINFO_FORMAT], capture_output=True, text=True, check=False, timeout=60
    )
    if result.returncode:
        raise RuntimeError(f"sinfo failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def accounting_problem() -> str | None:
    """Why `sacct` cannot report job states here (no slurmdbd, say), or None when it answers."""
    try:
        result = subprocess.run(
            ["sacct", "-n", "-X", "-j", "1"], capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError:
        return "no sacct on PATH"
    text = (result.stderr + result.stdout).strip()
    if result.returncode or "accounting storage is disabled" in text.lower():
        return text.splitlines()[0] if text else f"sacct exited with {result.returncode}"
    return None
