"""The memorization check flags a training image slipped into the samples, and nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mame.evaluation.memorization import exceedance, memorization_summary, memorization_table


def _write(path, array):
    Image.fromarray(array.astype(np.uint8)).save(path)
    return str(path)


def test_an_exact_copy_of_a_training_image_is_flagged(tmp_path):
    rng = np.random.default_rng(0)
    train = [_write(tmp_path / f"t{i}.png", rng.integers(0, 256, (64, 64))) for i in range(10)]
    fresh = [_write(tmp_path / f"s{i}.png", rng.integers(0, 256, (64, 64))) for i in range(5)]
    copy = _write(tmp_path / "copy.png", np.asarray(Image.open(train[3])))
    samples = pd.DataFrame({"file": fresh + [copy], "guidance": [7.0] * 6})
    training = pd.DataFrame({"image": train, "key": [f"k{i}" for i in range(10)]})
    holdout = pd.DataFrame({"image": [_write(tmp_path / "h.png", rng.integers(0, 256, (64, 64)))]})
    table = memorization_table(samples, training, holdout, threshold=0.95)
    generated = table[table["source"] == "generated"]
    assert generated["flagged"].tolist() == [False] * 5 + [True]
    assert generated.iloc[-1]["nearest_training_key"] == "k3" and generated.iloc[-1]["correlation"] > 0.999
    assert table[table["source"] == "held-out real"]["flagged"].tolist() == [False]


def test_without_a_threshold_only_samples_closer_than_every_holdout_image_are_flagged(tmp_path):
    rng = np.random.default_rng(1)
    train = [_write(tmp_path / f"t{i}.png", rng.integers(0, 256, (64, 64))) for i in range(10)]
    copy = _write(tmp_path / "copy.png", np.asarray(Image.open(train[2])))
    fresh = [_write(tmp_path / f"s{i}.png", rng.integers(0, 256, (64, 64))) for i in range(4)]
    holdout = [_write(tmp_path / f"h{i}.png", rng.integers(0, 256, (64, 64))) for i in range(3)]
    table = memorization_table(
        pd.DataFrame({"file": fresh + [copy], "guidance": 7.0}),
        pd.DataFrame({"image": train, "key": [f"k{i}" for i in range(10)]}),
        pd.DataFrame({"image": holdout}),
    )
    holdout_rows = table[table["source"] == "held-out real"]
    assert (table["threshold"] == holdout_rows["correlation"].max()).all()
    assert table.loc[table["source"] == "generated", "flagged"].tolist() == [False] * 4 + [True]


def test_the_exceedance_p_value_is_the_exchangeable_probability():
    """640 samples, 36 held-out images, 43 samples above the held-out maximum: p = 0.09 (no signal)."""
    holdout = np.linspace(0.80, 0.95, 36)
    samples = np.r_[np.full(43, 0.97), np.full(597, 0.5)]
    k, p = exceedance(samples, holdout)
    assert k == 43 and p == pytest.approx(np.prod([(640 - i) / (676 - i) for i in range(43)]))
    assert 0.08 < p < 0.10
    assert exceedance(samples[:1], holdout) == (1, pytest.approx(1 / 37))


def test_the_summary_counts_flags_read_back_as_text_and_tests_exceedance():
    table = pd.DataFrame(
        {
            "model": ["m"] * 5 + ["m"] * 2,
            "source": ["generated"] * 5 + ["held-out real"] * 2,
            "correlation": [0.1, 0.2, 0.3, 0.4, 0.99, 0.5, 0.7],
            "flagged": ["False", "False", "False", "False", "True", False, False],
            "threshold": 0.7,
        }
    )
    summary = memorization_summary(table)
    generated = summary.loc[("m", "generated")]
    p95 = round(np.quantile([0.1, 0.2, 0.3, 0.4, 0.99], 0.95), 3)
    assert generated[["images", "median", "p95", "threshold", "flagged"]].tolist() == [5, 0.3, p95, 0.7, 1]
    assert generated["above held-out max"] == 1 and generated["expected by chance"] == round(5 / 3, 1)
    assert float(generated["p (exceedance)"]) == pytest.approx(5 / 7, rel=1e-3)
    assert summary.loc[("m", "held-out real"), "p (exceedance)"] == ""
