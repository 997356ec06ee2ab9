"""Where to paint a synthetic lesion: the study's box sampling on healthy images.

Box area is drawn between the 25th and 75th percentiles of the training lesion boxes' areas and its
aspect ratio from their mean +- sd; the box is placed where it lies wholly inside the breast (the
largest component of the non-zero region).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from mame.shapes import as_shape


@dataclass(frozen=True)
class BoxDistribution:
    """Lesion box statistics as fractions of the image area, and their pixel aspect ratios."""

    area_low: float  # 25th percentile of box area / image area
    area_high: float  # 75th percentile
    aspect_mean: float  # width / height
    aspect_sd: float

    @classmethod
    def from_manifest(cls, boxes_json: list[str], size: int | tuple[int, int]) -> BoxDistribution:
        """From the training boxes of images of `size` (a side, or (height, width))."""
        boxes = np.array([box for text in boxes_json for box in json.loads(text)], dtype=float).reshape(-1, 4)
        if len(boxes) < 2:
            raise ValueError(f"need at least two training lesion boxes to sample sizes, found {len(boxes)}")
        widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        image_height, image_width = as_shape(size)
        areas = widths * heights / (image_height * image_width)
        aspects = widths / np.maximum(heights, 1e-6)
        low, high = np.percentile(areas, [25, 75])
        return cls(float(low), float(high), float(aspects.mean()), float(aspects.std()))


def breast_region(image: np.ndarray) -> np.ndarray:
    """Largest connected component of the non-zero pixels (the breast on a processed image)."""
    labels, count = ndimage.label(image > 0)
    if count == 0:
        raise ValueError("the image has no non-zero region to place a lesion in")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return ndimage.binary_fill_holes(labels == sizes.argmax())


def place_box(
    region: np.ndarray, distribution: BoxDistribution, rng: np.random.Generator, tries: int = 200
) -> tuple[int, int, int, int]:
    """A box (x1, y1, x2, y2; x2/y2 exclusive) wholly inside `region`, sized by `distribution`."""
    rows, cols = region.shape
    for _ in range(tries):
        area = rng.uniform(distribution.area_low, distribution.area_high) * rows * cols
        aspect = max(0.2, rng.normal(distribution.aspect_mean, distribution.aspect_sd))
        width = int(np.clip(round(np.sqrt(area * aspect)), 2, cols - 1))
        height = int(np.clip(round(np.sqrt(area / aspect)), 2, rows - 1))
        # candidate centres: the box's footprint around them is all breast (checked exactly below)
        fits = ndimage.minimum_filter(region.astype(np.uint8), size=(height, width), mode="constant") > 0
        ys, xs = np.nonzero(fits)
        if len(ys) == 0:
            continue
        pick = rng.integers(len(ys))
        top, left = ys[pick] - height // 2, xs[pick] - width // 2
        if top < 0 or left < 0 or top + height > rows or left + width > cols:
            continue
        if region[top : top + height, left : left + width].all():
            return int(left), int(top), int(left + width), int(top + height)
    raise ValueError("no box of the sampled size fits inside the breast")


def box_mask(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    x1, y1, x2, y2 = box
    mask[y1:y2, x1:x2] = 255
    return mask
