"""An automated observer for the reader study: a model, never to be reported as a radiologist.

The demo has no human reader, so the real-vs-synthetic classifier of the evaluation stage
(mame.evaluation.separability) rates the kit's cases on the readers' 5-point scale. It is trained on images
that are not in the kit (real training images, and the model's other samples at the kit's
guidance), seen exactly as the readers see them (the kit's size, 8-bit), and its probability of
'synthetic' is cut at 0.2 / 0.4 / 0.6 / 0.8 into Definitely real ... Definitely synthetic.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from mame.evaluation.discriminator import discriminator, image_features
from mame.reader_study.ratings import RATING_LABELS

log = logging.getLogger(__name__)

OBSERVER_NAME = "Automated observer (logistic regression)"
CUTPOINTS = (0.2, 0.4, 0.6, 0.8)


def observer_training_samples(key: pd.DataFrame, samples: pd.DataFrame) -> list[str]:
    """Synthetic images the observer may learn from: the kit's guidance scale, none of the kit's own and
    none of their same-seed siblings (one seed's images at other prompts share their starting noise, so
    learning from them would leak the kit's cases)."""
    shown = key.loc[key["truth"] == "synthetic", "guidance"].astype(float).iloc[0]
    in_kit = samples["file"].isin(set(key["source"]))
    outside = ~in_kit
    if "seed" in samples.columns:
        outside &= ~samples["seed"].isin(set(samples.loc[in_kit, "seed"]))
    return samples.loc[(samples["guidance"].astype(float) == shown) & outside, "file"].tolist()


def observer_ratings(
    key: pd.DataFrame,
    side: int,
    real_train: list[str],
    synthetic_train: list[str],
    seed: int = 0,
    name: str = OBSERVER_NAME,
) -> pd.DataFrame:
    """Ratings of every case in `key` (columns as the kit's page exports, plus the probability)."""
    overlap = set(key["source"]) & (set(real_train) | set(synthetic_train))
    if overlap:
        raise ValueError(f"{len(overlap)} kit cases are also training images of the observer")
    count = min(len(real_train), len(synthetic_train))
    if count < 2:
        raise ValueError(
            f"the observer needs at least 2 real and 2 synthetic training images outside the kit, "
            f"got {len(real_train)} and {len(synthetic_train)}"
        )
    rng = np.random.default_rng(seed)
    real_train = sorted(rng.choice(sorted(real_train), count, replace=False))
    synthetic_train = sorted(rng.choice(sorted(synthetic_train), count, replace=False))
    x = np.concatenate(
        [image_features(real_train, side, display=True), image_features(synthetic_train, side, display=True)]
    )
    y = np.concatenate([np.zeros(count, int), np.ones(count, int)])
    model = discriminator(seed).fit(x, y)
    probability = model.predict_proba(image_features(key["source"].tolist(), side, display=True))[:, 1]
    rating = np.digitize(probability, CUTPOINTS) + 1
    log.info("observer trained on %d real + %d synthetic images; rated %d cases", count, count, len(key))
    return pd.DataFrame(
        {
            "reader": name,
            "case_id": key["case_id"].to_numpy(),
            "rating": rating,
            "label": [RATING_LABELS[r - 1] for r in rating],
            "probability": probability.round(4),
        }
    )
