"""Early stopping: the best validation step's weights are kept, the run stops after `patience`
validations without improvement, a resumed run keeps its best so far, and the model card names the step."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mame.models.components import load_components
from mame.training.early_stopping import EarlyStopping, metric_value
from mame.training.settings import TrainSettings
from mame.training.trainer import Trainer

from conftest import PROMPTS, train_settings

torch.set_num_threads(1)

FD_BY_STEP = {2: 5.0, 4: 3.0, 6: 3.5, 8: 4.0, 10: 1.0, 12: 0.5}  # best at 4; patience 2 stops at 8


def scripted_metrics(images, prompts, step, guidance, folder):
    """Stands in for TrainingMetrics: a fixed FD per step, and a fidelity row early stopping ignores."""
    return [
        {"step": step, "metric": "fd", "value": FD_BY_STEP[step], "low": 0.0, "high": 9.0, "n": len(images)},
        {"step": step, "metric": "fidelity_view", "value": 0.5, "low": 0.2, "high": 0.8, "n": len(images)},
    ]


def settings(**changes) -> TrainSettings:
    values = {"steps": 12, "validation_every": 2, "validation_metrics": True,
              "validation_prompts": PROMPTS[:1], "validation_sampling_steps": 2,
              "validation_metric_images": 2, "early_stopping": {"metric": "fd", "patience": 2}}  # fmt: skip
    return train_settings(**{**values, **changes})


def train(tiny, root, stop_after=None, **changes):
    trainer = Trainer(tiny["base"], [tiny["healthy"]], root / "pipeline", root / "checkpoints",
                      settings(**changes), metrics=scripted_metrics)  # fmt: skip
    return trainer.run(stop_after=stop_after)


def weights(path) -> dict[str, torch.Tensor]:
    parts = load_components(str(path))
    modules = ("unet", "text_encoder")
    return {f"{m}.{k}": v for m in modules for k, v in getattr(parts, m).state_dict().items()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def stopped(tiny, tmp_path_factory):
    """A 12-step run stopped by early stopping, and a plain 4-step run (the best step's weights)."""
    root = tmp_path_factory.mktemp("early")
    result = train(tiny, root / "stopped")
    train(tiny, root / "four", steps=4, early_stopping=None)
    return root, result


def test_the_run_stops_after_patience_validations_without_improvement(stopped):
    root, result = stopped
    assert result.steps_done == 8 and result.best_step == 4 and not result.interrupted
    logged = pd.read_csv(root / "stopped" / "training_log.csv")
    assert logged["step"].max() == 8
    assert sorted(set(pd.read_csv(root / "stopped" / "validation_metrics.csv")["step"])) == [2, 4, 6, 8]


def test_the_saved_weights_are_the_best_steps_not_the_last(stopped):
    root, _ = stopped
    kept, best = weights(root / "stopped" / "pipeline"), weights(root / "four" / "pipeline")
    assert same(kept, best)


def test_the_model_card_names_the_best_step_and_where_training_ended(stopped):
    root, _ = stopped
    card = (root / "stopped" / "pipeline" / "README.md").read_text()
    assert "steps: 8 of 12" in card
    assert "early stopping on fd (lower is better, patience 2 validations" in card
    assert "best 3.0000 at step 4; these weights are that step's" in card


def test_a_resumed_run_keeps_its_best_and_ends_as_the_uninterrupted_one(stopped, tiny, tmp_path):
    root, _ = stopped
    first = train(tiny, tmp_path, stop_after=6, checkpoint_every=2)  # validated at 2, 4, 6: best 4, 1 stale
    assert first.interrupted and (tmp_path / "checkpoints" / "best" / "best.json").exists()
    (tmp_path / "training_log.csv").unlink()  # Snakemake removes a failed job's outputs
    resumed = train(tiny, tmp_path, checkpoint_every=2)
    assert resumed.steps_done == 8 and resumed.best_step == 4
    assert same(weights(tmp_path / "pipeline"), weights(root / "four" / "pipeline"))


def test_a_fresh_run_drops_an_earlier_runs_best(tiny, tmp_path):
    (tmp_path / "checkpoints" / "best").mkdir(parents=True)
    (tmp_path / "checkpoints" / "best" / "best.json").write_text('{"step": 2, "value": 0.0, "tag": "x"}')
    result = train(tiny, tmp_path, steps=4, resume="none")
    assert result.best_step == 4  # 3.0 at step 4 beats 5.0 at 2; the stale 0.0 was not kept


def test_improvement_follows_each_metrics_direction_and_min_delta():
    fd = EarlyStopping("fd", patience=1, min_delta=0.5)
    assert fd.update(2, [{"metric": "fd", "value": 4.0}])
    assert not fd.update(4, [{"metric": "fd", "value": 3.8}]) and fd.should_stop  # within min_delta
    fidelity = EarlyStopping("fidelity", patience=3)
    rows = lambda a, b: [{"metric": "fidelity_view", "value": a}, {"metric": "fidelity_area", "value": b}]  # noqa: E731
    assert fidelity.update(2, rows(0.5, 0.7)) and fidelity.best_value == pytest.approx(0.6)
    assert fidelity.update(4, rows(0.9, 0.5)) and fidelity.best_step == 4  # mean 0.7 > 0.6: higher is better
    assert not fidelity.update(6, [{"metric": "fd", "value": 1.0}])  # no fidelity measured: stale
    assert fidelity.stale == 1 and not fidelity.should_stop
    assert metric_value([{"metric": "msssim", "value": 0.3}], "fd") is None


@pytest.mark.parametrize(
    "values, message",
    [
        ({"metric": "loss", "patience": 2}, "metric 'loss' is not one of"),
        ({"metric": "fd", "patience": 0}, "patience 0"),
        ({"metric": "fd", "patience": 2, "min_delta": -1}, "min_delta -1"),
        ({"metric": "fd", "patience": 2, "mode": "min"}, "unknown key(s) ['mode']"),
    ],
)
def test_bad_early_stopping_settings_are_named(values, message):
    with pytest.raises(ValueError, match="early_stopping") as error:
        TrainSettings(validation_metrics=True, early_stopping=values)
    assert message in str(error.value)


def test_early_stopping_needs_the_validation_metrics_it_reads():
    with pytest.raises(ValueError, match="needs validation_metrics: true"):
        TrainSettings(early_stopping={"metric": "fd", "patience": 2})
