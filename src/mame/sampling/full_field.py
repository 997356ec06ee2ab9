"""Lesions painted into a full-field mammogram at its own resolution.

A lesion model works on a small canvas (512 px in the study). A full-field image is several times larger.
So a window around the lesion box is cut out: at 1:1 when the box and its margin fit the model's canvas,
else larger and scaled down to it. The window is inpainted at the model's resolution and scaled back.
It is then blended into the full field only inside the dilated box, with a linear feather from the box
edge to the dilation's edge. Every pixel outside the dilated box keeps its original value, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

Painter = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (image, mask 255 = paint) -> image, same shape


@dataclass(frozen=True)
class PaintWindow:
    """A window of a full-field image, (top, left, height, width) in full-field pixels, and the factor
    by which it is scaled down to the lesion model's canvas (1: painted at full resolution)."""

    top: int
    left: int
    height: int
    width: int
    scale: float

    def cut(self, image: np.ndarray) -> np.ndarray:
        return image[self.top : self.top + self.height, self.left : self.left + self.width]


def paint_window(
    box: tuple[float, float, float, float],
    image_shape: tuple[int, int],
    model_shape: tuple[int, int],
    margin: float = 0.5,
) -> PaintWindow:
    """The window to paint `box` (x1, y1, x2, y2 in full-field pixel edges) in.

    It has the model's aspect ratio and is centred on the box, shifted to stay inside the image. Its size
    is the model's canvas at 1:1, or larger (scale > 1) when the box plus `margin` (a fraction of the box
    on each side) does not fit in that canvas.
    """
    x1, y1, x2, y2 = box
    height, width = image_shape
    model_h, model_w = model_shape
    need_w, need_h = (x2 - x1) * (1 + 2 * margin), (y2 - y1) * (1 + 2 * margin)
    scale = max(1.0, need_w / model_w, need_h / model_h)
    scale = min(scale, width / model_w, height / model_h) if scale > 1 else scale
    win_h, win_w = min(height, math.ceil(model_h * scale)), min(width, math.ceil(model_w * scale))
    top = int(np.clip(round((y1 + y2) / 2 - win_h / 2), 0, height - win_h))
    left = int(np.clip(round((x1 + x2) / 2 - win_w / 2), 0, width - win_w))
    return PaintWindow(top, left, win_h, win_w, max(win_h / model_h, win_w / model_w))


def feather(shape: tuple[int, int], box: tuple[float, float, float, float], width: int) -> np.ndarray:
    """Blend weights over an image of `shape`: 1 inside the box, falling linearly to 0 over `width` pixels
    outside it (Chebyshev distance from the box), 0 beyond. Pixel centres are at i + 0.5."""
    x1, y1, x2, y2 = box
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]] + 0.5
    dx = np.maximum(np.maximum(x1 - xs, xs - x2), 0)
    dy = np.maximum(np.maximum(y1 - ys, ys - y2), 0)
    distance = np.maximum(dx, dy)
    if width <= 0:
        return (distance == 0).astype(np.float64)
    return np.clip(1 - distance / width, 0, 1)


def grown_box_mask(shape: tuple[int, int], box: tuple[float, float, float, float], grow: float) -> np.ndarray:
    """uint8 mask (255 inside) of the pixels whose centres lie in the box grown by `grow` pixels a side
    (fractional boxes: a window scaled to the model's canvas rarely keeps integer edges)."""
    x1, y1, x2, y2 = box
    return np.where(feather(shape, (x1 - grow, y1 - grow, x2 + grow, y2 + grow), 0) > 0, 255, 0).astype(
        np.uint8
    )


def _resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A grey uint8/uint16 image resized to (height, width), bilinear, at its own bit depth."""
    if image.shape == tuple(shape):
        return image.copy()
    resized = Image.fromarray(image).resize((shape[1], shape[0]), Image.Resampling.BILINEAR)
    return np.asarray(resized).astype(image.dtype)


def paint_full_field(
    image: np.ndarray,
    box: tuple[float, float, float, float],
    painter: Painter,
    model_shape: tuple[int, int],
    margin: float = 0.5,
    feather_px: int = 8,
) -> tuple[np.ndarray, dict]:
    """Paint a lesion into `image` (HxW uint8/uint16 full field) at `box`; returns (result, record).

    `painter(window, mask)` inpaints a model-sized window inside its mask (mame.sampling.inpaint.inpaint
    with a pipeline bound, or a stand-in in tests). The window is painted inside the box; the result is
    blended into the full field with weights `feather` (1 in the box, 0 beyond `feather_px` of it).
    `record` holds the window, its scale, and the box and dilated-box extents.
    """
    window = paint_window(box, image.shape, model_shape, margin)
    scale = window.scale
    local = (box[0] - window.left, box[1] - window.top, box[2] - window.left, box[3] - window.top)
    model_box = tuple(v / scale for v in local)
    grown = feather_px / scale  # the painter paints the box and the feather ring around it
    cut = window.cut(image)
    small = _resize(cut, model_shape)
    mask = grown_box_mask(model_shape, model_box, grown)
    painted = painter(small, mask)
    if painted.shape != small.shape or painted.dtype != small.dtype:
        raise ValueError(
            f"the painter returned {painted.shape} {painted.dtype}, not {small.shape} {small.dtype}"
        )
    back = _resize(painted, cut.shape).astype(np.float64)
    weights = feather(cut.shape, local, feather_px)
    blended = np.round(weights * back + (1 - weights) * cut.astype(np.float64))
    top = np.iinfo(image.dtype).max
    region = np.where(weights > 0, np.clip(blended, 0, top), cut).astype(image.dtype)
    result = image.copy()
    result[window.top : window.top + window.height, window.left : window.left + window.width] = region
    record = {
        "window": [window.top, window.left, window.height, window.width],
        "scale": round(scale, 4),
        "box": [round(float(v), 2) for v in box],
        "feather_px": feather_px,
    }
    return result, record


def pipeline_painter(pipeline, prompt: str, steps: int = 20, guidance: float = 7.0, seed: int = 0) -> Painter:
    """A painter over an inpainting pipeline (mame.sampling.inpaint.inpaint: the original kept outside)."""
    from mame.sampling.inpaint import inpaint

    def paint(window: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return inpaint(pipeline, window, mask, prompt=prompt, steps=steps, guidance=guidance, seed=seed)

    return paint
