"""Real-vs-synthetic separability: can a classifier tell generated images from real ones?

Features are those of the fidelity classifiers (a downsampled copy plus the breast's intensity
histogram) into a strongly regularised logistic regression. Three things keep the AUC honest:

- the real images are matched to the samples' prompts (same vendor, view, area / density, as many per
  condition as samples), so the observer cannot win on breast size or density alone;
- folds never split a woman (real images grouped by patient) or a starting noise (samples grouped by
  seed: a seed's images at other prompts correlate more than unrelated samples);
- the AUC is the mean of the folds' AUCs with the influence-curve interval of a cross-validated AUC
  (LeDell, Petersen & van der Laan 2015), not a bootstrap of pooled out-of-fold scores that treats the
  fold models as fixed. AUC 0.5 = indistinguishable to this observer.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from mame.evaluation.discriminator import discriminator, image_features
from mame.stats.auc import newcombe, placements

log = logging.getLogger(__name__)

CONDITIONS = ("vendor", "view", "area", "density", "laterality")
CI_METHOD = "CV influence curve (LeDell 2015)"


def cross_validated_auc(
    labels: np.ndarray, scores: np.ndarray, folds: list[np.ndarray], level: float = 0.95
) -> dict[str, float]:
    """Mean of the folds' AUCs (positive = 1) and its influence-curve SE and Wald interval (clipped to
    [0, 1]). Per fold, a positive's influence is (its share of the fold's negatives it outranks - the
    fold's AUC) / P(positive), a negative's likewise; the variance is the mean squared influence / n."""
    labels, scores = np.asarray(labels), np.asarray(scores, float)
    n = labels.size
    share_positive = float(np.mean(labels == 1))
    fold_aucs, squared = [], []
    for test in folds:
        positive, negative = scores[test][labels[test] == 1], scores[test][labels[test] == 0]
        if positive.size == 0 or negative.size == 0:
            raise ValueError("every validation fold needs real and synthetic images")
        v10, v01 = placements(positive, negative)
        fold_auc = float(v10.mean())
        influence = np.concatenate(
            [(v10 - fold_auc) / share_positive, (v01 - fold_auc) / (1 - share_positive)]
        )
        fold_aucs.append(fold_auc)
        squared.append(float(np.mean(influence**2)))
    estimate = float(np.mean(fold_aucs))
    se = math.sqrt(float(np.mean(squared)) / n)
    half = float(stats.norm.ppf(0.5 + level / 2)) * se
    return {
        "auc": estimate,
        "se": se,
        "ci_low": max(0.0, estimate - half),
        "ci_high": min(1.0, estimate + half),
    }


def separability(
    real_paths: list[str],
    synthetic_paths: list[str],
    real_groups: list[str] | None = None,
    synthetic_groups: list[str] | None = None,
    folds: int = 5,
    seed: int = 0,
) -> dict:
    """Cross-validated AUC (synthetic = positive) of real vs synthetic with its CV interval. Groups (a
    patient, a seed) stay within one fold; without groups each image is its own."""
    real_groups = [f"real:{g}" for g in (real_groups or range(len(real_paths)))]
    synthetic_groups = [f"synthetic:{g}" for g in (synthetic_groups or range(len(synthetic_paths)))]
    counts = {"real": len(set(real_groups)), "synthetic": len(set(synthetic_groups))}
    folds = min(folds, *counts.values())
    if folds < 2:
        raise ValueError(f"need at least 2 real and 2 synthetic groups (patients, seeds), got {counts}")
    x = np.concatenate([image_features(real_paths), image_features(synthetic_paths)])
    y = np.concatenate([np.zeros(len(real_paths), int), np.ones(len(synthetic_paths), int)])
    groups = np.asarray(real_groups + synthetic_groups)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores, tests = np.zeros(len(y)), []
    for train, test in splitter.split(x, y, groups):
        scores[test] = discriminator(seed).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
        tests.append(test)
    estimate, method = cross_validated_auc(y, scores, tests), CI_METHOD
    if (
        estimate["se"] == 0 or estimate["ci_low"] <= 0 or estimate["ci_high"] >= 1
    ):  # Wald stops at the boundary
        boundary = newcombe(estimate["auc"], len(synthetic_paths), len(real_paths))
        estimate.update(ci_low=boundary.low, ci_high=boundary.high)
        method = "Newcombe (boundary)"
    return {
        "real": len(real_paths),
        "synthetic": len(synthetic_paths),
        "real_groups": counts["real"],
        "synthetic_groups": counts["synthetic"],
        **estimate,
        "pooled_auc": float(roc_auc_score(y, scores)),
        "folds": folds,
        "ci_method": method,
    }


def _condition(row: pd.Series, columns: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((c, str(row[c])) for c in columns if str(row.get(c, "") or "") != "")


def matched_real(
    samples: pd.DataFrame, real: pd.DataFrame, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Samples and real images with the same mix of conditions: per condition the prompts asked for
    (vendor, view, area / density, laterality as given), min(samples, real images) of each, drawn at
    random. Samples whose condition no real image has are dropped with a warning."""
    columns = [c for c in CONDITIONS if c in samples.columns and c in real.columns]
    keys = samples.apply(_condition, axis=1, columns=columns)
    kept_samples, kept_real, unmatched = [], [], 0
    for number, (condition, group) in enumerate(samples.groupby(keys, sort=True)):
        match = np.ones(len(real), bool)
        for column, value in condition:
            match &= real[column].astype(str).to_numpy() == value
        pool = real[match]
        count = min(len(group), len(pool))
        if count == 0:
            unmatched += len(group)
            continue
        kept_samples.append(group.sample(count, random_state=seed + number))
        kept_real.append(pool.sample(count, random_state=seed + number))
    if unmatched:
        log.warning("%d samples ask for a condition no real image has; left out of separability", unmatched)
    if not kept_samples:
        return samples.iloc[0:0], real.iloc[0:0]
    return pd.concat(kept_samples), pd.concat(kept_real)


def separability_by_guidance(samples: pd.DataFrame, real: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One AUC per guidance scale: the model's samples against real training images of the same
    conditions, grouped by seed and by patient."""
    rows = []
    for guidance, group in samples.groupby("guidance", sort=True):
        picked_samples, picked_real = matched_real(group, real, seed)
        real_groups = (picked_real["patient"] if "patient" in picked_real else picked_real["image"]).astype(
            str
        )
        seeds = picked_samples["seed"] if "seed" in picked_samples else picked_samples["file"]
        log.info(
            "guidance %s: %d of %d samples matched to real images of their conditions",
            guidance,
            len(picked_samples),
            len(group),
        )
        try:
            result = separability(
                picked_real["image"].tolist(),
                picked_samples["file"].tolist(),
                real_groups.tolist(),
                seeds.astype(str).tolist(),
                seed=seed,
            )
            result["note"] = ""
        except ValueError as error:  # too few matched patients or seeds to cross-validate
            log.warning("guidance %s: no separability: %s", guidance, error)
            result = {
                "real": len(picked_real),
                "synthetic": len(picked_samples),
                "auc": math.nan,
                "note": str(error),
            }
        rows.append({"guidance": guidance, **result})
    return pd.DataFrame(rows)
