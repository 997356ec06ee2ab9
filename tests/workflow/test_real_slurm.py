"""The SLURM profile on a real one-node SLURM (Debian's slurmctld and slurmd, munge, no slurmdbd):
the micro pipeline (its 16-bit, non-square variant, whose own checks from test_variants.py run here on
this run's outputs) through profiles/slurm edited as the README says (polling every 2 s), every job
COMPLETED, GPU rules on the GPU partition with one GPU; a cancelled training job stops the run within a
minute with its reason (at the shipped polling), and the same command then finishes, training resuming
from its checkpoint."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from one_node_slurm import missing, one_node_slurm, sinfo_limits
from test_cluster import GPU_RULES, LOCAL_RULES
from test_variants import (  # noqa: F401 - collected here too, on this run's outputs (fixture `deep`)
    deep_variant,
    test_16_bit_samples_leave_as_16_bit_dicom_and_the_kit_shows_8_bit,
    test_every_model_is_an_sdxl_model_conditioned_on_the_detector_size,
    test_every_stage_keeps_the_configured_non_square_shape,
    test_metrics_run_at_16_bits_and_the_report_says_so,
    test_processed_images_and_samples_are_16_bit_with_more_than_256_levels,
)

from conftest import REPO

pytestmark = pytest.mark.pipeline

pytest.importorskip("snakemake_executor_plugin_slurm")
POLLING = r"(?m)^(slurm-init-seconds-before-status-checks:) .*$"  # the profile's status-check line


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the real-SLURM tests need a one-node SLURM; .ci/run installs it ({reason})")
        pytest.skip(reason)
    with one_node_slurm(tmp_path_factory.mktemp("slurm")) as environment:
        yield environment


def workstation_profile(workdir: Path, environment: dict[str, str]) -> None:
    """profiles/slurm as the README tells a workstation user to fill it in: the partitions' names and
    limits from sinfo, no account (this SLURM has none), max-threads at the node's CPUs."""
    limits = sinfo_limits(environment)
    target = workdir / "profiles" / "slurm"
    target.mkdir(parents=True)
    cpus = min(partition["cpus"] for partition in limits.values())
    partitions = {
        "cpu": {"max_runtime": 2880, "max_mem_mb": limits["cpu"]["memory_mb"], "max_threads": cpus},
        "gpu": {"max_runtime": 2880, "max_mem_mb": limits["gpu"]["memory_mb"], "max_threads": cpus,
                "max_gpu": limits["gpu"]["gpus"]},
    }  # fmt: skip
    (target / "partitions.yaml").write_text(yaml.safe_dump({"partitions": partitions}))
    profile = (REPO / "profiles" / "slurm" / "config.yaml").read_text()
    profile = re.sub(r"(?m)^  slurm_account: .*\n", "", profile)
    profile = profile.replace("max-threads: 32", f"max-threads: {cpus}") + "slurm-no-account: true\n"
    # the one change a test makes beyond the README: status every 2 s instead of 20 (the plugin adds
    # 10 s per poll that finds nothing done), so each of the ~15 waves of jobs is not held up to a
    # poll; the shipped 20 s spares a shared slurmctld. squeue stays the status command (MinJobAge
    # 600 >= 3 x 2 s).
    profile = re.sub(POLLING, r"\1 2", profile)
    (target / "config.yaml").write_text(profile)


def write_micro(path: Path, **train) -> None:
    """tests/micro.yaml's 16-bit non-square variant with a GPU per training job, as a cluster run asks
    (and `train` overrides)."""
    micro = deep_variant(yaml.safe_load((REPO / "tests" / "micro.yaml").read_text()))
    micro["models"]["resources"].update(gpu=1, mem_mb=3000, runtime=45)
    micro["models"]["train"].update(train)
    path.write_text(yaml.safe_dump(micro))


