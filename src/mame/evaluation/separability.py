"""Real-vs-synthetic separability: can a classifier tell generated images from real ones?

Features are those of the fidelity classifiers (a downsampled copy plus the breast's intensity
histogram); a logistic regression is cross-validated (stratified folds), and the out-of-fold
probabilities give an AUC with a bootstrap CI. AUC 0.5 = indistinguishable to this observer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mame.evaluation.fidelity import features
from mame.io import read_grey
from mame.reader_study.roc import bootstrap


def _features(paths: list[str], side: int | None = None) -> np.ndarray:
    """Feature rows of images, box-resized to side x side first when given (as a reader sees them)."""
    return np.stack([features(read_grey(path, side)) for path in paths])


def classifier(seed: int = 0):
    """The real-vs-synthetic observer: standardised features, strongly regularised logistic regression."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000, random_state=seed))


def bootstrap_auc(
    labels: np.ndarray, scores: np.ndarray, resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95 % CI of the AUC, resampling real and synthetic images separately (reader_study.roc.bootstrap)."""
    interval = bootstrap(scores[labels == 1], scores[labels == 0], resamples, seed)
    return interval.low, interval.high


def separability(
    real_paths: list[str], synthetic_paths: list[str], folds: int = 5, seed: int = 0, resamples: int = 1000
) -> dict:
    """Cross-validated AUC (synthetic = positive) of real vs synthetic, with its bootstrap CI."""
    if min(len(real_paths), len(synthetic_paths)) < folds:
        raise ValueError(
            f"need at least {folds} real and {folds} synthetic images, got "
            f"{len(real_paths)} and {len(synthetic_paths)}"
        )
    x = np.concatenate([_features(real_paths), _features(synthetic_paths)])
    y = np.concatenate([np.zeros(len(real_paths), int), np.ones(len(synthetic_paths), int)])
    model = classifier(seed)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    scores = cross_val_predict(model, x, y, cv=splitter, method="predict_proba")[:, 1]
    low, high = bootstrap_auc(y, scores, resamples, seed)
    return {
        "real": len(real_paths),
        "synthetic": len(synthetic_paths),
        "auc": float(roc_auc_score(y, scores)),
        "ci_low": low,
        "ci_high": high,
        "folds": folds,
    }


def separability_by_guidance(samples: pd.DataFrame, real: pd.DataFrame, seed: int = 0, resamples: int = 1000):
    """One AUC per guidance scale: the model's samples against as many real training images."""
    rows = []
    for guidance, group in samples.groupby("guidance", sort=True):
        picked = real.sample(min(len(real), len(group)), random_state=seed)["image"].tolist()
        folds = max(2, min(5, len(picked), len(group)))
        rows.append(
            {"guidance": guidance, **separability(picked, group["file"].tolist(), folds, seed, resamples)}
        )
    return pd.DataFrame(rows)
