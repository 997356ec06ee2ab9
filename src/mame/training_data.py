"""Training examples from the manifests: images (and masks) as tensors, captions as strings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image


@dataclass
class Examples:
    images: np.ndarray  # float32 (n, 3, h, w) in [-1, 1]: grey copied to three channels, as SD expects
    captions: list[str]
    masks: np.ndarray | None = None  # float32 (n, 1, h, w) in {0, 1}: 1 = region to inpaint


def read_image(path: str | Path, resolution: int) -> np.ndarray:
    """A processed PNG (8- or 16-bit grey, or RGB) -> float32 (3, r, r) in [-1, 1]."""
    with Image.open(path) as image:
        array = np.asarray(image)
    if array.ndim == 3:
        array = array[..., 0]
    top = 65535.0 if array.dtype == np.uint16 else 255.0
    grey = array.astype(np.float32) / top
    if grey.shape != (resolution, resolution):
        grey = np.asarray(
            Image.fromarray(grey, mode="F").resize((resolution, resolution), Image.Resampling.BILINEAR)
        )
    return np.repeat(grey[None] * 2.0 - 1.0, 3, axis=0).astype(np.float32)


def read_grey(path: str | Path, side: int | None = None) -> np.ndarray:
    """Any processed or generated PNG as grey uint8 (HxW), box-resized to side x side if given."""
    with Image.open(path) as image:
        grey = image.convert("L")
        if side and grey.size != (side, side):
            grey = grey.resize((side, side), Image.Resampling.BOX)
        return np.asarray(grey)


def read_mask(path: str | Path, resolution: int) -> np.ndarray:
    with Image.open(path) as image:
        mask = image.convert("L")
        if mask.size != (resolution, resolution):
            mask = mask.resize((resolution, resolution), Image.Resampling.NEAREST)
        return (np.asarray(mask)[None] > 127).astype(np.float32)


def read_manifests(paths: list[str], column: str | None = "prompt") -> pd.DataFrame:
    """Concatenate CSV tables (manifests, metrics) read as text; `column` must be present if given."""
    frames = []
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"manifest {path} does not exist; run the data stage first")
        frames.append(pd.read_csv(path, keep_default_na=False))
    frame = pd.concat(frames, ignore_index=True)
    if column is not None and column not in frame.columns:
        raise ValueError(f"manifest has no {column!r} column: {list(frame.columns)}")
    return frame


def load_examples(
    manifests: list[str],
    resolution: int,
    split: str | None = "train",
    prompt: str | None = None,
    masks: bool = False,
) -> Examples:
    """Rows of the manifests (of one split) as arrays; `prompt` replaces every caption (inpainting)."""
    frame = read_manifests(manifests)
    if split and "split" in frame.columns:
        frame = frame[frame["split"] == split]
    if frame.empty:
        raise ValueError(f"no {split or ''} images in {', '.join(manifests)}")
    images = np.stack([read_image(p, resolution) for p in frame["image"]])
    captions = [prompt] * len(frame) if prompt is not None else frame["prompt"].tolist()
    mask_array = np.stack([read_mask(p, resolution) for p in frame["mask"]]) if masks else None
    return Examples(images, captions, mask_array)
