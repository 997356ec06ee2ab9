"""Diversity by guidance: mean pairwise MS-SSIM of the samples of each (prompt, guidance), with a
bootstrap CI over images, and the same among real training images of the prompt's condition.

Lower MS-SSIM = more diverse. The real-vs-real row is the target: samples far above it are
collapsing onto few modes, samples far below it are not mammogram-like any more.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mame.evaluation.msssim import bootstrap_mean_ci, ms_ssim_all_pairs, pair_values
from mame.io import data_range, read_pixels

# the image bootstrap of a mean pairwise score covers 95 % from about 6-8 images; at 3 its coverage is
# 0.70 and at 2 the interval has zero width, so rows with fewer images say so in the table
MIN_CI_IMAGES = 8
COLUMNS = ["model", "prompt", "guidance", "images", "pairs", "mean", "sd", "ci_low", "ci_high", "scales"]


def _row(
    model: str, prompt: str, guidance, matrix: np.ndarray, scales: int, resamples: int, seed: int
) -> dict:
    """One table row from an all-pairs matrix: mean, sd over pairs, bootstrap CI over images."""
    values = pair_values(matrix)
    low, high = bootstrap_mean_ci(matrix, resamples=resamples, seed=seed)
    return {
        "model": model,
        "prompt": prompt,
        "guidance": guidance,
        "images": len(matrix),
        "pairs": len(values),
        "mean": float(values.mean()),
        "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        "ci_low": low,
        "ci_high": high,
        "scales": scales,
    }


def sample_matrices(samples: pd.DataFrame) -> dict[tuple, tuple[np.ndarray, int, list]]:
    """All-pairs MS-SSIM per (model, prompt, guidance), images in seed order: (matrix, scales, seeds).
    Computed once for the table and the paired guidance contrasts."""
    matrices = {}
    for key, group in samples.groupby(["model", "prompt", "guidance"], sort=True):
        ordered = group.sort_values("seed") if "seed" in group else group
        images = [read_pixels(p) for p in ordered["file"]]
        matrix, scales = ms_ssim_all_pairs(images, data_range(images[0]))
        seeds = ordered["seed"].tolist() if "seed" in ordered else list(range(len(ordered)))
        matrices[key] = (matrix, scales, seeds)
    return matrices


def diversity_table(
    samples: pd.DataFrame,
    real: pd.DataFrame,
    real_images: int,
    resamples: int = 1000,
    seed: int = 0,
    matrices: dict | None = None,
) -> pd.DataFrame:
    """`samples`: samples.csv rows; `real`: manifest rows (image, prompt) of the model's training data.

    Real images are compared at the samples' resolution. Prompts without at least two real images
    get no baseline row.
    """
    rows = []
    side = None
    matrices = sample_matrices(samples) if matrices is None else matrices
    for (model, prompt, guidance), group in samples.groupby(["model", "prompt", "guidance"], sort=True):
        side = read_pixels(group["file"].iloc[0]).shape  # real images compared at the samples' shape
        matrix, scales, _ = matrices[model, prompt, guidance]
        rows.append(_row(model, prompt, guidance, matrix, scales, resamples, seed))
    for (model, prompt), _ in samples.groupby(["model", "prompt"], sort=True):
        matching = real[real["prompt"] == prompt]
        if len(matching) >= 2:
            picked = matching.sample(min(real_images, len(matching)), random_state=seed)["image"]
            images = [read_pixels(p, side) for p in picked]
            matrix, scales = ms_ssim_all_pairs(images, data_range(images[0]))
            rows.append(_row(model, prompt, "real", matrix, scales, resamples, seed))
    return pd.DataFrame(rows, columns=COLUMNS)


def study_protocol(samples: pd.DataFrame, pairs: int = 20, seed: int = 0) -> pd.DataFrame:
    """The study's protocol: `pairs` random pairs per (prompt, guidance), their mean and the spread of the
    pair scores. The pairs share images, so they are not independent, and the spread is not a standard
    error of the mean: the column says so (`sd_of_pair_scores`); the all-pairs table carries the CI."""
    from mame.evaluation.msssim import ms_ssim

    rng = np.random.default_rng(seed)
    rows = []
    for (model, prompt, guidance), group in samples.groupby(["model", "prompt", "guidance"], sort=True):
        files = group["file"].tolist()
        if len(files) < 2:
            continue
        scores = []
        for _ in range(pairs):
            a, b = rng.choice(len(files), 2, replace=False)
            first, second = read_pixels(files[a]), read_pixels(files[b])
            scores.append(ms_ssim(first, second, data_range(first)))
        rows.append(
            {
                "model": model,
                "prompt": prompt,
                "guidance": guidance,
                "pairs": pairs,
                "mean": float(np.mean(scores)),
                "sd_of_pair_scores": float(np.std(scores, ddof=1)),
            }
        )
    return pd.DataFrame(rows)


def wide_table(table: pd.DataFrame) -> pd.DataFrame:
    """The study's layout: rows = guidance, columns = model / prompt, cells 'mean ± sd [CI]', marked
    when fewer than MIN_CI_IMAGES images stand behind the interval."""
    cells = table.assign(
        column=table["model"] + ": " + table["prompt"],
        cell=[
            f"{m:.3f} ± {s:.3f} [{lo:.3f}, {hi:.3f}]"
            + (f" (n={n}: CI unreliable)" if n < MIN_CI_IMAGES else "")
            for m, s, lo, hi, n in zip(
                table["mean"], table["sd"], table["ci_low"], table["ci_high"], table["images"], strict=True
            )
        ],
        order=[float("inf") if g == "real" else float(g) for g in table["guidance"]],
    )
    wide = cells.pivot_table(index=["order", "guidance"], columns="column", values="cell", aggfunc="first")
    wide = wide.reset_index(level="order", drop=True)
    wide.index = [f"guidance {g}" if g != "real" else "real vs real" for g in wide.index]
    wide.index.name = "MS-SSIM"
    return wide.fillna("—")  # no real image of that condition to compare with


CONTRAST_COLUMNS = ["model", "prompt", "guidance", "reference", "seeds", "difference", "ci_low", "ci_high"]


def paired_difference_ci(
    matrix: np.ndarray, reference: np.ndarray, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Mean pairwise score of `matrix` minus that of `reference`, both over the same seeds in the same
    order, with a bootstrap CI that resamples SEEDS jointly: the same starting noise stands behind
    image i at every guidance, so the two means are correlated and an unpaired comparison is too wide."""
    if matrix.shape != reference.shape:
        raise ValueError(f"paired matrices must share their seeds: {matrix.shape} vs {reference.shape}")
    difference = float(pair_values(matrix).mean() - pair_values(reference).mean())
    rng = np.random.default_rng(seed)
    count = len(matrix)
    values = np.empty(resamples)
    for r in range(resamples):
        pick = rng.integers(0, count, count)
        distinct = pick[:, None] != pick[None, :]
        if not distinct.any():
            values[r] = np.nan
            continue
        values[r] = (
            matrix[np.ix_(pick, pick)][distinct].mean() - reference[np.ix_(pick, pick)][distinct].mean()
        )
    low, high = np.nanpercentile(values, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return difference, float(low), float(high)


def _on_seeds(matrix: np.ndarray, seeds: list, shared: list) -> np.ndarray:
    index = [seeds.index(s) for s in shared]
    return matrix[np.ix_(index, index)]


def guidance_contrasts(matrices: dict, resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per (model, prompt): MS-SSIM at each guidance minus at the lowest, paired by seed (the seeds every
    guidance of that prompt shares). Positive = less diverse than at the lowest guidance.
    `matrices`: sample_matrices' output."""
    rows = []
    for model, prompt in sorted({(model, prompt) for model, prompt, _ in matrices}):
        cells = {float(g): matrices[m, p, g] for m, p, g in matrices if (m, p) == (model, prompt)}
        scales = sorted(cells)
        shared = sorted(set.intersection(*(set(seeds) for _, _, seeds in cells.values())))
        if len(scales) < 2 or len(shared) < 2:
            continue
        paired = {g: _on_seeds(matrix, seeds, shared) for g, (matrix, _, seeds) in cells.items()}
        for g in scales[1:]:
            difference, low, high = paired_difference_ci(paired[g], paired[scales[0]], resamples, seed=seed)
            rows.append(
                {
                    "model": model,
                    "prompt": prompt,
                    "guidance": g,
                    "reference": scales[0],
                    "seeds": len(shared),
                    "difference": difference,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)
