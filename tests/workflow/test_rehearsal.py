"""The rehearsal config plans every GPU stage of the real study (its dry-run is what CI can run)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from conftest import REPO


@pytest.mark.parametrize("family", ["sd15", "sd2", "sdxl", "sana"])
def test_the_rehearsal_plans_the_random_base_latents_and_gpu_jobs(tmp_path, family):
    command = [sys.executable, "-m", "snakemake", "-n", "results/report.html", "-s", str(REPO / "Snakefile")]
    overlays = [] if family == "sd15" else [str(REPO / "config" / f"rehearsal-{family}.yaml")]
    command += [
        "--directory",
        str(tmp_path),
        "--configfile",
        str(REPO / "config" / "rehearsal.yaml"),
        *overlays,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", output, flags=re.M))
    bases = [b for b in output.split("rule ") if b.startswith("random_base:")]
    # Sana has no inpainting pipeline: its rehearsal paints lesions with the SDXL twin
    families = {family, "sdxl"} if family == "sana" else {family}
    assert (
        jobs["random_base"] == str(len(families))
        and jobs["encode_latents"] == jobs["encode_inpaint_latents"] == "2"
    )
    assert {re.search(r"wildcards: family=(\w+)", b).group(1) for b in bases} == families
    assert jobs["finetune"] == "1" and jobs["train_inpaint"] == "1"
    # the full field: SD's x4 upscaler at its true size, random, trained and applied on the GPU
    assert jobs["random_upscaler"] == jobs["train_upscaler"] == jobs["full_field_distribution"] == "1"
    blocks = output.split("rule ")
    training = next(b for b in blocks if b.startswith("train_upscaler:"))
    assert "input: results/models/base/x4-upscaler-random," in training
    gpu_rules = ("encode_latents", "encode_inpaint_latents", "finetune", "train_inpaint", "sample_sweep")
    for rule in (*gpu_rules, "train_upscaler", "upscale_samples"):
        block = next(b for b in blocks if b.startswith(f"{rule}:"))
        assert "gpu=1" in block, f"{rule} must ask for a GPU (SLURM sends it to the GPU partition)"
    latents = [b for b in blocks if b.startswith(("encode_latents:", "encode_inpaint_latents:"))]
    assert {re.search(r"output: (\S+)", b).group(1) for b in latents} == {
        f"results/latents/{vae}/{dataset}" for vae in ("base", "inpaint") for dataset in ("omi", "vindr")
    }


def test_a_model_with_its_own_base_gets_that_base_and_latents_of_its_vae(tmp_path):
    """The study's per-model bases: fusion from SD 2 beside a single-vendor model from SD 1.5."""
    config = yaml.safe_load((REPO / "config" / "rehearsal.yaml").read_text())
    config["models"]["finetune"] = {
        "fusion": {"datasets": ["fusion"], "base": "sd2-random"},
        "solo": {"datasets": ["omi"]},
    }
    (tmp_path / "own.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snakemake", "-n", "results/report.html", "-s", str(REPO / "Snakefile")]
    command += ["--directory", str(tmp_path), "--configfile", str(tmp_path / "own.yaml")]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    finetune = {
        re.search(r"wildcards: model=(\w+)", b).group(1): re.search(r"input: (.+)", b).group(1)
        for b in output.split("rule ")
        if b.startswith("finetune:")
    }
    assert finetune["fusion"].startswith("results/models/base/sd2-random,")
    assert "results/latents/base-sd2-random/omi" in finetune["fusion"]
    assert (
        finetune["solo"]
        == "results/models/base/sd15-random, results/data/omi/healthy.csv, results/latents/base/omi"
    )
