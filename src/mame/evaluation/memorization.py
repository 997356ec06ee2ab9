"""Memorization check: is a generated image a near copy of a training image?

Every image is reduced to a small grey copy, standardised, and compared with every training image by
Pearson correlation (one matrix product). Held-out real images give the reference: how close an
unseen real mammogram comes to the training set by chance alone. A sample closer than every held-out
image (or than a configured threshold) is flagged, and the number of such samples is tested against
what exchangeable unseen images would give.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mame.io import read_pixels

SIDE = 32


def signatures(paths: list[str], side: int = SIDE) -> np.ndarray:
    """(n, side*side) standardised copies: rows with zero variance stay zero."""
    rows = []
    for path in paths:
        small = read_pixels(path, side).astype(np.float64).ravel()
        small -= small.mean()
        norm = np.linalg.norm(small)
        rows.append(small / norm if norm > 0 else small)
    return np.stack(rows) if rows else np.zeros((0, side * side))


def nearest(queries: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and correlation of each query's nearest reference."""
    correlation = queries @ references.T
    index = correlation.argmax(axis=1)
    return index, correlation[np.arange(len(queries)), index]


def exceedance(samples: np.ndarray, holdout: np.ndarray) -> tuple[int, float]:
    """How many samples come closer to the training set than every held-out real image does, and the
    probability of at least that many if samples were no closer than unseen real images (exchangeable):
    P(K >= k) = prod_{i<k} (n - i) / (n + h - i) for n samples and h held-out images."""
    k = int((samples > holdout.max()).sum()) if holdout.size else 0
    n, h = samples.size, holdout.size
    p = float(np.prod([(n - i) / (n + h - i) for i in range(k)])) if h else float("nan")
    return k, p


def memorization_table(
    samples: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, threshold: float | None = None
) -> pd.DataFrame:
    """Per image (samples and held-out real): nearest training key, correlation, flagged.

    The flag threshold is `threshold` when given, else the largest correlation any held-out real image
    reaches: unrelated 32 x 32 thumbnails already correlate around 0.9, so only a sample closer to a
    training image than every unseen real image is flagged. The threshold is kept in each row."""
    references = signatures(train["image"].tolist())
    scores = {}
    for source, frame, column in (("generated", samples, "file"), ("held-out real", holdout, "image")):
        if not frame.empty:
            scores[source] = (frame, column, *nearest(signatures(frame[column].tolist()), references))
    holdout_scores = scores.get("held-out real", (None, None, None, np.zeros(0)))[3]
    if threshold is None:
        threshold = float(holdout_scores.max()) if holdout_scores.size else 1.0
    parts = []
    for source, (frame, column, index, score) in scores.items():
        parts.append(
            pd.DataFrame(
                {
                    "source": source,
                    "image": frame[column].tolist(),
                    "guidance": frame["guidance"].tolist() if "guidance" in frame else [""] * len(frame),
                    "nearest_training_key": train["key"].to_numpy()[index],
                    "correlation": np.round(score, 5),
                    "flagged": (score > threshold) if source == "generated" else False,
                    "threshold": round(threshold, 5),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def is_flagged(column: pd.Series) -> pd.Series:
    """The `flagged` column as booleans, whether it was read back as bools or as text."""
    return column.astype(str).isin(["True", "true", "1"])


def memorization_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per model and source (generated, held-out real): images, median and 95th percentile of the
    nearest-training-image correlation, the flag threshold and the flagged count; for the samples also
    how many come closer than every held-out real image, how many exchangeable images would, and the
    exceedance p-value (`exceedance`). The one summary the table and the report show."""
    table = table.assign(flagged=is_flagged(table["flagged"]))
    summary = (
        table.groupby(["model", "source"])
        .agg(
            images=("correlation", "size"),
            median=("correlation", "median"),
            p95=("correlation", lambda c: c.quantile(0.95)),
            threshold=("threshold", "first"),
            flagged=("flagged", "sum"),
        )
        .round(3)
    )
    above, expected, p_values = [], [], []
    for model, source in summary.index:
        part = table[table["model"] == model]
        generated = part.loc[part["source"] == "generated", "correlation"].to_numpy(float)
        holdout = part.loc[part["source"] == "held-out real", "correlation"].to_numpy(float)
        if source != "generated" or not holdout.size:
            above.append(""), expected.append(""), p_values.append("")
            continue
        k, p = exceedance(generated, holdout)
        above.append(k), expected.append(round(generated.size / (holdout.size + 1), 1))
        p_values.append(f"{p:.3g}")
    return summary.assign(
        **{"above held-out max": above, "expected by chance": expected, "p (exceedance)": p_values}
    )
