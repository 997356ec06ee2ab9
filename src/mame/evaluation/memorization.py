"""Memorization check: is a generated image a near copy of a training image?

Every image is reduced to a small grey copy, standardised, and compared with every training image by
Pearson correlation (one matrix product). A sample whose nearest training image correlates above
the threshold is flagged. Held-out real images give the reference: how close an unseen real
mammogram comes to the training set by chance alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mame.io import read_grey

SIDE = 32


def signatures(paths: list[str], side: int = SIDE) -> np.ndarray:
    """(n, side*side) standardised copies: rows with zero variance stay zero."""
    rows = []
    for path in paths:
        small = read_grey(path, side).astype(np.float64).ravel()
        small -= small.mean()
        norm = np.linalg.norm(small)
        rows.append(small / norm if norm > 0 else small)
    return np.stack(rows) if rows else np.zeros((0, side * side))


def nearest(queries: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and correlation of each query's nearest reference."""
    correlation = queries @ references.T
    index = correlation.argmax(axis=1)
    return index, correlation[np.arange(len(queries)), index]


def memorization_table(samples: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, threshold: float):
    """Per image (samples and held-out real): nearest training key, correlation, flagged."""
    references = signatures(train["image"].tolist())
    parts = []
    for source, frame, column in (("generated", samples, "file"), ("held-out real", holdout, "image")):
        if frame.empty:
            continue
        index, score = nearest(signatures(frame[column].tolist()), references)
        parts.append(
            pd.DataFrame(
                {
                    "source": source,
                    "image": frame[column].tolist(),
                    "guidance": frame["guidance"].tolist() if "guidance" in frame else [""] * len(frame),
                    "nearest_training_key": train["key"].to_numpy()[index],
                    "correlation": np.round(score, 5),
                    "flagged": score >= threshold,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def is_flagged(column: pd.Series) -> pd.Series:
    """The `flagged` column as booleans, whether it was read back as bools or as text."""
    return column.astype(str).isin(["True", "true", "1"])


def memorization_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and source (generated, held-out real): images, median and 95th percentile of the
    nearest-training-image correlation, flagged count. The one summary the table and the report show."""
    return (
        table.assign(flagged=is_flagged(table["flagged"]))
        .groupby(["model", "source"])
        .agg(
            images=("correlation", "size"),
            median=("correlation", "median"),
            p95=("correlation", lambda c: c.quantile(0.95)),
            flagged=("flagged", "sum"),
        )
        .round(3)
    )
