"""Training examples from the manifests: images (and masks) as arrays, captions as strings.

The tiny base (models), the trainer and the latent stage (training) all read images through here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mame.io import split_rows
from mame.shapes import as_shape, pil_size


@dataclass
class Examples:
    images: np.ndarray  # float32 (n, 3, h, w) in [-1, 1]: grey copied to three channels, as SD expects
    captions: list[str]
    masks: np.ndarray | None = None  # float32 (n, 1, h, w) in {0, 1}: 1 = region to inpaint


def read_image(path: str | Path, resolution: int | tuple[int, int]) -> np.ndarray:
    """A processed PNG (8- or 16-bit grey, or RGB) -> float32 (3, h, w) in [-1, 1] at `resolution`
    (a side or (height, width)), read at full precision: a 16-bit file never passes through 8 bits."""
    with Image.open(path) as image:
        array = np.asarray(image)
    if array.ndim == 3:
        array = array[..., 0]
    top = 65535.0 if array.dtype == np.uint16 else 255.0
    grey = array.astype(np.float32) / top
    if grey.shape != as_shape(resolution):
        grey = np.asarray(
            Image.fromarray(grey, mode="F").resize(pil_size(resolution), Image.Resampling.BILINEAR)
        )
    return np.repeat(grey[None] * 2.0 - 1.0, 3, axis=0).astype(np.float32)


def read_mask(path: str | Path, resolution: int | tuple[int, int]) -> np.ndarray:
    with Image.open(path) as image:
        mask = image.convert("L")
        if mask.size != pil_size(resolution):
            mask = mask.resize(pil_size(resolution), Image.Resampling.NEAREST)
        return (np.asarray(mask)[None] > 127).astype(np.float32)


def load_examples(
    manifests: list[str],
    resolution: int | tuple[int, int],
    split: str | None = "train",
    prompt: str | None = None,
    masks: bool = False,
) -> Examples:
    """Rows of the manifests (of one split) as arrays; `prompt` replaces every caption (inpainting)."""
    frame = split_rows(manifests, split)
    images = np.stack([read_image(p, resolution) for p in frame["image"]])
    captions = [prompt] * len(frame) if prompt is not None else frame["prompt"].tolist()
    mask_array = np.stack([read_mask(p, resolution) for p in frame["mask"]]) if masks else None
    return Examples(images, captions, mask_array)
