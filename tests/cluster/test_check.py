"""mame cluster-check: sinfo read right, jobs placed as the SLURM plugin places them, and a job that
asks for more than any node of its partition has named with the setting to change."""

from __future__ import annotations

import pytest
import yaml

from mame.cluster.check import check_jobs, choose_partition
from mame.cluster.jobs import PlannedJob, parse_dry_run
from mame.cluster.site import default_partition, minutes, parse_sinfo

SINFO = """cpu*|2|8000|(null)|2:00:00
gpu|16|128000|gpu:a100:4(S:0-1)|1-00:00:00
gpu|8|64000|gpu:2|1-00:00:00
long|4|8000|(null)|infinite
"""

DRY_RUN = """Building DAG of jobs...
[Wed Dec  2 06:15:57 2026]
checkpoint index:
    input: results/phantom/vindr
    output: results/work/vindr/index.csv
    jobid: 6
    wildcards: dataset=vindr
    threads: 4
    resources: tmpdir=/tmp, runtime=120, mem_mb=4000, mem=4 GB, mem_mib=3815
[Wed Dec  2 06:15:57 2026]
rule finetune:
    jobid: 9
    wildcards: model=hologic
    threads: 8
    resources: tmpdir=/tmp, runtime=1440, mem_mb=64000, gpu=1
[Wed Dec  2 06:15:57 2026]
localrule report:
    jobid: 0
    resources: tmpdir=/tmp
"""


def test_sinfo_partitions_keep_their_largest_node_and_the_default_is_found():
    site = parse_sinfo(SINFO)
    assert site["cpu"].cpus == 2 and site["cpu"].memory_mb == 8000 and site["cpu"].gpus == 0
    assert site["gpu"].cpus == 16 and site["gpu"].gpus == 4 and site["gpu"].max_minutes == 1440
    assert site["long"].max_minutes is None and default_partition(SINFO) == "cpu"


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("30", 30), ("2:00:00", 120), ("1-12:00:00", 2160), ("45:30", 45.5), ("infinite", None)],
)
def test_slurm_time_limits_in_minutes(limit, expected):
    assert minutes(limit) == expected


def test_a_dry_run_gives_every_job_with_its_threads_and_resources():
    index, finetune, report = parse_dry_run(DRY_RUN)
    assert (index.rule, index.wildcards, index.threads) == ("index", "dataset=vindr", 4)
    assert index.resources["mem_mb"] == 4000 and index.resources["runtime"] == 120
    assert finetune.threads == 8 and finetune.resources["gpu"] == 1 and report.threads == 1


def partitions_yaml(tmp_path, cpu_threads: int = 64):
    path = tmp_path / "partitions.yaml"
    partitions = {
        "cpu": {"max_runtime": 2880, "max_mem_mb": 256000, "max_threads": cpu_threads},
        "gpu": {"max_runtime": 2880, "max_mem_mb": 512000, "max_threads": 32, "max_gpu": 8},
    }
    path.write_text(yaml.safe_dump({"partitions": partitions}))
    return path


def test_jobs_go_where_the_slurm_plugin_sends_them(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    index, finetune, _ = parse_dry_run(DRY_RUN)
    assert choose_partition(index, partitions_yaml(tmp_path)) == "cpu"
    assert choose_partition(finetune, partitions_yaml(tmp_path)) == "gpu"
    assert choose_partition(PlannedJob("x", resources={"slurm_partition": "long"}), None) == "long"


def test_a_four_thread_job_on_a_two_cpu_partition_is_named_with_the_setting_to_change(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    jobs = parse_dry_run(DRY_RUN)
    findings = check_jobs(jobs, parse_sinfo(SINFO), partitions_yaml(tmp_path), default_partition(SINFO))
    (finding,) = [f for f in findings if f.job.startswith("index")]
    assert finding.partition == "cpu" and "4 CPUs" in finding.problem and "has 2" in finding.problem
    assert "max-threads" in finding.change
    assert not [f for f in findings if f.job.startswith("finetune")]  # 8 CPUs, 64 GB, 1 GPU fit the gpu nodes
    assert not [f for f in findings if f.job == "report"]  # no resources asked: nothing to exceed


def test_more_memory_gpus_or_time_than_a_node_has_and_unknown_partitions_are_named(tmp_path):
    pytest.importorskip("snakemake_executor_plugin_slurm")
    site = parse_sinfo(SINFO)
    greedy = PlannedJob("finetune", "model=x", 8, {"mem_mb": 200000, "gpu": 6, "runtime": 2000})
    problems = [f.problem for f in check_jobs([greedy], site, partitions_yaml(tmp_path))]
    assert any("200000 MB" in p for p in problems) and any("6 GPUs" in p for p in problems)
    assert any("2000 min" in p for p in problems)
    elsewhere = PlannedJob("index", resources={"slurm_partition": "EDIT-cpu"})
    (finding,) = check_jobs([elsewhere], site, None)
    assert "does not exist here" in finding.problem and "partitions.yaml" in finding.change