def snakemake(workdir: Path, environment: dict[str, str], *args: str, target: str = "results/report.html"):
    """The README's cluster command, in the background, its output merged."""
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), target,
               "--profile", "profiles/slurm", "--configfile", "micro.yaml", *args]  # fmt: skip
    return subprocess.Popen(
        command, cwd=workdir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def jobs(environment: dict[str, str]) -> list[dict[str, str]]:
    """Every job slurmctld still holds, as scontrol's key=value fields."""
    listing = subprocess.run(
        ["scontrol", "-o", "show", "job"], capture_output=True, text=True, env=environment, check=True
    ).stdout
    return [
        dict(re.findall(r"(\w+)=(\S*)", line)) for line in listing.splitlines() if line.startswith("JobId=")
    ]


def rule_of(job: dict[str, str]) -> str:
    return re.sub(r"^rule_|_wildcards_.*$", "", job.get("Comment", ""))


@pytest.fixture(scope="module")
def micro_run(cluster, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("slurm-micro")
    write_micro(workdir / "micro.yaml")
    workstation_profile(workdir, cluster)
    before = {job["JobId"] for job in jobs(cluster)}
    started = time.monotonic()
    run = snakemake(workdir, cluster)
    output, _ = run.communicate(timeout=1200)
    assert run.returncode == 0, output[-4000:]
    submitted = [job for job in jobs(cluster) if job["JobId"] not in before]
    return workdir, submitted, time.monotonic() - started, output


@pytest.fixture(scope="module")
def deep(micro_run):
    """The micro run is test_variants.py's variant: its checks read this run's outputs."""
    return micro_run[0]


def test_the_micro_pipeline_runs_on_a_real_slurm_every_job_completed(micro_run):
    workdir, submitted, seconds, output = micro_run
    assert (workdir / "results" / "report.html").is_file()
    assert len(submitted) >= 20
    assert {job["JobState"] for job in submitted} == {"COMPLETED"}, [
        (rule_of(job), job["JobState"]) for job in submitted if job["JobState"] != "COMPLETED"
    ]
    assert not {rule_of(job) for job in submitted} & LOCAL_RULES  # localrules never go to sbatch
    print(f"{len(submitted)} sbatch jobs, {seconds:.0f} s")  # the number bench/README.md records


def test_gpu_rules_ran_on_the_gpu_partition_with_one_gpu_and_cpu_rules_without(micro_run):
    _, submitted, _, _ = micro_run
    rules = {rule_of(job) for job in submitted}
    assert {"finetune", "train_inpaint", "sample_sweep"} <= rules
    for job in submitted:
        asked = " ".join(job.get(key, "") for key in ("TresPerJob", "TresPerNode", "AllocTRES"))
        gpus = re.search(r"gres[:/]gpu[:=](\d+)", asked)
        where = (rule_of(job), job["Partition"], asked)
        if rule_of(job) in GPU_RULES:
            assert job["Partition"] == "gpu" and gpus and gpus.group(1) == "1", where
        else:
            assert job["Partition"] == "cpu" and not gpus, where
        if rule_of(job) in {"finetune", "train_inpaint"}:  # models.resources: mem_mb 3000, runtime 45
            assert job["TimeLimit"] == "00:45:00" and job["MinMemoryNode"] == "3000M", job


def test_a_cancelled_training_job_stops_the_run_and_the_same_command_resumes_it(cluster, micro_run, tmp_path):
    """scancel of a running finetune: the run ends within a minute saying CANCELLED (no retry here, to
    see it end); the same command again finishes, and training resumes from its checkpoint. On a copy
    of the micro run with more steps: only the training job runs, its inputs are there."""
    tmp_path = tmp_path / "work"
    shutil.copytree(micro_run[0], tmp_path, symlinks=True)
    shutil.rmtree(tmp_path / "results" / "checkpoints", ignore_errors=True)  # only this run's count
    # an early first checkpoint: the plugin's status checks space out by 10 s each quiet check (to 180 s),
    # so a job cancelled late in a long run is noticed later than a minute
    write_micro(tmp_path / "micro.yaml", steps=600, checkpoint_every=10, validation_every=600)
    shipped = re.search(POLLING, (REPO / "profiles" / "slurm" / "config.yaml").read_text()).group(0)
    profile = tmp_path / "profiles" / "slurm" / "config.yaml"  # the cancel is seen at the shipped polling
    profile.write_text(re.sub(POLLING, shipped, profile.read_text()))
    target = "results/models/hologic/pipeline"
    run = snakemake(tmp_path, cluster, "--retries", "0", target=target)
    checkpoints = tmp_path / "results" / "checkpoints" / "hologic"
    deadline = time.monotonic() + 600
    training = None
    while time.monotonic() < deadline and run.poll() is None:
        running = [j for j in jobs(cluster) if rule_of(j) == "finetune" and j["JobState"] == "RUNNING"]
        saved = checkpoints.glob("checkpoint-*/fingerprint.txt")  # the stamp: a save that finished
        if running and checkpoints.is_dir() and any(saved):
            training = running[0]
            break
        time.sleep(1)
    assert training is not None, "the training job never checkpointed:\n" + (
        run.communicate()[0][-3000:] if run.poll() is not None else "still running"
    )
    subprocess.run(["scancel", training["JobId"]], env=cluster, check=True)
    cancelled = time.monotonic()
    output, _ = run.communicate(timeout=120)
    assert time.monotonic() - cancelled < 60, "the run did not notice the cancel within a minute"
    assert run.returncode != 0 and "CANCELLED" in output, output[-3000:]
    profile.write_text(re.sub(POLLING, r"\1 2", profile.read_text()))  # the resume needs no shipped wait
    again = snakemake(tmp_path, cluster, "--retries", "0", target=target)
    output, _ = again.communicate(timeout=900)
    assert again.returncode == 0, output[-3000:]
    log = (tmp_path / "logs" / "models" / "hologic.log").read_text()
    first = re.search(r" (\d+)/600 \[", log)  # the progress bar starts where the checkpoint left off
    assert first and int(first.group(1)) >= 10, log[:500]


def test_cluster_check_names_the_four_thread_job_on_the_two_cpu_node(cluster, tmp_path):
    """The shipped max-threads (32) left in: index asks for 4 CPUs, the node has 2; sinfo from the
    real cluster, the DAG from the real workflow."""
    write_micro(tmp_path / "micro.yaml")
    workstation_profile(tmp_path, cluster)
    profile = tmp_path / "profiles" / "slurm" / "config.yaml"
    profile.write_text(re.sub(r"(?m)^max-threads: \d+$", "max-threads: 32", profile.read_text()))
    partitions = tmp_path / "profiles" / "slurm" / "partitions.yaml"
    partitions.write_text(partitions.read_text().replace("max_threads: 2", "max_threads: 64"))  # as shipped
    result = subprocess.run(
        [sys.executable, "-m", "mame.cli", "cluster-check", "--snakefile", str(REPO / "Snakefile"),
         "--configfile", "micro.yaml"], cwd=tmp_path, env=cluster, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    flagged = [line for line in result.stdout.splitlines() if line.startswith("NEVER STARTS")]
    assert any(line.startswith("NEVER STARTS  index[dataset=omi] on cpu") for line in flagged), result.stdout
    assert all("4 CPUs" in line and "has 2" in line for line in flagged if "index" in line)
    cpus = min(partition["cpus"] for partition in sinfo_limits(cluster).values())
    fixed = profile.read_text().replace("max-threads: 32", f"max-threads: {cpus}")
    profile.write_text(fixed)
    again = subprocess.run(result.args, cwd=tmp_path, env=cluster, capture_output=True, text=True)
    assert again.returncode == 0 and "OK: every job fits" in again.stdout, again.stdout + again.stderr
