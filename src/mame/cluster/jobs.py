"""The jobs a run would submit, with the threads and resources Snakemake gives them: read from a dry
run with the same profile and config (so set-threads, set-resources, max-threads and
default-resources all apply)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PlannedJob:
    rule: str
    wildcards: str = ""
    threads: int = 1
    resources: dict[str, object] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.rule}[{self.wildcards}]" if self.wildcards else self.rule


def _value(text: str) -> object:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def parse_dry_run(text: str) -> list[PlannedJob]:
    """Every `rule X:` / `checkpoint X:` block of a dry run's output as a job."""
    jobs: list[PlannedJob] = []
    for line in text.splitlines():
        header = re.match(r"^(?:local)?(?:rule|checkpoint) (\w+):$", line.strip())
        if header and not line.startswith(" "):
            jobs.append(PlannedJob(header.group(1)))
            continue
        if not jobs or not line.startswith("    "):
            continue
        key, _, rest = line.strip().partition(": ")
        if key == "wildcards":
            jobs[-1].wildcards = rest
        elif key == "threads":
            jobs[-1].threads = int(rest)
        elif key == "resources":
            for item in rest.split(", "):
                name, _, value = item.partition("=")
                jobs[-1].resources[name] = _value(value)
    return jobs


def planned_jobs(snakefile: Path, targets: list[str], extra: list[str]) -> tuple[list[PlannedJob], bool]:
    """The dry run's jobs, and whether a checkpoint hides jobs that the DAG only knows after it ran."""
    # a dry run caps threads at --cores, which a cluster run does not: lift it, so only max-threads caps
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(snakefile),
        "-n",
        *targets,
        *extra,
        "--cores",
        "4096",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if result.returncode:
        raise RuntimeError("the dry run failed:\n" + output[-3000:])
    return parse_dry_run(output), "DAG of jobs will be updated after completion" in output
