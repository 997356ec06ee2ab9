"""Where the breast is: Otsu threshold + largest connected component, on a small copy for speed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

from mame.data.rejections import Rejection

WORK_SIDE = 256  # the mask is found on a copy whose long side is about this many pixels


@dataclass(frozen=True)
class BreastRegion:
    """Bounding box (x0, y0, x1, y1; pixel edges, x1/y1 exclusive) and the side of the chest wall."""

    box: tuple[int, int, int, int]
    chest_wall_left: bool


def breast_mask(image: np.ndarray) -> np.ndarray:
    """Boolean mask of the largest bright component of a display image (any dtype, HxW).

    Raises Rejection('no_breast') for an image with no contrast (all one value).
    """
    if image.min() == image.max():
        raise Rejection("no_breast", "image has a single intensity")
    # Otsu alone splits fat from dense tissue when the breast fills most of the detector, so the
    # threshold is capped just above the air level (the darkest percentile) to keep thin fatty skin.
    low, high = np.percentile(image, [1, 99])
    threshold = min(float(threshold_otsu(image)), low + 0.08 * (high - low))
    mask = image > threshold
    labels, count = ndimage.label(mask)
    if count == 0:
        raise Rejection("no_breast", "nothing above the Otsu threshold")
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return ndimage.binary_fill_holes(labels == int(sizes.argmax()))


def find_breast(image: np.ndarray, margin: float = 0.01) -> BreastRegion:
    """Bounding box of the breast in full-resolution pixels, plus chest-wall side.

    The mask is computed on a strided copy (long side ~WORK_SIDE): the box is then accurate to a
    few full-resolution pixels, widened by `margin` of the image size so the skin line is kept.
    """
    height, width = image.shape
    step = max(1, max(height, width) // WORK_SIDE)
    mask = breast_mask(image[::step, ::step])
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    pad = int(round(margin * max(height, width)))
    x0 = max(0, cols[0] * step - pad)
    x1 = min(width, (cols[-1] + 1) * step + pad)
    y0 = max(0, rows[0] * step - pad)
    y1 = min(height, (rows[-1] + 1) * step + pad)
    # the chest wall is the bounding-box edge the breast touches along more rows
    left_edge = mask[:, cols[0]].sum()
    right_edge = mask[:, cols[-1]].sum()
    return BreastRegion((int(x0), int(y0), int(x1), int(y1)), bool(left_edge >= right_edge))


def area_fraction(image: np.ndarray) -> float:
    """Breast pixels / all pixels of a (processed) image: the study's breast-area measure."""
    return float(breast_mask(image).mean())
