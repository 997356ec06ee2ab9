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

CROP_MODES = ("breast", "center")


@dataclass(frozen=True)
class Geometry:
    """A planned transform from a raw image of `source` (h, w) to a `size` x `size` canvas."""

    crop: tuple[int, int, int, int]  # x0, y0, x1, y1 in raw pixels
    flip: bool
    resized: tuple[int, int]  # width, height of the crop after resizing
    offset: tuple[int, int]  # x, y where the resized crop sits on the canvas
    size: int

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
        canvas = np.zeros((self.size, self.size), dtype=image.dtype)
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


def plan_geometry(image: np.ndarray, mode: str, size: int, flip: bool) -> Geometry:
    """Choose the crop for a display image.

    mode "breast" (default): the breast's bounding box, aspect preserved, resized so its long side
    is `size`, the chest wall kept at its canvas edge and the rest padded.
    mode "center" (the study's): the centred square of side = short side, resized to `size`;
    it cuts the breast when the image is not square.
    """
    height, width = image.shape
    if mode == "center":
        side = min(height, width)
        x0, y0 = (width - side) // 2, (height - side) // 2
        return Geometry((x0, y0, x0 + side, y0 + side), flip, (size, size), (0, 0), size)
    if mode != "breast":
        raise ValueError(f"crop mode {mode!r} unknown; expected one of {CROP_MODES}")
    region = find_breast(image)
    x0, y0, x1, y1 = region.box
    crop_w, crop_h = x1 - x0, y1 - y0
    scale = size / max(crop_w, crop_h)
    new_w = min(size, max(1, round(crop_w * scale)))
    new_h = min(size, max(1, round(crop_h * scale)))
    chest_left = region.chest_wall_left != flip  # a flip moves the chest wall to the other side
    offset_x = 0 if chest_left else size - new_w
    offset_y = (size - new_h) // 2
    return Geometry((x0, y0, x1, y1), flip, (new_w, new_h), (offset_x, offset_y), size)
