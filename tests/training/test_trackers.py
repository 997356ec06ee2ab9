"""Each experiment tracker that is installed logs the run's settings, every step's loss and lr, and the
validation grid, read back with the tracker's own format: TensorBoard's event reader, MLflow's file
store, W&B's transaction log (its protobuf records). A missing package is one warning, not a failure."""

from __future__ import annotations

import glob
import importlib.util
import json
import struct
from pathlib import Path

import pandas as pd
import pytest
import torch

from mame.training import trackers
from mame.training.trainer import Trainer

from conftest import train_settings

torch.set_num_threads(1)
INSTALLED = [name for name in trackers.TRACKERS if importlib.util.find_spec(name) is not None]


@pytest.fixture(scope="module")
def tracked(tiny, tmp_path_factory):
    if not INSTALLED:
        pytest.skip("no tracker installed (pip install 'mame[trackers]')")
    out = tmp_path_factory.mktemp("tracked")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("WANDB_MODE", "WANDB_DIR", "MLFLOW_TRACKING_URI"):
            patch.delenv(name, raising=False)
        Trainer(
            tiny["base"],
            [tiny["healthy"]],
            out / "model" / "pipeline",
            out / "checkpoints",
            train_settings(steps=4, validation_every=4, trackers=INSTALLED),
            model_name="tracked",
        ).run()
    model = out / "model"
    return model, pd.read_csv(model / "training_log.csv")


def _wandb_records(path: Path) -> list:
    """W&B's offline transaction log: a 7-byte header, then LevelDB-log blocks of protobuf Records."""
    from wandb.proto import wandb_internal_pb2

    data, position, block, pending, records = path.read_bytes(), 7, 32768, b"", []
    assert data[:4] == b":W&B"
    while position + 7 <= len(data):
        if block - position % block < 7:
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        chunk, position = data[position + 7 : position + 7 + length], position + 7 + length
        if kind == 1:
            records.append(chunk)
        elif kind in (2, 3):
            pending += chunk
        elif kind == 4:
            records.append(pending + chunk)
            pending = b""
    parsed = []
    for raw in records:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(raw)
        parsed.append(record)
    return parsed


def logged(model: Path, name: str) -> tuple[dict[int, float], dict, int]:
    """(step -> loss, the settings as logged, number of validation images) from one tracker's files."""
    if name == "tensorboard":
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        runs = sorted(glob.glob(str(model / "tensorboard" / "mame" / "events.*")))
        events = EventAccumulator(runs[0], size_guidance={"images": 0})
        events.Reload()
        losses = {e.step: e.value for e in events.Scalars("loss")}
        hparams = (model / "tensorboard" / "mame").rglob("hparams.yml")
        import yaml

        return losses, yaml.safe_load(next(hparams).read_text()), len(events.Images("validation"))
    if name == "mlflow":
        (run,) = [p for p in (model / "mlruns").glob("*/*") if (p / "metrics").is_dir()]
        lines = (run / "metrics" / "loss").read_text().split()
        losses = {int(lines[i + 2]): float(lines[i + 1]) for i in range(0, len(lines), 3)}
        params = {p.name: p.read_text() for p in (run / "params").iterdir()}
        return losses, params, len(list((run / "artifacts").rglob("*.png")))
    (path,) = glob.glob(str(model / "wandb" / "offline-run-*" / "run-*.wandb"))
    losses, config = {}, {}
    for record in _wandb_records(Path(path)):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            items = {i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in record.history.item}
            if "loss" in items:
                losses[int(items["_step"])] = items["loss"]
        elif kind == "config":
            update = record.config.update
            config.update({i.key or "/".join(i.nested_key): json.loads(i.value_json) for i in update})
    config = {k: v.get("value", v) if isinstance(v, dict) else v for k, v in config.items()}
    images = glob.glob(str(Path(path).parent / "files" / "media" / "images" / "*.png"))
    return losses, config, len(images)


@pytest.mark.parametrize("name", trackers.TRACKERS)
def test_each_installed_tracker_holds_the_losses_settings_and_validation_grid(tracked, name):
    if name not in INSTALLED:
        pytest.skip(f"{name} is not installed")
    model, csv = tracked
    losses, settings, images = logged(model, name)
    assert sorted(losses) == csv["step"].tolist() == [1, 2, 3, 4]
    assert [losses[s] for s in csv["step"]] == pytest.approx(csv["loss"].tolist(), abs=1e-5)
    assert float(settings["lr"]) == pytest.approx(1e-3) and int(settings["steps"]) == 4
    assert images == 1  # the grid of the one validation step


def test_a_tracker_that_is_not_installed_is_one_warning_and_the_csv_log_is_written(
    tiny, tmp_path, monkeypatch
):
    monkeypatch.setattr(trackers, "installed", lambda name: False)
    with pytest.warns(UserWarning, match="wandb is not installed"):
        Trainer(
            tiny["base"],
            [tiny["healthy"]],
            tmp_path / "model" / "pipeline",
            tmp_path / "checkpoints",
            train_settings(steps=2, validation_every=0, trackers=["wandb"]),
        ).run()
    assert pd.read_csv(tmp_path / "model" / "training_log.csv")["step"].tolist() == [1, 2]
    assert not (tmp_path / "model" / "wandb").exists()


def test_an_unknown_tracker_is_refused_by_name():
    with pytest.raises(ValueError, match="trackers"):
        train_settings(trackers=["comet"])
