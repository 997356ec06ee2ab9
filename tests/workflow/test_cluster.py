"""The SLURM profile without a cluster: fake SLURM commands on PATH, the real executor plugin.

One run of the micro pipeline through an edited copy of profiles/slurm checks what was submitted
(GPU jobs on the GPU partition with their GPUs, memory and time; CPU jobs without GPUs; cheap
aggregation rules never submitted); a dry run checks that the shipped profile parses with the
thesis configuration.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from one_node_slurm import missing

from conftest import REPO

pytestmark = pytest.mark.pipeline
FAKE = REPO / "tests" / "fake_slurm" / "fake_slurm.py"
COMMANDS = ("sbatch", "sacct", "squeue", "scancel", "srun", "sinfo", "scontrol", "sacctmgr", "sshare")
GPU_RULES = {
    "encode_latents",
    "encode_inpaint_latents",
    "finetune",
    "train_inpaint",
    "sample_sweep",
    "concept_extrapolation",
    "inpaint_panels",
    "train_upscaler",
    "upscale_samples",
    "superres_evaluation",
}
LOCAL_RULES = {"manifest", "fusion_manifest", "dataset_table", "msssim_table", "evaluation_tables", "roc",
               "reader_kit", "downstream_tables", "report"}  # fmt: skip

pytest.importorskip("snakemake_executor_plugin_slurm")


def fake_cluster(folder: Path) -> dict[str, str]:
    """PATH with the fake SLURM commands first, and the fake's state folder."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    for command in COMMANDS:
        (bin_dir / command).symlink_to(FAKE)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "FAKE_SLURM_DIR": str(folder / "state"),
        "FAKE_SLURM_ACCOUNTS": "lab42",
        "FAKE_SLURM_PARTITIONS": "short*,gpu-a100",
    }


def edited_profile(target: Path) -> Path:
    """profiles/slurm as a user fills it in: every EDIT placeholder replaced by a site value."""
    target.mkdir()
    partitions = (REPO / "profiles" / "slurm" / "partitions.yaml").read_text()
    partitions = partitions.replace("EDIT-cpu:", "short:").replace("EDIT-gpu:", "gpu-a100:")
    (target / "partitions.yaml").write_text(partitions)
    profile = (REPO / "profiles" / "slurm" / "config.yaml").read_text()
    profile = profile.replace("EDIT-your-account", "lab42")
    profile = profile.replace("profiles/slurm/partitions.yaml", str(target / "partitions.yaml"))
    settings = yaml.safe_load(profile)
    settings["slurm-init-seconds-before-status-checks"] = 1  # the fake runs jobs at submission
    (target / "config.yaml").write_text(yaml.safe_dump(settings))
    assert "EDIT" not in (target / "config.yaml").read_text() + str(yaml.safe_load(partitions))
    return target


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory):
    if missing(ours_counts=True) is None:  # CI: the same checks run on a real SLURM (test_real_slurm.py)
        pytest.skip("a real one-node SLURM can run here: test_real_slurm.py runs the micro pipeline on it")
    folder = tmp_path_factory.mktemp("cluster")
    environment = fake_cluster(folder)
    workdir = folder / "work"
    workdir.mkdir()
    config = yaml.safe_load((REPO / "tests" / "micro.yaml").read_text())
    config["models"]["resources"].update(gpu=1, mem_mb=6000, runtime=45)
    (workdir / "cluster.yaml").write_text(yaml.safe_dump(config))
    profile = edited_profile(folder / "profile")
    command = [sys.executable, "-m", "snakemake", "results/report.html", "-s", str(REPO / "Snakefile")]
    command += ["--profile", str(profile), "--configfile", "cluster.yaml"]
    result = subprocess.run(
        command, cwd=workdir, env=environment, capture_output=True, text=True, check=False
    )
    submissions = [
        json.loads(line) for line in (folder / "state" / "submissions.jsonl").read_text().splitlines()
    ]
    return result, submissions, workdir


def _rule(submission: dict) -> str:
    comment = submission["options"]["--comment"].removeprefix("rule_")
    return comment.split("_wildcards_")[0]


def test_the_pipeline_completes_through_the_slurm_executor(cluster_run):
    result, submissions, workdir = cluster_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert (workdir / "results" / "report.html").exists()
    assert all(s["options"]["-A"] == "lab42" for s in submissions)
    assert all(s["options"]["-D"] == str(workdir) for s in submissions)


def test_gpu_jobs_ask_for_gpus_on_the_gpu_partition_with_their_memory_and_time(cluster_run):
    _, submissions, _ = cluster_run
    gpu_jobs = [s for s in submissions if _rule(s) in GPU_RULES]
    assert {_rule(s) for s in gpu_jobs} == GPU_RULES
    for submission in gpu_jobs:
        options = submission["options"]
        assert options["-p"] == "gpu-a100" and options["--gpus"] == "1", submission["argv"]
        assert options["--mem"] == "6000"
    training = [s["options"]["-t"] for s in gpu_jobs if _rule(s) in {"finetune", "train_inpaint"}]
    assert training and set(training) == {"45"}  # models.resources.runtime
    assert all("--gres" not in " ".join(s["argv"]) for s in submissions)


def test_cpu_jobs_stay_on_the_cpu_partition_without_gpus(cluster_run):
    _, submissions, _ = cluster_run
    cpu_jobs = [s for s in submissions if _rule(s) not in GPU_RULES]
    assert {"phantom", "index", "convert_shard", "manifest", "msssim", "reader_kit"} <= {
        _rule(s) for s in cpu_jobs
    }
    for submission in cpu_jobs:
        assert submission["options"]["-p"] == "short" and "--gpus" not in submission["options"], submission[
            "argv"
        ]
        assert int(submission["options"]["--mem"]) > 0 and int(submission["options"]["-t"]) > 0


def test_cheap_aggregation_rules_run_on_the_submit_node(cluster_run):
    _, submissions, _ = cluster_run
    assert not LOCAL_RULES & {_rule(s) for s in submissions}


def _bench_dryrun():
    spec = importlib.util.spec_from_file_location("bench_dryrun", REPO / "bench" / "bench_dryrun.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_slurm_profile_parses_with_the_thesis_config(tmp_path):
    config = _bench_dryrun().prepare_thesis_workdir(tmp_path, {"omi": 1200, "vindr": 700})
    command = [sys.executable, "-m", "snakemake", "-n", "results/report.html", "-s", str(REPO / "Snakefile")]
    command += ["--directory", str(tmp_path), "--configfile", str(config), "--profile", "profiles/slurm"]
    result = subprocess.run(
        command, cwd=REPO, env=fake_cluster(tmp_path / "fake"), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "convert_shard" in output and "finetune" in output and "train_inpaint" in output
    shutil.rmtree(tmp_path / "results", ignore_errors=True)
