"""Host memory of training's latent stream does not grow with the dataset.

Writes synthetic latent stores (SD-1.5 latents: 4 x 64 x 64, mean and std in fp32: 128 KiB an image)
of 1,000 and 50,000 rows, then in a fresh process per size streams random batches of 16 the way the
trainer does (`StreamedLatents.gather`) and reports the process's anonymous memory (what it owns) and
file-backed resident pages (the page cache of the memory map, which the kernel reclaims), before and after
streaming, and the time per batch. Holding the 50k rows in memory instead would take 6.5 GB.

    python bench/bench_latent_streaming.py --rows 1000 50000 --out bench/results/latent_streaming.json
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def write_store(folder: Path, rows: int, shape=(4, 64, 64)) -> None:
    """A store as encode_manifest writes it, filled chunk by chunk (never the whole array in memory)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name in ("mean", "std"):
        array = np.lib.format.open_memmap(
            folder / f"{name}.npy", mode="w+", dtype=np.float32, shape=(rows, *shape)
        )
        for start in range(0, rows, 1000):
            stop = min(rows, start + 1000)
            array[start:stop] = rng.standard_normal((stop - start, *shape), dtype=np.float32)
        array.flush()
        del array
    pd.DataFrame({"key": [f"k{i:06d}" for i in range(rows)]}).to_csv(folder / "keys.csv", index=False)
    info = {"arrays": ["mean", "std"], "rows": rows, "latent_shape": list(shape), "resolution": 512}
    (folder / "latents.json").write_text(json.dumps(info))


def memory() -> dict:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("RssAnon", "RssFile", "VmHWM"):
            fields[key] = int(line.split()[1]) / 1024
    return fields


def stream(folder: str, batches: int) -> dict:
    """Run in a fresh process: open the store, gather `batches` random batches of 16."""
    import torch

    from mame.training.latents import LatentStore, StreamedLatents

    before = memory()
    store = LatentStore.open(folder)
    keys = list(store.rows)
    latents = StreamedLatents([store], keys, torch.device("cpu"))
    opened = memory()
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    for _ in range(batches):
        batch = latents.gather(rng.integers(0, len(keys), 16))
        assert batch["mean"].shape == (16, 4, 64, 64)
    seconds = time.perf_counter() - started
    after = memory()
    return {
        "rows": len(keys),
        "batches": batches,
        "ms_per_batch": round(1000 * seconds / batches, 3),
        "anon_mb": {"start": before["RssAnon"], "opened": opened["RssAnon"], "after": after["RssAnon"]},
        "file_mb_after": after["RssFile"],
        "peak_rss_mb": after["VmHWM"],
        "in_memory_would_be_mb": round(len(keys) * 2 * 4 * 64 * 64 * 4 / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 50000])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--out", default="bench/results/latent_streaming.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(stream(args.child, args.batches)))
        return
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for rows in args.rows:
            folder = Path(scratch) / f"store-{rows}"
            write_store(folder, rows)
            command = [sys.executable, __file__, "--child", str(folder), "--batches", str(args.batches)]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            results.append(json.loads(output.strip().splitlines()[-1]))
            print(json.dumps(results[-1]))
    record = {
        "machine": f"{platform.node()} {platform.machine()}",
        "python": platform.python_version(),
        "runs": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
