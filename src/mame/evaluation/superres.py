"""Super-resolution measured on held-out real full-field images, against interpolation baselines.

Each held-out full-field image is box-downsampled by the factor to the model's resolution, then enlarged
back by every method: the trained upscaler (tiled) and bicubic and Lanczos interpolation. Each result is
compared with the original:
- PSNR over the breast's bounding box;
- SSIM (scikit-image, data range 1);
- patch-level MS-SSIM, the mean over patches of `patch` px that the breast fills (at full-field size,
  a whole-image MS-SSIM is dominated by the smooth interior).
A method's row gives the mean over images and its 95% interval (percentile bootstrap over images), with
n. The methods are compared on the same images, so the paired difference to bicubic is given with its
interval too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from mame.data.patches import INTERPOLATIONS, box_downsample, enlarge, unit
from mame.evaluation.msssim import ms_ssim
from mame.io import read_pixels

log = logging.getLogger(__name__)
Upscale = Callable[[np.ndarray, int], np.ndarray]  # (low-resolution float [0, 1], image number) -> x factor
METRICS = ("psnr_db", "ssim", "patch_msssim")
CEILING = "autoencoder round trip"  # not an upscaler: the VAE given the original, the upscaler's ceiling


def interpolate(low: np.ndarray, factor: int, method: str) -> np.ndarray:
    """The interpolation baseline: `low` enlarged by `factor` (bicubic or Lanczos), clipped to [0, 1]."""
    return np.clip(enlarge(low, factor, method), 0, 1)


def tissue_box(image: np.ndarray) -> tuple[slice, slice]:
    """The bounding box of the breast (non-zero pixels): air beyond it would flatter every method."""
    rows, cols = np.nonzero(image > 0)
    if not len(rows):
        return slice(0, image.shape[0]), slice(0, image.shape[1])
    return slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1)


def patch_msssim(original: np.ndarray, upscaled: np.ndarray, patch: int, min_tissue: float = 0.9) -> float:
    """Mean MS-SSIM over the non-overlapping `patch` px patches that tissue fills (NaN if none)."""
    scores = []
    for top in range(0, original.shape[0] - patch + 1, patch):
        for left in range(0, original.shape[1] - patch + 1, patch):
            a = original[top : top + patch, left : left + patch]
            if (a > 0).mean() >= min_tissue:
                b = upscaled[top : top + patch, left : left + patch]
                scores.append(ms_ssim(a, b, data_range=1.0))
    return float(np.mean(scores)) if scores else float("nan")


def scores(original: np.ndarray, upscaled: np.ndarray, patch: int) -> dict[str, float]:
    """PSNR and SSIM over the breast's box, and patch-level MS-SSIM, of float images in [0, 1]."""
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rows, cols = tissue_box(original)
    a, b = original[rows, cols].astype(np.float64), np.clip(upscaled[rows, cols], 0, 1).astype(np.float64)
    return {
        "psnr_db": float(peak_signal_noise_ratio(a, b, data_range=1.0)),
        "ssim": float(structural_similarity(a, b, data_range=1.0)),
        "patch_msssim": patch_msssim(original, np.clip(upscaled, 0, 1), patch),
    }


def score_images(
    full_images: list[str],
    factor: int,
    models: dict[str, Upscale],
    patch: int,
    keep: Callable | None = None,
    round_trip: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pd.DataFrame:
    """One row per (image, method): each of `models` (name -> upscaler) and each interpolation.
    `round_trip(original)`,
    the upscaler's autoencoder encoding and decoding the original itself, is its ceiling: no latent
    upscaler reconstructs better than its VAE does. `keep(number, name, image)` may save results (the
    figure's crops)."""
    rows = []
    for number, path in enumerate(full_images):
        original = unit(read_pixels(path))
        height, width = (side - side % factor for side in original.shape)
        original = original[:height, :width]
        low = box_downsample(original, factor).astype(np.float32)
        methods = {
            name: (lambda low, _, name=name: interpolate(low, factor, name)) for name in INTERPOLATIONS
        }
        methods = {**models, **methods}
        if round_trip is not None:
            methods[CEILING] = lambda _, __, original=original: round_trip(original)
        for name, method in methods.items():
            upscaled = np.asarray(method(low, number), np.float32)
            if keep:
                keep(number, name, upscaled)
            rows.append({"image": number, "method": name, **scores(original, upscaled, patch)})
        log.info("super-resolution scores: image %d/%d", number + 1, len(full_images))
    return pd.DataFrame(rows)


def _bootstrap(values: np.ndarray, resamples: int, seed: int) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if len(values) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = rng.choice(values, (resamples, len(values)), replace=True).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def summarise(per_image: pd.DataFrame, resamples: int = 1000, seed: int = 0, reference: str = "bicubic"):
    """Per method and metric: mean, 95% bootstrap interval over images, n, and the paired difference to
    `reference` with its interval (positive: better than the reference, for every metric here)."""
    rows = []
    wide = {metric: per_image.pivot(index="image", columns="method", values=metric) for metric in METRICS}
    for method in per_image["method"].unique():
        for metric in METRICS:
            values = wide[metric][method].to_numpy(float)
            low, high = _bootstrap(values, resamples, seed)
            row = {
                "method": method,
                "metric": metric,
                "mean": float(np.nanmean(values)),
                "low": low,
                "high": high,
                "n": int(np.isfinite(values).sum()),
            }
            if method != reference and reference in wide[metric]:
                difference = values - wide[metric][reference].to_numpy(float)
                d_low, d_high = _bootstrap(difference, resamples, seed)
                row.update(vs_reference=float(np.nanmean(difference)), vs_low=d_low, vs_high=d_high)
            rows.append(row)
    return pd.DataFrame(rows)


@torch.no_grad()
def autoencoder_round_trip(vae, image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] encoded (posterior mean) and decoded by the upscaler's VAE."""
    from mame.models.families import encode_posterior

    parameter = next(vae.parameters())
    tensor = torch.from_numpy(image.astype(np.float32) * 2 - 1)[None, None].repeat(1, 3, 1, 1)
    mean, _ = encode_posterior(vae, tensor.to(parameter.device, parameter.dtype))
    decoded = vae.decode(mean).sample.clamp(-1, 1).float().mean(dim=1)[0]
    return ((decoded.cpu().numpy() + 1) / 2).astype(np.float32)


def evaluation_images(healthy: pd.DataFrame, count: int, seed: int = 0) -> pd.DataFrame:
    """Held-out full-field images to measure on, shuffled by the seed; tiny datasets that hold out none
    fall back to training images (with a warning: the upscaler has seen their patches)."""
    from mame.io import in_split

    rows = healthy[healthy["full_image"].fillna("").astype(str) != ""]
    held = in_split(rows, "holdout")
    if held.empty:
        log.warning("no held-out full-field image: measuring super-resolution on training images")
        held = rows
    return held.sample(frac=1.0, random_state=seed).head(count).reset_index(drop=True)
