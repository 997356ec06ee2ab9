"""Separability: distinguishable sets give AUC near 1, identically distributed sets near 0.5; folds keep
patients and seeds whole, real images match the prompts' conditions, the CV interval follows LeDell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.metrics import roc_auc_score

from mame.evaluation.separability import cross_validated_auc, matched_real, separability


def _save(tmp_path, name: str, image: np.ndarray) -> str:
    path = tmp_path / f"{name}.png"
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(path)
    return str(path)


def _set(tmp_path, name, count, rng, bright):
    paths = []
    for i in range(count):
        image = rng.integers(0, 120, (48, 48))
        image[:, :24] += 100 if bright else 0
        paths.append(_save(tmp_path, f"{name}{i}", image))
    return paths


def test_separable_sets_score_high_and_same_sets_near_chance(tmp_path):
    rng = np.random.default_rng(0)
    real = _set(tmp_path, "r", 30, rng, bright=False)
    different = _set(tmp_path, "d", 30, rng, bright=True)
    alike = _set(tmp_path, "a", 30, rng, bright=False)
    assert separability(real, different)["auc"] > 0.95
    same = separability(real, alike)
    assert 0.2 < same["auc"] < 0.8 and same["ci_low"] < 0.5 < same["ci_high"]


def _families(tmp_path, name: str, rng, families: int, each: int) -> tuple[list[str], list[str]]:
    """Images in families (a woman, a starting noise) that share a pattern; real and synthetic families
    come from one distribution, so only recognising a family could tell them apart."""
    paths, groups = [], []
    for family in range(families):
        pattern = np.kron(rng.random((6, 6)), np.ones((8, 8))) * 255
        for member in range(each):
            paths.append(
                _save(tmp_path, f"{name}{family}_{member}", pattern + rng.normal(0, 3, pattern.shape))
            )
            groups.append(str(family))
    return paths, groups


def test_folds_keep_a_patients_and_a_seeds_images_together(tmp_path):
    rng = np.random.default_rng(5)
    real, patients = _families(tmp_path, "real", rng, 10, 4)
    synthetic, seeds = _families(tmp_path, "synthetic", rng, 10, 4)
    split_families = separability(real, synthetic)  # folds split families: recognised, not told apart
    grouped = separability(real, synthetic, patients, seeds)
    assert split_families["auc"] > 0.85
    assert grouped["auc"] < 0.75 and grouped["ci_low"] < 0.5
    assert (grouped["real_groups"], grouped["synthetic_groups"]) == (10, 10)


def test_real_images_are_matched_to_the_conditions_the_prompts_asked_for():
    samples = pd.DataFrame(
        {
            "file": [f"s{i}.png" for i in range(10)],
            "vendor": ["siemens"] * 10,
            "view": ["CC"] * 6 + ["MLO"] * 4,
            "density": ["very high"] * 3 + ["very low"] * 3 + ["very low"] * 2 + ["low"] * 2,
        }
    )
    real = pd.DataFrame(
        {
            "image": [f"r{i}.png" for i in range(9)],
            "vendor": ["siemens"] * 9,
            "view": ["CC", "CC", "CC", "CC", "MLO", "MLO", "MLO", "CC", "CC"],
            "density": [
                "very high",
                "very high",
                "very low",
                "very low",
                "very low",
                "high",
                "high",
                "low",
                "low",
            ],
        }
    )
    picked_samples, picked_real = matched_real(samples, real)

    def mix(frame):
        return sorted(zip(frame["view"], frame["density"], strict=True))

    assert mix(picked_samples) == mix(picked_real)  # the same conditions, as often
    assert ("MLO", "low") not in mix(picked_samples)  # no real MLO 'low': those samples are left out
    assert "high" not in set(picked_real["density"])  # never asked for: never drawn
    assert len(picked_samples) == 2 + 2 + 1
    assert picked_real["image"].is_unique


def _cv_auc_by_hand(labels, scores, folds):
    """R cvAUC::ci.cvAUC written out: fold AUCs, influence values weighted by 1 / class share."""
    n, p1 = len(labels), np.mean(labels == 1)
    aucs, variances = [], []
    for test in folds:
        y, s = labels[test], scores[test]
        fold_auc = roc_auc_score(y, s)
        values = []
        for i in range(len(y)):
            if y[i] == 1:
                values.append((np.mean(s[y == 0] < s[i]) - fold_auc) / p1)
            else:
                values.append((np.mean(s[y == 1] > s[i]) - fold_auc) / (1 - p1))
        aucs.append(fold_auc)
        variances.append(np.mean(np.square(values)))
    return np.mean(aucs), np.sqrt(np.mean(variances) / n)


def test_cross_validated_auc_equals_the_influence_curve_formula():
    rng = np.random.default_rng(2)
    labels = np.array([0] * 37 + [1] * 23)
    scores = rng.normal(labels * 0.8, 1.0)
    folds = np.array_split(rng.permutation(60), 4)
    result = cross_validated_auc(labels, scores, folds)
    estimate, se = _cv_auc_by_hand(labels, scores, folds)
    assert result["auc"] == pytest.approx(estimate, abs=1e-12)
    assert result["se"] == pytest.approx(se, abs=1e-12)
    assert result["ci_low"] == pytest.approx(estimate - 1.959964 * se, abs=1e-6)


def test_a_perfect_separation_gets_a_boundary_interval_not_a_point(tmp_path):
    rng = np.random.default_rng(0)
    result = separability(_set(tmp_path, "r", 20, rng, False), _set(tmp_path, "d", 20, rng, True))
    assert result["auc"] == 1.0 and result["ci_method"].startswith("Newcombe")
    assert result["ci_low"] < 0.97 and result["ci_high"] == 1.0
