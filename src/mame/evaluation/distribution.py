"""Distribution metrics in the domain feature space (mame.evaluation.encoder): Frechet distance, KID,
and precision / recall / density / coverage, with bootstrap intervals and a real-vs-real floor.

- Frechet distance (FD): ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) of Gaussians fitted to the
  two feature sets. It is biased upwards at small n, so every row of a table uses the same n (samples
  and real images drawn to that many) and states it.
- KID: the unbiased estimate of MMD^2 with the cubic polynomial kernel (x.y / d + 1)^3 (Binkowski et al.
  2018); unbiased at any n, so it can be negative when the sets are alike.
- Precision / recall / density / coverage (Naeem et al. 2020): k-nearest-neighbour balls around real
  (and generated) features; precision and density ask whether samples fall on the real manifold,
  recall and coverage whether the samples cover it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import linalg


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FD between the Gaussians fitted to feature rows `a` and `b` (n x d each, n >= 2)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():  # singular products: the usual small ridge
        ridge = np.eye(len(cov_a)) * 1e-6
        root = linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
    root = np.real(root)
    difference = mean_a - mean_b
    return float(max(0.0, difference @ difference + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root)))


def kernel_inception_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Unbiased MMD^2 with the kernel (x.y / d + 1)^3 between feature rows `a` (m x d) and `b` (n x d)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    dimension = a.shape[1]
    k_aa = (a @ a.T / dimension + 1) ** 3
    k_bb = (b @ b.T / dimension + 1) ** 3
    k_ab = (a @ b.T / dimension + 1) ** 3
    m, n = len(a), len(b)
    within_a = (k_aa.sum() - np.trace(k_aa)) / (m * (m - 1))
    within_b = (k_bb.sum() - np.trace(k_bb)) / (n * (n - 1))
    return float(within_a + within_b - 2 * k_ab.mean())


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


def _radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point."""
    distances = _distances(points, points)
    return np.sort(distances, axis=1)[:, k]  # column 0 is the point itself


def prdc(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake` against `real` (Naeem et al. 2020)."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if min(len(real), len(fake)) <= k:
        raise ValueError(
            f"k = {k} needs more than {k} real and generated images, got {len(real)}, {len(fake)}"
        )
    real_radii, fake_radii = _radii(real, k), _radii(fake, k)
    fake_to_real = _distances(fake, real)  # (n_fake, n_real)
    inside_real = fake_to_real <= real_radii[None, :]  # sample i inside real j's ball
    inside_fake = fake_to_real <= fake_radii[:, None]  # real j inside sample i's ball
    return {
        "precision": float(inside_real.any(axis=1).mean()),
        "recall": float(inside_fake.any(axis=0).mean()),
        "density": float(inside_real.sum() / (k * len(fake))),
        "coverage": float((fake_to_real.min(axis=0) <= real_radii).mean()),
    }


METRICS = ("fd", "kid", "precision", "recall", "density", "coverage")


def compare(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    return {
        "fd": frechet_distance(real, fake),
        "kid": kernel_inception_distance(real, fake),
        **prdc(real, fake, k),
    }


def summarise_draws(draws: list[dict[str, float]], level: float = 0.95) -> dict[str, float]:
    """Mean of each metric over draws, with the central `level` range of the draws."""
    row = {}
    for name in METRICS:
        values = np.array([draw[name] for draw in draws])
        low, high = np.percentile(values, [50 * (1 - level), 50 * (1 + level)])
        row.update({name: float(values.mean()), f"{name}_low": float(low), f"{name}_high": float(high)})
    return row


def distribution_table(
    sample_features: dict[float, np.ndarray],
    train: np.ndarray,
    holdout: np.ndarray,
    draws: int = 50,
    seed: int = 0,
    k: int = 5,
    key: str = "guidance",
) -> pd.DataFrame:
    """Per guidance (or whatever `key` names the sets by): samples against n real training images, and
    the real-vs-real floor (held-out images when there are n of them, else another n training images)
    against the same reference; one n for every row, so FD's small-sample bias is shared.

    Intervals come from `draws` fresh draws of the n images (without replacement) from each pool: the
    mean over draws is the estimate, the central 95 % of draws its range. A bootstrap with replacement
    would put duplicate images into each set, which collapses k-NN radii (precision, density) and
    shifts FD; redrawing keeps every set a set of distinct images. A pool of exactly n images (e.g. the
    samples of one guidance) contributes no spread: the range then covers the other pool's draws only.
    """
    rng = np.random.default_rng(seed)
    n = min(min(len(f) for f in sample_features.values()), len(train) // 2)
    if n <= k:
        raise ValueError(f"distribution metrics need more than {k} images per set; n would be {n}")
    floor_name = "held-out real" if len(holdout) >= n else "other training images"
    floor_draws, sample_draws = [], {g: [] for g in sample_features}
    for _ in range(draws):
        order = rng.permutation(len(train))
        reference = train[order[:n]]
        floor = holdout[rng.permutation(len(holdout))[:n]] if len(holdout) >= n else train[order[n : 2 * n]]
        floor_draws.append(compare(reference, floor, k))
        for guidance, features in sample_features.items():
            sample_draws[guidance].append(compare(reference, features[rng.permutation(len(features))[:n]], k))
    rows = [{key: "real", "compared": floor_name, "n": n, "draws": draws, **summarise_draws(floor_draws)}]
    for guidance in sorted(sample_features):
        rows.append(
            {
                key: guidance,
                "compared": "samples",
                "n": n,
                "draws": draws,
                **summarise_draws(sample_draws[guidance]),
            }
        )
    return pd.DataFrame(rows)
