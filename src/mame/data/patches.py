"""Patches of the full-field product: what the super-resolution stage learns from and is measured on.

A training pair is a full-field patch and its box-downsampled copy: each low-resolution pixel is the mean
of the `factor` x `factor` full-field pixels it covers. This is how the model-resolution image relates to
the full field (`Geometry.scaled`). Patches are drawn where the breast fills them, so the model learns
tissue rather than air, with positions fixed by the seed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from mame.io import read_pixels

MIN_TISSUE = 0.9  # share of a patch's pixels inside the breast (non-zero)
TRIES = 50


def box_downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Float mean over `factor` x `factor` blocks (the image's sides must be multiples of `factor`)."""
    height, width = image.shape[-2:]
    if height % factor or width % factor:
        raise ValueError(f"a {height} x {width} image does not divide into {factor} x {factor} blocks")
    blocks = image.reshape(*image.shape[:-2], height // factor, factor, width // factor, factor)
    return blocks.astype(np.float64).mean(axis=(-3, -1))


INTERPOLATIONS = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}


def enlarge(low: np.ndarray, factor: int, method: str = "bicubic") -> np.ndarray:
    """A float image enlarged by `factor` with PIL's bicubic or Lanczos filter (in float, no rounding,
    no clipping: a residual keeps its sign)."""
    height, width = low.shape
    image = Image.fromarray(low.astype(np.float32), mode="F")
    return np.asarray(image.resize((width * factor, height * factor), INTERPOLATIONS[method]))


def unit(pixels: np.ndarray) -> np.ndarray:
    """uint8/uint16 pixels as float32 in [0, 1]."""
    return (pixels.astype(np.float32) / np.iinfo(pixels.dtype).max).astype(np.float32)


def tissue_places(
    image: np.ndarray,
    patch: int,
    count: int,
    rng: np.random.Generator,
    min_tissue: float = MIN_TISSUE,
    level: float = 0.0,
) -> list[tuple[int, int]]:
    """Up to `count` patch origins (top, left) in `image` where tissue (pixels above `level` of the
    dtype's range: 0 for real images, whose air is exactly zero) fills `min_tissue` of the patch, within
    count x TRIES draws."""
    height, width = image.shape
    if height < patch or width < patch:
        return []
    floor = level * (np.iinfo(image.dtype).max if image.dtype.kind in "ui" else 1.0)
    places = []
    for _ in range(count * TRIES):
        top, left = int(rng.integers(0, height - patch + 1)), int(rng.integers(0, width - patch + 1))
        if (image[top : top + patch, left : left + patch] > floor).mean() >= min_tissue:
            places.append((top, left))
            if len(places) == count:
                break
    return places


def patch_positions(
    frame: pd.DataFrame, patch: int, per_image: int, seed: int, min_tissue: float = MIN_TISSUE
) -> pd.DataFrame:
    """`per_image` patch origins (top, left) per full-field image where tissue fills `min_tissue` of it:
    one row per patch with the image's columns. An image smaller than the patch, or with no such place
    within TRIES draws, gives fewer patches (the log of the caller says how many)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _, row in frame.iterrows():
        for top, left in tissue_places(read_pixels(row["full_image"]), patch, per_image, rng, min_tissue):
            rows.append({**row.to_dict(), "patch_top": top, "patch_left": left, "patch": patch})
    return pd.DataFrame(rows)


def read_patches(positions: pd.DataFrame) -> np.ndarray:
    """The patches at `positions` (patch_positions' rows) as float32 (n, patch, patch) in [0, 1]."""
    patches, cached = [], {}
    for row in positions.itertuples(index=False):
        if row.full_image not in cached:
            cached.clear()  # rows of one image are adjacent: hold one image at a time
            cached[row.full_image] = unit(read_pixels(row.full_image))
        image = cached[row.full_image]
        patches.append(
            image[row.patch_top : row.patch_top + row.patch, row.patch_left : row.patch_left + row.patch]
        )
    return np.stack(patches) if patches else np.zeros((0, 0, 0), np.float32)
