"""The one geometry transform: crop -> flip -> resize -> pad, applied to images AND lesion boxes.

Boxes are continuous coordinates of pixel edges (x1, y1, x2, y2 with x2/y2 exclusive), so the
same affine map moves an image pixel and a box edge to the same place; a horizontal flip maps
x -> width - x and therefore swaps x1 and x2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from mame.data.breast import find_breast
from mame.shapes import as_shape

CROP_MODES = ("breast", "center")


@dataclass(frozen=True)
class Geometry:
    """A planned transform from a raw image to a canvas of `size`: a side (square) or (height, width)."""

    crop: tuple[int, int, int, int]  # x0, y0, x1, y1 in raw pixels
    flip: bool
    resized: tuple[int, int]  # width, height of the crop after resizing
    offset: tuple[int, int]  # x, y where the resized crop sits on the canvas
    size: int | tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        """The canvas as (height, width)."""
        return as_shape(self.size)

    def scaled(self, factor: int) -> Geometry:
        """The same crop and flip onto a canvas `factor` times larger (the full-field product): model
        pixel (i, j) covers full-field pixels [factor i, factor (i + 1)) x [factor j, factor (j + 1))."""
        height, width = self.shape
        size = factor * height if height == width else (factor * height, factor * width)
        resized = (factor * self.resized[0], factor * self.resized[1])
        return Geometry(
            self.crop, self.flip, resized, (factor * self.offset[0], factor * self.offset[1]), size
        )

    def apply_image(self, image: np.ndarray) -> np.ndarray:
        """Transform a uint8/uint16 HxW image; padding is 0 (air)."""
        x0, y0, x1, y1 = self.crop
        patch = image[y0:y1, x0:x1]
        if self.flip:
            patch = patch[:, ::-1]
        patch = np.ascontiguousarray(patch)
        resized = Image.fromarray(patch)
        if resized.size != self.resized:
            # 8-bit images take PIL's fast reduce-then-filter path; 16-bit ones the plain filter
            gap = 2.0 if patch.dtype == np.uint8 else None
            resized = resized.resize(self.resized, Image.Resampling.BILINEAR, reducing_gap=gap)
        canvas = np.zeros(self.shape, dtype=image.dtype)
        ox, oy = self.offset
        width, height = self.resized
        canvas[oy : oy + height, ox : ox + width] = np.asarray(resized)
        return canvas

    def apply_boxes(self, boxes: np.ndarray) -> np.ndarray:
        """Map an (n, 4) array of raw boxes; boxes cut away by the crop come back with zero area."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        x0, y0, x1, y1 = self.crop
        crop_w, crop_h = x1 - x0, y1 - y0
        xs = np.clip(boxes[:, [0, 2]] - x0, 0, crop_w)
        ys = np.clip(boxes[:, [1, 3]] - y0, 0, crop_h)
        if self.flip:
            xs = crop_w - xs[:, ::-1]
        width, height = self.resized
        xs = xs * (width / crop_w) + self.offset[0]
        ys = ys * (height / crop_h) + self.offset[1]
        return np.column_stack([xs[:, 0], ys[:, 0], xs[:, 1], ys[:, 1]])


def plan_geometry(image: np.ndarray, mode: str, size: int | tuple[int, int], flip: bool) -> Geometry:
    """Choose the crop for a display image; `size` is a side (square canvas) or (height, width).

    mode "breast" (default): the breast's bounding box, aspect preserved, scaled to fit the canvas
    (never cut), the chest wall kept at its canvas edge and the rest padded.
    mode "center" (the study's): the largest centred crop of the canvas's aspect ratio (a square of
    side = short side for a square canvas), resized to the canvas; it cuts the breast when the image's
    aspect differs from the canvas's.
    """
    height, width = image.shape
    canvas_h, canvas_w = as_shape(size)
    if mode == "center":
        crop_w = min(width, round(height * canvas_w / canvas_h))
        crop_h = min(height, round(crop_w * canvas_h / canvas_w))
        x0, y0 = (width - crop_w) // 2, (height - crop_h) // 2
        return Geometry((x0, y0, x0 + crop_w, y0 + crop_h), flip, (canvas_w, canvas_h), (0, 0), size)
    if mode != "breast":
        raise ValueError(f"crop mode {mode!r} unknown; expected one of {CROP_MODES}")
    region = find_breast(image)
    x0, y0, x1, y1 = region.box
    crop_w, crop_h = x1 - x0, y1 - y0
    scale = min(canvas_w / crop_w, canvas_h / crop_h)
    new_w = min(canvas_w, max(1, round(crop_w * scale)))
    new_h = min(canvas_h, max(1, round(crop_h * scale)))
    chest_left = region.chest_wall_left != flip  # a flip moves the chest wall to the other side
    offset_x = 0 if chest_left else canvas_w - new_w
    offset_y = (canvas_h - new_h) // 2
    return Geometry((x0, y0, x1, y1), flip, (new_w, new_h), (offset_x, offset_y), size)
