"""The training stage's figures and loss table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from mame.training.figures import loss_curves, loss_summary, validation_shown


def test_loss_curves_draw_every_step_and_a_moving_average():
    log = pd.DataFrame({"step": range(1, 51), "loss": np.linspace(1, 0.1, 50)})
    figure = loss_curves({"fusion": log}, window=10)
    lines = figure.axes[0].lines
    assert len(lines) == 2 and len(lines[0].get_xdata()) == 50


def test_the_loss_table_gives_steps_the_mean_of_the_last_25_losses_and_minutes():
    log = pd.DataFrame(
        {"step": range(1, 101), "loss": [1.0] * 75 + [0.2] * 25, "seconds": np.arange(1, 101) * 6.0}
    )
    table = loss_summary({"fusion": log, "empty": log.iloc[:0]})
    assert table.index.tolist() == ["fusion"]
    assert table.loc["fusion"].tolist() == [100, 0.2, 10.0]


def test_validation_figures_show_at_most_five_grids_from_first_to_last(tmp_path):
    for step in range(0, 1000, 100):
        Image.new("L", (4, 4)).save(tmp_path / f"step_{step:06d}.png")
    shown = [p.name for p in validation_shown(tmp_path)]
    assert shown[0] == "step_000000.png" and shown[-1] == "step_000900.png" and len(shown) == 5
    assert len(validation_shown(tmp_path, most=20)) == 10
