"""The sampling stage's figures, read back from the matplotlib objects."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from mame.sampling.figures import guidance_grid


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
