"""Phases of a run: seconds, steps/s and memory per phase, written beside the loss log."""

from __future__ import annotations

import time

import pandas as pd
import torch

from mame.training.figures import loss_summary
from mame.training.phases import Phases
from mame.training.trainer import WARM_UP_STEPS, Trainer

from conftest import train_settings


def test_phases_add_up_calls_steps_and_rates():
    phases = Phases(torch.device("cpu"))
    for _ in range(3):
        with phases.phase("steps", steps=1):
            time.sleep(0.02)
    with phases.phase("validation"):
        pass
    rows = {row["phase"]: row for row in phases.table()}
    assert rows["steps"]["calls"] == 3 and rows["steps"]["steps"] == 3
    assert 0.06 <= rows["steps"]["seconds"] < 1 and 2 < rows["steps"]["steps_per_s"] <= 50
    assert rows["validation"]["steps_per_s"] == "" and rows["steps"]["host_rss_mb"] > 10
    assert rows["steps"]["peak_device_mb"] == ""  # no device on a CPU


def test_a_run_writes_its_phases_and_the_loss_table_reads_them(tiny, tmp_path):
    Trainer(
        tiny["base"], [tiny["healthy"]], tmp_path / "m" / "pipeline", tmp_path / "c", train_settings(steps=5)
    ).run()
    phases = pd.read_csv(tmp_path / "m" / "phases.csv")
    # the first steps (autotuning, optimizer state, compilation on a GPU) are timed apart from the steady ones
    assert phases["phase"].tolist() == ["load", "first_steps", "steps", "save"]
    assert phases.set_index("phase").loc["first_steps", "steps"] == WARM_UP_STEPS
    assert phases.set_index("phase").loc["steps", "steps"] == 5 - WARM_UP_STEPS
    log = pd.read_csv(tmp_path / "m" / "training_log.csv")
    table = loss_summary({"m": log}, {"m": phases})
    assert table.loc["m", "steps/s"] == phases.set_index("phase").loc["steps", "steps_per_s"]
    assert table.loc["m", "peak memory of a step (MB)"] > 0
