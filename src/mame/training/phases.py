"""Where a run spends its time and memory: seconds, steps/s and peak memory per phase (load, steps,
validation, checkpoint, save), written beside the loss log as phases.csv.

On a GPU the device's peak allocation is reset at the start of every phase, so the training step's
peak is read apart from the validation's and the loading's. On a CPU the process's resident memory at
the end of each phase is recorded instead.
"""

from __future__ import annotations

import csv
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

COLUMNS = ["phase", "calls", "seconds", "steps", "steps_per_s", "peak_device_mb", "host_rss_mb"]


def host_rss_mb() -> float:
    """Resident memory of this process now (Linux /proc), else its peak so far."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Phases:
    """Accumulates each phase's calls, seconds, steps and peak memory."""

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == "cuda"
        self.device = device
        self.rows: dict[str, dict] = {}

    @contextmanager
    def phase(self, name: str, steps: int = 0) -> Iterator[None]:
        if self.cuda:
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        started = time.perf_counter()
        try:
            yield
        finally:
            if self.cuda:
                torch.cuda.synchronize(self.device)
            row = self.rows.setdefault(
                name, {"phase": name, "calls": 0, "seconds": 0.0, "steps": 0, "peak_device_mb": 0.0}
            )
            row["calls"] += 1
            row["seconds"] += time.perf_counter() - started
            row["steps"] += steps
            if self.cuda:
                peak = torch.cuda.max_memory_allocated(self.device) / 2**20
                row["peak_device_mb"] = max(row["peak_device_mb"], peak)
            row["host_rss_mb"] = host_rss_mb()

    def table(self) -> list[dict]:
        rows = []
        for row in self.rows.values():
            rate = row["steps"] / row["seconds"] if row["steps"] and row["seconds"] else ""
            rows.append(
                {
                    **row,
                    "seconds": round(row["seconds"], 3),
                    "steps_per_s": round(rate, 3) if rate else "",
                    "peak_device_mb": round(row["peak_device_mb"], 1) if self.cuda else "",
                    "host_rss_mb": round(row["host_rss_mb"], 1),
                }
            )
        return rows

    def write(self, path: str | Path) -> None:
        with Path(path).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(self.table())
