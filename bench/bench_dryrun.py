"""Dry-run of the thesis configuration over a 56,026-row index (the study's two datasets, no pixels).

Builds, in a scratch folder, what the workflow would see after indexing the real data: an OMI-H
index of 40,551 rows and a VinDr index of 15,475 rows (+ the VinDr label tables the index rule
depends on), then times `snakemake -n` of results/report.html and records its peak memory.
Usage: python bench/bench_dryrun.py [--out bench/results/dryrun.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from mame.data.index import INDEX_COLUMNS

REPO = Path(__file__).resolve().parents[1]
ROWS = {"omi": 40_551, "vindr": 15_475}


def write_index(path: Path, dataset: str, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        handle.write(",".join(INDEX_COLUMNS) + "\n")
        for i in range(rows):
            key = f"{i:016x}"
            handle.write(
                f"{key},{key},/data/{dataset}/{i}.dcm,v,M,CC,L,B,[],,3328,2560,12,MONOCHROME2,voi,1.2,,absent\n"
            )
    (path.parent / "index_rejects.csv").write_text("key,stage,reason,detail,source\n")


def prepare_thesis_workdir(work: Path, rows: dict[str, int] = ROWS) -> Path:
    """A scratch folder as the thesis config sees it after indexing: roots, label tables, indexes.
    Returns the config file (config/thesis.yaml with the roots pointed here)."""
    config = yaml.safe_load((REPO / "config" / "thesis.yaml").read_text())
    for dataset in rows:
        root = work / "data" / dataset
        root.mkdir(parents=True)
        config["datasets"][dataset]["root"] = str(root)
    for name in ("breast-level_annotations.csv", "finding_annotations.csv"):
        (work / "data" / "vindr" / name).write_text("study_id\n")
    (work / "thesis.yaml").write_text(yaml.safe_dump(config))
    time.sleep(1.1)  # indexes strictly newer than their inputs
    for dataset, count in rows.items():
        write_index(work / "results" / "work" / dataset / "index.csv", dataset, count)
    return work / "thesis.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/dryrun.json")
    parser.add_argument("--profile", help="also pass --profile (e.g. profiles/slurm)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mame-dryrun-"))
    prepare_thesis_workdir(work)
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(REPO / "Snakefile"),
        "--directory",
        str(work),
        "--configfile",
        str(work / "thesis.yaml"),
        "-n",
        "results/report.html",
        *(["--profile", args.profile] if args.profile else []),
    ]
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ})
        timings.append(time.perf_counter() - started)
        if result.returncode != 0:
            sys.exit(result.stdout[-3000:] + result.stderr[-3000:])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    jobs, in_stats = {}, False
    for line in (result.stdout + result.stderr).splitlines():
        parts = line.split()
        in_stats = in_stats or parts[:2] == ["job", "count"]
        if in_stats and len(parts) == 2 and parts[1].isdigit():
            jobs[parts[0]] = int(parts[1])
            if parts[0] == "total":
                break
    summary = {
        "index_rows": sum(ROWS.values()),
        "profile": args.profile,
        "dry_run_s": round(min(timings), 2),
        "dry_run_s_all": [round(t, 2) for t in timings],
        "peak_rss_mb": round(peak_mb),
        "jobs": jobs,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
