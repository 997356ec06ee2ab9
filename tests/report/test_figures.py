"""Report figures: what each panel shows, read back from the matplotlib objects."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from mame.report.figures import guidance_grid, loss_curves, memorization_histograms


def test_the_guidance_grid_shows_the_first_seed_of_each_prompt_at_each_scale(tmp_path):
    rows = []
    for p, prompt in enumerate(["a mammogram in CC view", "a mammogram in MLO view"]):
        for g in (2.0, 7.0):
            for seed in (5, 6):
                path = tmp_path / f"{p}_{g}_{seed}.png"
                Image.fromarray(np.full((8, 8), 10 * p + g + seed, np.uint8)).save(path)
                rows.append(
                    {"prompt": prompt, "prompt_index": p, "guidance": g, "seed": seed, "file": str(path)}
                )
    figure = guidance_grid(pd.DataFrame(rows), "m")
    axes = np.array(figure.axes).reshape(2, 2)
    assert [a.get_title() for a in axes[0]] == ["guidance 2", "guidance 7"]
    shown = axes[1, 1].images[0].get_array()
    assert (np.asarray(shown) == 10 + 7 + 5).all()  # MLO row, guidance 7, the first seed


def test_memorization_histograms_have_one_panel_per_model_with_the_threshold():
    table = pd.DataFrame({"source": ["generated", "held-out real"], "correlation": [0.5, 0.7]})
    figure = memorization_histograms({"a": table, "b": table}, 0.9)
    assert [a.get_title() for a in figure.axes] == ["a", "b"]
    assert figure.axes[0].lines[0].get_xdata()[0] == 0.9


def test_loss_curves_draw_every_step_and_a_moving_average():
    log = pd.DataFrame({"step": range(1, 51), "loss": np.linspace(1, 0.1, 50)})
    figure = loss_curves({"fusion": log}, window=10)
    lines = figure.axes[0].lines
    assert len(lines) == 2 and len(lines[0].get_xdata()) == 50
