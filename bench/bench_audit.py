"""Pre-flight audit speed: seconds per thousand files, headers only, 1 worker vs 2, and vs the index.

Writes an OMI-DB phantom tree (the real omidb structure) of N small images once, copies its files up
to about `--files` DICOMs by duplicating client folders under new client ids (the headers are what is
read, so small pixels do not flatter it: reading stops before the pixel data), then times
`audit_dataset` with 1 and 2 workers and `build_index` with 2, side by side.
Usage: python bench/bench_audit.py [--files 2000] [--out bench/results/audit.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from mame.data.audit import audit_dataset
from mame.data.index import IndexFilters, build_index
from mame.phantom.generate import PhantomSettings, write_phantom


def grow(root: Path, files: int) -> int:
    """Copy client folders (data and images) under new client ids until about `files` DICOMs exist."""
    clients = sorted(p.name for p in (root / "images").iterdir())
    count = len(list((root / "images").rglob("*.dcm")))
    per_round, copy = count, 0
    while count < files:
        copy += 1
        for client in clients:
            new = f"demd{900000 + copy * 1000 + int(client[4:]) % 1000}"
            shutil.copytree(root / "images" / client, root / "images" / new)
            data = root / "data" / new
            shutil.copytree(root / "data" / client, data)
            for table in data.glob("*.json"):
                table.rename(data / table.name.replace(client, new))
        count += per_round
    return count


def timed(function, repeats: int = 2) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--out", default="bench/results/audit.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "omi"
        write_phantom(root, PhantomSettings(layout="omi", images=200, rows=160, cols=128, seed=3))
        files = grow(root, args.files)
        filters = IndexFilters()
        results = {
            "files": files,
            "audit_1_worker_s": timed(lambda: audit_dataset("omi", root, filters, workers=1)),
            "audit_2_workers_s": timed(lambda: audit_dataset("omi", root, filters, workers=2)),
            "index_2_workers_s": timed(lambda: build_index("omi", "omi", root, "h", "s", filters, workers=2)),
        }
    for key in ("audit_1_worker_s", "audit_2_workers_s", "index_2_workers_s"):
        results[key.replace("_s", "_s_per_1000")] = round(1000 * results[key] / files, 2)
    results["audit_speedup_2_vs_1"] = round(results["audit_1_worker_s"] / results["audit_2_workers_s"], 2)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
