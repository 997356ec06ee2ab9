"""MS-SSIM as Wang, Simoncelli & Bovik (2003) defined it, and a fast all-pairs version for diversity.

The original definition: 5 scales with weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333), an 11x11
Gaussian window (sigma 1.5), valid convolution (no padding), K1 = 0.01, K2 = 0.03, a fixed dynamic
range (`data_range=255` for 8-bit images) and one grey channel; contrast-structure at every scale,
luminance at the coarsest only; 2x2 average pooling between scales. This is what pytorch-msssim
computes (the tests check agreement within 1e-5). torchmetrics >= 1.4.2 averages its maps over
padded borders and reads ~0.03-0.07 higher on the same pairs, and an unset `data_range` there is
inferred per batch (so scores of different batches are not comparable): the study used it that way.

Diversity over N images needs all N(N-1)/2 pairs. Every image's local means and variances are
computed once per scale; a pair then needs only one filtering (of the product image) per scale
instead of five.

Images smaller than the five-scale minimum (the window must fit the coarsest scale: side >= 161
for 5 scales) are scored with as many scales as fit and the first weights renormalised; the
number of scales used is returned with the scores, so a table can say so.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as F

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03


def gaussian_window(size: int = WINDOW, sigma: float = SIGMA) -> torch.Tensor:
    """The normalised 1-D Gaussian, built in float32 as the reference implementations build it.

    The maths then runs in float64; the window's own rounding matters because variances are
    E[x^2] - E[x]^2, a difference of two numbers near 255^2 (a float64 window shifts scores ~1e-5).
    """
    coords = torch.arange(size, dtype=torch.float32) - size // 2
    window = torch.exp(-(coords**2) / (2 * sigma**2))
    return (window / window.sum()).to(torch.float64)


def scales_that_fit(height: int, width: int, window: int = WINDOW, max_scales: int = len(WEIGHTS)) -> int:
    """How many scales keep the window inside the image at the coarsest one."""
    scales, side = 0, min(height, width)
    while scales < max_scales and side >= window:
        scales += 1
        side = (side + side % 2) // 2
    return scales


def _filter(x: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian, valid convolution. x: (n, 1, h, w) float64."""
    x = F.conv2d(x, window.view(1, 1, 1, -1))
    return F.conv2d(x, window.view(1, 1, -1, 1))


def _downsample(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, kernel_size=2, padding=[s % 2 for s in x.shape[-2:]])


def _as_tensor(images) -> torch.Tensor:
    """(n, h, w) or list of (h, w) grey arrays -> (n, 1, h, w) float64."""
    array = np.stack([np.asarray(i, dtype=np.float64) for i in images])
    if array.ndim != 3:
        raise ValueError(f"MS-SSIM takes grey images (h, w); got an array of shape {array.shape}")
    return torch.from_numpy(array)[:, None]


def _weights(scales: int) -> torch.Tensor:
    """The published weights (they sum to 1.0001, kept as published); renormalised only when fewer
    scales fit the image."""
    weights = torch.tensor(WEIGHTS[:scales], dtype=torch.float64)
    return weights if scales == len(WEIGHTS) else weights / weights.sum()


def ms_ssim(x: np.ndarray, y: np.ndarray, data_range: float = 255.0, scales: int | None = None) -> float:
    """MS-SSIM of one pair of grey images (the textbook computation; see `ms_ssim_all_pairs`)."""
    a, b = _as_tensor([x, y])
    a, b = a[None], b[None]
    scales = scales or scales_that_fit(*a.shape[-2:])
    if scales < 1:
        raise ValueError(f"images of {tuple(a.shape[-2:])} are smaller than the {WINDOW}-pixel window")
    window = gaussian_window()
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    values = []
    for scale in range(scales):
        mu_a, mu_b = _filter(a, window), _filter(b, window)
        var_a = _filter(a * a, window) - mu_a**2
        var_b = _filter(b * b, window) - mu_b**2
        cov = _filter(a * b, window) - mu_a * mu_b
        cs = (2 * cov + c2) / (var_a + var_b + c2)
        if scale == scales - 1:
            luminance = (2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)
            values.append(torch.relu((luminance * cs).mean()))
        else:
            values.append(torch.relu(cs.mean()))
            a, b = _downsample(a), _downsample(b)
    return float(torch.prod(torch.stack(values) ** _weights(scales)))


def ms_ssim_all_pairs(images, data_range: float = 255.0, scales: int | None = None) -> tuple[np.ndarray, int]:
    """MS-SSIM of every pair (i < j) among `images`; returns (n x n symmetric matrix, scales used).

    The diagonal is 1. Per scale, each image's local mean and variance are filtered once; a pair
    costs one filtering of its product image.
    """
    stack = _as_tensor(images)
    count = len(stack)
    scales = scales or scales_that_fit(*stack.shape[-2:])
    if scales < 1:
        raise ValueError(f"images of {tuple(stack.shape[-2:])} are smaller than the {WINDOW}-pixel window")
    window = gaussian_window()
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    pairs = list(itertools.combinations(range(count), 2))
    log_score = np.zeros(len(pairs))
    weights = _weights(scales).tolist()
    images = [stack[k : k + 1] for k in range(count)]
    for scale in range(scales):
        # one image at a time: batched single-channel convolutions run many times slower on CPUs
        mu = [_filter(x, window) for x in images]
        var = [_filter(x * x, window) - m**2 for x, m in zip(images, mu, strict=True)]
        last = scale == scales - 1
        for n, (i, j) in enumerate(pairs):
            cov = _filter(images[i] * images[j], window) - mu[i] * mu[j]
            cs = (2 * cov + c2) / (var[i] + var[j] + c2)
            if last:
                cs = cs * (2 * mu[i] * mu[j] + c1) / (mu[i] ** 2 + mu[j] ** 2 + c1)
            value = max(float(cs.mean()), 0.0)
            log_score[n] += weights[scale] * np.log(max(value, 1e-300))
        images = [_downsample(x) for x in images]
    first = np.array([i for i, _ in pairs], dtype=int)
    second = np.array([j for _, j in pairs], dtype=int)
    matrix = np.eye(count)
    scores = np.exp(log_score)
    matrix[first, second] = scores
    matrix[second, first] = scores
    return matrix, scales


def pair_values(matrix: np.ndarray) -> np.ndarray:
    """The upper-triangle scores of an all-pairs matrix."""
    rows, cols = np.triu_indices(len(matrix), k=1)
    return matrix[rows, cols]


def bootstrap_mean_ci(
    matrix: np.ndarray, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """CI of the mean pairwise MS-SSIM, resampling IMAGES (pairs of one image are not independent)."""
    rng = np.random.default_rng(seed)
    count = len(matrix)
    means = np.empty(resamples)
    for r in range(resamples):
        pick = rng.integers(0, count, count)
        sub = matrix[np.ix_(pick, pick)]
        distinct = pick[:, None] != pick[None, :]  # a resampled image is not paired with itself
        means[r] = sub[distinct].mean() if distinct.any() else np.nan
    low, high = np.nanpercentile(means, [(1 - level) / 2 * 100, (1 + level) / 2 * 100])
    return float(low), float(high)
