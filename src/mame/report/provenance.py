"""Where a report came from: config (without secrets), package versions, commit, hardware, and each
stage's run time and peak memory from Snakemake's benchmark files."""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from mame.report.render import html_table

PACKAGES = (
    "mame",
    "snakemake",
    "torch",
    "diffusers",
    "transformers",
    "pydicom",
    "numpy",
    "pandas",
    "scikit-image",
)


def run_times(folder: str | Path) -> pd.DataFrame:
    """Wall time and peak memory of every job, from Snakemake's `benchmark:` files, grouped by stage."""
    rows = []
    for path in sorted(Path(folder).rglob("*.tsv")):
        frame = pd.read_csv(path, sep="\t")
        if frame.empty:
            continue
        stage = path.relative_to(folder).parts[0] if len(path.relative_to(folder).parts) > 1 else path.stem
        rows.append(
            {
                "stage": stage,
                "seconds": float(frame["s"].iloc[-1]),
                "max_rss_mb": pd.to_numeric(frame["max_rss"], errors="coerce").iloc[-1],
            }
        )
    if not rows:
        return pd.DataFrame(columns=["stage", "jobs", "total seconds", "longest job (s)", "peak memory (MB)"])
    frame = pd.DataFrame(rows)
    return (
        frame.groupby("stage", sort=False)
        .agg(
            jobs=("seconds", "size"),
            total=("seconds", "sum"),
            longest=("seconds", "max"),
            memory=("max_rss_mb", "max"),
        )
        .round(1)
        .reset_index()
        .rename(
            columns={"total": "total seconds", "longest": "longest job (s)", "memory": "peak memory (MB)"}
        )
    )


def hardware() -> str:
    """CPU model, cores, memory and GPU of the machine that rendered the report."""
    import os

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB memory"
    except (ValueError, OSError, AttributeError):
        pass
    gpu = "no GPU"
    try:
        import torch

        if torch.cuda.is_available():
            gpu = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    except ImportError:
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, {gpu}"


def provenance(config: dict, benchmarks: str | Path | None = None) -> dict:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    shown = json.loads(json.dumps(config))
    shown.get("privacy", {}).pop("salt", None)  # the salt is a secret
    return {
        "config": yaml.safe_dump(shown, sort_keys=False),
        "versions": versions,
        "commit": commit or "unknown",
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "hardware": hardware(),
        "run_times": html_table(run_times(benchmarks), index=False) if benchmarks else "",
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
