"""The real-vs-synthetic observer, shared by the separability metric and the reader study's model reader.

Features are those of the fidelity classifiers (a downsampled copy plus the breast's intensity
histogram); the classifier is a strongly regularised logistic regression on standardised features.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mame.evaluation.fidelity import features
from mame.io import read_grey, read_pixels


def image_features(paths: list[str], side: int | None = None, display: bool = False) -> np.ndarray:
    """Feature rows of images at their own bit depth (or, with `display`, as the 8-bit rendering a
    reader sees), box-resized to side x side first when given."""
    read = read_grey if display else read_pixels
    return np.stack([features(read(path, side)) for path in paths])


def discriminator(seed: int = 0):
    """Standardised features into a strongly regularised logistic regression (C = 0.1)."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000, random_state=seed))
