"""Condition fidelity: does a generated image show the view / density / area its prompt asked for?

A small classifier per attribute is trained on the real processed images (no downloaded weights):
standardised features into a logistic regression, where the features are chosen per attribute by
cross-validation among shape (a downsampled copy: view, area), texture (the breast's intensity
histogram: density) or both. Its accuracy on held-out real images is the ceiling a perfect generator
would reach; its accuracy on generated images measures how well samples follow their prompts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mame.io import read_grey

FEATURE_SIDE = 24
WORK_SIDE = 64
HISTOGRAM_BINS = 16
FEATURE_SETS = {
    "shape": slice(0, FEATURE_SIDE**2),
    "texture": slice(FEATURE_SIDE**2, None),
    "both": slice(None),
}


def features(image: np.ndarray) -> np.ndarray:
    """Grey image (HxW, uint8/uint16/float in [0, 1]) -> feature vector (downsample + breast histogram)."""
    if image.dtype == np.uint8:
        grey = image.astype(np.float32) / 255.0
    elif image.dtype == np.uint16:
        grey = image.astype(np.float32) / 65535.0
    else:
        grey = image.astype(np.float32)
    if grey.ndim == 3:
        grey = grey.mean(axis=-1)
    # one working resolution, so real (processed) and generated images of other sizes compare alike
    grey = np.asarray(Image.fromarray(grey, mode="F").resize((WORK_SIDE, WORK_SIDE), Image.Resampling.BOX))
    small = np.asarray(
        Image.fromarray(grey, mode="F").resize((FEATURE_SIDE, FEATURE_SIDE), Image.Resampling.BOX)
    )
    breast = grey[grey > 0.05]
    histogram = np.histogram(breast, bins=HISTOGRAM_BINS, range=(0.05, 1.0))[0] / max(1, breast.size)
    return np.concatenate([small.ravel(), histogram, [breast.size / grey.size]])


@dataclass
class AttributeClassifier:
    """One attribute (e.g. view) learned from real images; `classes` are its observed values."""

    attribute: str
    model: object
    classes: list[str]
    cv_accuracy: float
    columns: slice = field(default_factory=lambda: slice(None))

    @classmethod
    def fit(
        cls, attribute: str, images: list[np.ndarray], labels: list[str], seed: int = 0
    ) -> AttributeClassifier:
        """Fit on real images; feature set and regularisation chosen by cross-validated accuracy."""
        x = np.stack([features(i) for i in images])
        y = np.asarray(labels)
        if len(set(labels)) < 2:
            raise ValueError(f"attribute {attribute!r} has a single value in the real images: {set(labels)}")
        folds = max(2, min(5, int(np.bincount(np.unique(y, return_inverse=True)[1]).min())))
        best = None
        for columns in FEATURE_SETS.values():
            for strength in (0.1, 1.0):
                model = make_pipeline(
                    StandardScaler(), LogisticRegression(C=strength, max_iter=3000, random_state=seed)
                )
                accuracy = float(cross_val_score(model, x[:, columns], y, cv=folds).mean())
                if best is None or accuracy > best[0] + 1e-9:
                    best = (accuracy, model, columns)
        accuracy, model, columns = best
        model.fit(x[:, columns], y)
        return cls(attribute, model, sorted(set(labels)), accuracy, columns)

    def predict(self, images: list[np.ndarray]) -> list[str]:
        return list(self.model.predict(np.stack([features(i) for i in images])[:, self.columns]))

    def accuracy(self, images: list[np.ndarray], labels: list[str]) -> float:
        return float(np.mean(np.asarray(self.predict(images)) == np.asarray(labels)))


ATTRIBUTES = ("view", "area", "density")


def read_attributes(samples, real, seed: int = 0):
    """Per sample and asked attribute: what a classifier trained on the real images reads.

    `samples`: rows with file and the asked view / area / density (empty if not asked); `real`:
    manifest rows (image, split, view, area, density). Returns rows (file, guidance, attribute,
    asked, read, real_cv_accuracy); attributes with one value only among the real images are skipped.
    """
    train = real[real["split"] == "train"] if "split" in real.columns else real
    rows = []
    for attribute in ATTRIBUTES:
        if attribute not in samples.columns:
            continue
        asked = samples[samples[attribute].fillna("").astype(str) != ""]
        known = train[train[attribute].fillna("").astype(str) != ""]
        if asked.empty or known[attribute].nunique() < 2:
            continue
        classifier = AttributeClassifier.fit(
            attribute,
            [read_grey(p) for p in known["image"]],
            known[attribute].astype(str).tolist(),
            seed=seed,
        )
        predicted = classifier.predict([read_grey(p) for p in asked["file"]])
        rows.append(
            pd.DataFrame(
                {
                    "file": asked["file"].tolist(),
                    "guidance": asked["guidance"].tolist() if "guidance" in asked else [None] * len(asked),
                    "attribute": attribute,
                    "asked": asked[attribute].astype(str).tolist(),
                    "read": predicted,
                    "real_cv_accuracy": classifier.cv_accuracy,
                }
            )
        )
    columns = ["file", "guidance", "attribute", "asked", "read", "real_cv_accuracy"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=columns)


def fidelity_by_guidance(samples, real, seed: int = 0):
    """Accuracy per (guidance, attribute): how often the real-trained classifier reads what was asked."""
    verdicts = read_attributes(samples, real, seed)
    rows = []
    for (attribute, guidance), group in verdicts.groupby(["attribute", "guidance"], sort=True):
        rows.append(
            {
                "attribute": attribute,
                "guidance": guidance,
                "images": len(group),
                "accuracy": float((group["read"] == group["asked"]).mean()),
                "chance": 1.0 / verdicts[verdicts["attribute"] == attribute]["asked"].nunique(),
                "real_cv_accuracy": float(group["real_cv_accuracy"].iloc[0]),
            }
        )
    return pd.DataFrame(
        rows, columns=["attribute", "guidance", "images", "accuracy", "chance", "real_cv_accuracy"]
    )


def extrapolation_agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Per vendor and unseen attribute: images, and how often the real-trained classifier reads the value
    the prompt asked for (concept extrapolation's table)."""
    asked = table["area"].where(table["area"] != "", table["density"])
    return (
        table.assign(asked=asked, hit=table["read"] == asked)
        .groupby(["vendor", "attribute"])["hit"]
        .agg(["size", "mean"])
        .reset_index()
        .rename(columns={"size": "images", "mean": "classifier agrees"})
        .round(3)
    )
