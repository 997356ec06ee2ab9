"""Separability: distinguishable sets give AUC near 1, identically distributed sets near 0.5."""

from __future__ import annotations

import numpy as np
from PIL import Image

from mame.evaluation.separability import bootstrap_auc, separability


def _set(tmp_path, name, count, rng, bright):
    paths = []
    for i in range(count):
        image = rng.integers(0, 120, (48, 48))
        image[:, :24] += 100 if bright else 0
        path = tmp_path / f"{name}{i}.png"
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    return paths


def test_separable_sets_score_high_and_same_sets_near_chance(tmp_path):
    rng = np.random.default_rng(0)
    real = _set(tmp_path, "r", 30, rng, bright=False)
    different = _set(tmp_path, "d", 30, rng, bright=True)
    alike = _set(tmp_path, "a", 30, rng, bright=False)
    assert separability(real, different, resamples=200)["auc"] > 0.95
    same = separability(real, alike, resamples=200)
    assert 0.2 < same["auc"] < 0.8 and same["ci_low"] < 0.5 < same["ci_high"]


def test_bootstrap_interval_contains_the_auc():
    rng = np.random.default_rng(1)
    labels = np.array([0] * 40 + [1] * 40)
    scores = np.concatenate([rng.normal(0, 1, 40), rng.normal(1, 1, 40)])
    from sklearn.metrics import roc_auc_score

    low, high = bootstrap_auc(labels, scores, resamples=500)
    assert low < roc_auc_score(labels, scores) < high
