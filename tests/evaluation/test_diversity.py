"""Diversity: MS-SSIM per prompt and guidance with a real baseline, the study's protocol, its layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mame.evaluation.diversity import (
    diversity_table,
    guidance_contrasts,
    paired_difference_ci,
    study_protocol,
    wide_table,
)
from mame.evaluation.msssim import bootstrap_mean_ci, ms_ssim, pair_values


def _png(path, array) -> str:
    Image.fromarray(array.astype(np.uint8)).save(path)
    return str(path)


@pytest.fixture
def images(tmp_path):
    """Four identical samples at guidance 7, four different ones at 2, and three real images."""
    rng = np.random.default_rng(0)
    same = rng.integers(0, 256, (64, 64))
    rows = [
        {"model": "m", "prompt": "p", "guidance": 7.0, "file": _png(tmp_path / f"s{i}.png", same)}
        for i in range(4)
    ]
    rows += [
        {
            "model": "m",
            "prompt": "p",
            "guidance": 2.0,
            "file": _png(tmp_path / f"d{i}.png", rng.integers(0, 256, (64, 64))),
        }
        for i in range(4)
    ]
    real = pd.DataFrame(
        {
            "image": [_png(tmp_path / f"r{i}.png", rng.integers(0, 256, (64, 64))) for i in range(3)],
            "prompt": "p",
        }
    )
    return pd.DataFrame(rows), real


def test_identical_samples_score_one_and_real_images_form_the_baseline(images):
    samples, real = images
    table = diversity_table(samples, real, real_images=3, resamples=100).set_index("guidance")
    assert table.loc[7.0, "mean"] == pytest.approx(1.0) and table.loc[7.0, "sd"] == pytest.approx(0.0)
    assert table.loc[2.0, "mean"] < 0.2 and table.loc[2.0, "ci_low"] <= table.loc[2.0, "mean"]
    assert table.loc["real", "pairs"] == 3  # 3 real images: 3 pairs


def test_the_studys_protocol_averages_random_pairs(images):
    samples, _ = images
    protocol = study_protocol(samples, pairs=5, seed=1).set_index("guidance")
    assert protocol.loc[7.0, "mean"] == pytest.approx(1.0) and protocol.loc[7.0, "pairs"] == 5
    files = samples[samples["guidance"] == 2.0]["file"].tolist()
    one_pair = ms_ssim(np.asarray(Image.open(files[0])), np.asarray(Image.open(files[1])))
    assert abs(protocol.loc[2.0, "mean"] - one_pair) < 0.1


def test_the_wide_table_has_one_row_per_guidance_and_a_dash_without_a_baseline(images):
    samples, real = images
    table = diversity_table(samples, real, real_images=3, resamples=100)
    extra = table.iloc[[0]].assign(prompt="q")
    wide = wide_table(pd.concat([table, extra], ignore_index=True))
    assert list(wide.index) == ["guidance 2.0", "guidance 7.0", "real vs real"]
    assert wide.loc["guidance 7.0", "m: p"].startswith("1.000 ± 0.000 [")
    assert wide.loc["real vs real", "m: q"] == "—"


def test_a_row_of_too_few_images_says_its_interval_is_unreliable(images):
    samples, real = images
    table = diversity_table(samples, real, real_images=3, resamples=100)
    wide = wide_table(table)
    assert wide.loc["real vs real", "m: p"].endswith("(n=3: CI unreliable)")
    assert wide.loc["guidance 2.0", "m: p"].endswith("(n=4: CI unreliable)")
    many = table.assign(images=16)
    assert "unreliable" not in wide_table(many).loc["guidance 2.0", "m: p"]


def _seeded_matrix(effects: np.ndarray, shift: float, rng) -> np.ndarray:
    """Pair scores driven by each seed's own effect (shared across guidance), plus a shift and noise."""
    matrix = 0.5 + effects[:, None] + effects[None, :] + shift + rng.normal(0, 0.002, (len(effects),) * 2)
    matrix = (matrix + matrix.T) / 2
    np.fill_diagonal(matrix, 1.0)
    return matrix


def test_guidance_levels_are_compared_paired_by_seed():
    rng = np.random.default_rng(0)
    effects = rng.normal(0, 0.08, 12)
    low_guidance, high_guidance = _seeded_matrix(effects, 0.0, rng), _seeded_matrix(effects, 0.03, rng)
    difference, low, high = paired_difference_ci(high_guidance, low_guidance, resamples=500)
    assert difference == pytest.approx(pair_values(high_guidance).mean() - pair_values(low_guidance).mean())
    assert 0 < low < 0.03 < high < 0.04  # the seeds' shared effects cancel
    unpaired_high = bootstrap_mean_ci(high_guidance, resamples=500)
    unpaired_low = bootstrap_mean_ci(low_guidance, resamples=500)
    assert unpaired_high[0] < unpaired_low[1]  # apart, the two intervals overlap and show nothing
    matrices = {
        ("m", "p", 2.0): (low_guidance, 5, list(range(12))),
        ("m", "p", 7.0): (high_guidance[::-1, ::-1], 5, list(range(12))[::-1]),  # another seed order
    }
    table = guidance_contrasts(matrices, resamples=200)
    assert table[["guidance", "reference", "seeds"]].values.tolist() == [[7.0, 2.0, 12]]
    assert table["difference"].iloc[0] == pytest.approx(difference)
    with pytest.raises(ValueError, match="share their seeds"):
        paired_difference_ci(high_guidance, low_guidance[:5, :5])
