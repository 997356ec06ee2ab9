"""Metrics during training: a run with validation metrics logs FD, fidelity and MS-SSIM per validation
step, and what it logs is what the evaluation's own functions give on the same images."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mame.evaluation.distribution import distribution_table
from mame.evaluation.fidelity import classify_attributes, fidelity_by_guidance
from mame.evaluation.training_metrics import TrainingMetrics
from mame.training.trainer import Trainer

from conftest import PROMPTS, train_settings

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def measured(tiny, tmp_path_factory):
    root = tmp_path_factory.mktemp("measured")
    healthy = pd.read_csv(tiny["healthy"])
    healthy["view"] = ["CC" if "CC" in prompt else "MLO" for prompt in healthy["prompt"]]
    healthy["patient"] = [f"p{i}" for i in range(len(healthy))]
    manifest = root / "healthy.csv"
    healthy.to_csv(manifest, index=False)
    metrics = TrainingMetrics.from_manifests([str(manifest)])
    settings = train_settings(steps=4, validation_every=2, validation_prompts=PROMPTS,
                              validation_metrics=True, validation_metric_images=4,
                              validation_sampling_steps=4)  # fmt: skip
    Trainer(tiny["base"], [str(manifest)], root / "model" / "pipeline", root / "checkpoints", settings,
            metrics=metrics).run()  # fmt: skip
    return root / "model", metrics, settings


def test_each_validation_step_logs_fd_fidelity_and_ms_ssim(measured):
    model, _, _ = measured
    table = pd.read_csv(model / "validation_metrics.csv")
    assert sorted(set(table["step"])) == [2, 4]
    assert set(table["metric"]) == {"fd", "fidelity_view", "msssim"}
    assert (table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all()
    fidelity = table[table["metric"] == "fidelity_view"]
    assert (fidelity["n"] == 8).all() and fidelity["value"].between(0, 1).all()  # 2 prompts x 4 images
    assert (table[table["metric"] == "fd"]["n"] == 8).all()  # one n per run: the validation images


def test_the_logged_values_are_what_the_evaluation_functions_give_on_the_same_images(measured):
    model, metrics, settings = measured
    table = pd.read_csv(model / "validation_metrics.csv")
    files = sorted((model / "validation" / "metrics" / "step_000004").glob("*.png"))
    assert len(files) == 8
    guidance = settings.validation_guidance
    samples = pd.DataFrame(
        {
            "file": [str(f) for f in files],
            "guidance": guidance,
            "view": ["CC" if f.name.startswith("p00") else "MLO" for f in files],  # prompt 0 asks CC
        }
    )
    fidelity = fidelity_by_guidance(classify_attributes(samples, metrics.real))
    logged = table[(table["step"] == 4) & (table["metric"] == "fidelity_view")].iloc[0]
    assert logged["value"] == pytest.approx(fidelity["accuracy"].iloc[0])
    distribution = distribution_table(
        {guidance: metrics.encoder.embed_paths(samples["file"].tolist())},
        metrics.train_features,
        metrics.holdout_features,
        metrics.draws,
        metrics.seed,
    )
    expected = distribution[distribution["compared"] == "samples"].iloc[0]
    logged = table[(table["step"] == 4) & (table["metric"] == "fd")].iloc[0]
    assert logged["value"] == pytest.approx(expected["fd"]) and logged["low"] == pytest.approx(
        expected["fd_low"]
    )


def test_a_fresh_run_in_the_same_folder_starts_the_table_anew(measured, tiny, tmp_path):
    import shutil

    model, metrics, settings = measured
    copy = tmp_path / "model"
    shutil.copytree(model, copy)  # the other tests read the fixture's own table
    again = train_settings(**{**settings.__dict__, "steps": 2, "resume": "none"})
    Trainer(tiny["base"], [str(model.parent / "healthy.csv")], copy / "pipeline", tmp_path / "checkpoints",
            again, metrics=metrics).run()  # fmt: skip
    table = pd.read_csv(copy / "validation_metrics.csv")
    assert table["step"].tolist().count(2) == 3 and 4 not in set(table["step"])  # fd, fidelity, msssim
