"""Peak memory of one conversion job against its shard size, at the real detector size.

A conversion job holds one image at a time, so its peak memory should not grow with the number
of images in its shard (the shard size only sets how many jobs a cluster runs). This writes a few
3328 x 2560 phantom DICOMs, indexes them, repeats the rows to shards of 1 ... 64 images, and runs
`mame convert-shard` for each size in a fresh process, reading that process's own peak RSS. (The
phantom is written by a child process too: a forked child starts with its parent's pages, which
would count towards its peak.)
Usage: python bench/bench_shard_memory.py [--sizes 1 4 16 64] [--out bench/results/shard_memory.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def peak_rss_mb(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of one child process, measured by the kernel for that child alone."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(process.stderr.read().decode()[-2000:])
    return usage.ru_maxrss / 1024, time.perf_counter() - started


def prepare(work: Path, files: int, largest: int, jpeg2000: bool) -> None:
    """Phantom DICOMs at the real size, indexed, the rows repeated to the largest shard."""
    import pandas as pd

    from mame.data.index import IndexFilters, build_index
    from mame.phantom.generate import PhantomSettings, write_phantom

    phantom = PhantomSettings(
        layout="omi",
        images=files,
        rows=3328,
        cols=2560,
        seed=5,
        jpeg2000_share=1.0 if jpeg2000 else 0.0,
        broken=False,
        extras=False,
    )
    write_phantom(work / "raw", phantom)
    index, _ = build_index("omi", "omi", work / "raw", "hologic", "bench-salt", IndexFilters())
    repeated = pd.concat([index] * (largest // len(index) + 1), ignore_index=True).iloc[:largest].copy()
    repeated["key"] = [f"{i:016x}" for i in range(len(repeated))]  # one output file per row
    repeated.to_csv(work / "index.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--out", default="bench/results/shard_memory.json")
    parser.add_argument(
        "--jpeg2000", action="store_true", help="JPEG 2000 lossless files instead of uncompressed"
    )
    parser.add_argument("--prepare", help=argparse.SUPPRESS)  # internal: the child that writes the data
    args = parser.parse_args()
    if args.prepare:
        prepare(Path(args.prepare), args.files, max(args.sizes), args.jpeg2000)
        return
    work = Path(tempfile.mkdtemp(prefix="mame-shard-memory-"))
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--prepare",
            str(work),
            "--files",
            str(args.files),
            "--sizes",
            *map(str, args.sizes),
        ],
        check=True,
    )
    rows = []
    for size in sorted(args.sizes):
        out = work / f"shard-{size}"
        command = [sys.executable, "-m", "mame.cli", "convert-shard", str(work / "index.csv")]
        command += ["--shard", "0", "--shard-size", str(size), "--images", str(out / "images")]
        command += ["--out", str(out / "converted.csv"), "--rejects", str(out / "rejects.csv")]
        memory, seconds = peak_rss_mb(command)
        with open(out / "converted.csv") as handle:
            converted = sum(1 for _ in csv.DictReader(handle))
        rows.append(
            {
                "shard_size": size,
                "converted": converted,
                "peak_rss_mb": round(memory),
                "seconds": round(seconds, 1),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    summary = {
        "detector": f"3328 x 2560, {'JPEG 2000 lossless' if args.jpeg2000 else 'uncompressed'}",
        "rows": rows,
        "growth_mb_from_smallest_to_largest": rows[-1]["peak_rss_mb"] - rows[0]["peak_rss_mb"],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
