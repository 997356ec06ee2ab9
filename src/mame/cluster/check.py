"""Each planned job against the partition the SLURM plugin would choose for it (its own
partitions.yaml scoring) and against what that partition's nodes really have (sinfo): a job that asks
for more CPUs, memory, GPUs or time than any node of its partition gives pends forever, silently."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from mame.cluster.jobs import PlannedJob
from mame.cluster.site import SitePartition

log = logging.getLogger(__name__)

SETTINGS = {  # where each resource is set: what a user changes
    "threads": "max-threads (profile) or the rule's set-threads",
    "mem_mb": "set-resources <rule>: mem_mb (profile); training: models.resources.mem_mb",
    "gpu": "models.resources.gpu (training) or set-resources <rule>: gpu",
    "runtime": "set-resources <rule>: runtime (profile); training: models.resources.runtime",
}


@dataclass
class Finding:
    job: str
    partition: str
    problem: str
    change: str


def _number(value: object) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def choose_partition(job: PlannedJob, partition_file: Path | None) -> str | None:
    """The partition snakemake-executor-plugin-slurm would pick, by its own scoring; None when none of
    partitions.yaml fits (the plugin then submits without one: the site's default partition)."""
    if job.resources.get("slurm_partition"):
        return str(job.resources["slurm_partition"])
    if partition_file is None:
        return None
    from snakemake_executor_plugin_slurm.partitions import get_best_partition, read_partition_file

    stand_in = SimpleNamespace(
        name=job.rule, threads=job.threads, resources=job.resources, is_group=lambda: False
    )
    return get_best_partition(read_partition_file(partition_file), stand_in, log)


def check_job(
    job: PlannedJob, partition: str | None, site: dict[str, SitePartition], default: str | None
) -> list[Finding]:
    name = partition or default
    if name is None:
        return [
            Finding(
                job.label,
                "-",
                "no partition of partitions.yaml fits and the site has no default",
                "partitions.yaml (a partition with these limits) or the rule's resources",
            )
        ]
    if name not in site:
        return [
            Finding(
                job.label,
                name,
                f"partition {name!r} does not exist here (sinfo: {', '.join(site)})",
                "the partition names in partitions.yaml",
            )
        ]
    offered = site[name]
    asked = {
        "threads": (job.threads, offered.cpus, "CPUs"),
        "mem_mb": (_number(job.resources.get("mem_mb")), offered.memory_mb, "MB of memory"),
        "gpu": (_number(job.resources.get("gpu")), offered.gpus, "GPUs"),
    }
    findings = [
        Finding(
            job.label,
            name,
            f"asks for {value:g} {unit}; a node of {name} has {limit}: it would pend "
            "forever (Reason=PartitionConfig)",
            SETTINGS[key],
        )
        for key, (value, limit, unit) in asked.items()
        if value > limit
    ]
    runtime = _number(job.resources.get("runtime"))
    if offered.max_minutes is not None and runtime > offered.max_minutes:
        findings.append(
            Finding(
                job.label,
                name,
                f"asks for {runtime:g} min; {name} allows {offered.max_minutes:g}",
                SETTINGS["runtime"],
            )
        )
    if partition is None and name == default:
        findings = [
            Finding(
                job.label,
                name,
                f"no partition of partitions.yaml fits: it goes to the default partition {name}",
                "partitions.yaml limits",
            )
        ] + findings
    return findings


def check_jobs(
    jobs: list[PlannedJob],
    site: dict[str, SitePartition],
    partition_file: Path | None,
    default: str | None = None,
) -> list[Finding]:
    # a dry run does not mark local rules, so they are checked too: their small defaults always fit
    return [f for job in jobs for f in check_job(job, choose_partition(job, partition_file), site, default)]
