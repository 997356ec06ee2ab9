"""The GPU benchmarks of bench/gpu_session.sh, run on the CPU with the demo's tiny model: each writes
its JSON with numbers in every field the GPU run reports, so the one prepared call cannot break unseen."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO


def bench(script: str, out, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--tiny", "--out", str(out), *args],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.mark.parametrize("family", ["sd15", "sdxl", "sana"])
def test_the_trainer_benchmark_runs_its_recipe_and_reports_steps_per_second(tmp_path, family):
    record = bench("bench_train_gpu.py", tmp_path / "train.json", "--steps", "4", "--images", "32",
                   "--recipes", "thesis", "--scratch", str(tmp_path / "s"), "--family", family,
                   "--vae-steps", "2")  # fmt: skip
    (run,) = record["runs"]
    assert "error" not in run, run
    assert run["recipe"] == "thesis" and run["steps_per_s"] > 0 and run["load_s"] >= 0
    assert record["encode"]["images"] == 32 and record["tflop_per_step"] > 0 and record["family"] == family


def test_the_sampling_benchmark_times_every_recipe_against_plain_diffusers(tmp_path):
    record = bench("bench_sample_gpu.py", tmp_path / "sample.json", "--batches", "1", "--batch", "2",
                   "--images", "16", "--steps", "2")  # fmt: skip
    runs = {run["recipe"]: run for run in record["runs"]}
    assert set(runs) == {"plain", "sweep", "bf16_cl", "compile"}
    assert all("error" not in run and run["images_per_s"] > 0 for run in runs.values()), runs
    assert runs["plain"]["ratio_to_plain"] == 1.0
    # 50 images x 16 prompts of the thesis config's three models x 11 guidance scales
    assert record["study_sweep_images"] == 50 * 16 * 11
    assert record["latent_stage"]["images"] == 16 and record["latent_stage"]["study_minutes"] > 0
