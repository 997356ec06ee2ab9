"""The memorization check flags a training image slipped into the samples, and nothing else."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from mame.evaluation.memorization import memorization_summary, memorization_table


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


def test_the_summary_counts_flags_read_back_as_text_and_gives_median_and_p95():
    table = pd.DataFrame(
        {
            "model": ["m"] * 5 + ["m"] * 2,
            "source": ["generated"] * 5 + ["held-out real"] * 2,
            "correlation": [0.1, 0.2, 0.3, 0.4, 0.99, 0.5, 0.7],
            "flagged": ["False", "False", "False", "False", "True", False, False],
        }
    )
    summary = memorization_summary(table)
    generated = summary.loc[("m", "generated")]
    assert generated.tolist() == [5, 0.3, round(np.quantile([0.1, 0.2, 0.3, 0.4, 0.99], 0.95), 3), 1]
    assert summary.loc[("m", "held-out real"), "flagged"] == 0
    assert list(summary.columns) == ["images", "median", "p95", "flagged"]
