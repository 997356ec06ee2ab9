"""The super-resolution figure: a held-out image by every method at 1:1 full-field pixels, and upscaled
samples beside their model-resolution originals."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mame.io import read_pixels, to_display
from mame.plotting import show_grey


def centre_crop(image: np.ndarray, side: int, centre: tuple[int, int] | None = None) -> np.ndarray:
    """A side x side crop around `centre` (row, col; default the middle of the breast's box), inside."""
    rows, cols = np.nonzero(image > 0) if (image > 0).any() else np.indices(image.shape).reshape(2, -1)
    cy, cx = centre or ((rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2)
    top = int(np.clip(cy - side // 2, 0, max(image.shape[0] - side, 0)))
    left = int(np.clip(cx - side // 2, 0, max(image.shape[1] - side, 0)))
    return image[top : top + side, left : left + side]


def superres_figure(
    methods: dict[str, np.ndarray], samples: pd.DataFrame, factor: int, crop: int = 96
) -> plt.Figure:
    """Row 1: a held-out full field downscaled, then the same crop at 1:1 of the original and of every
    method's result (`methods`: name -> float image in [0, 1], "original" and "input" among them).
    Row 2: up to three upscaled samples, each beside its model-resolution original (both the crop)."""
    names = list(methods)
    shown = samples.head(3)
    columns = max(len(names) + 1, 2 * len(shown))
    figure, axes = plt.subplots(2, columns, figsize=(1.5 * columns, 3.6), squeeze=False)
    for axis in axes.ravel():
        axis.axis("off")
    original = methods["original"]
    show_grey(axes[0, 0], to_display(_unit16(original)), "held out, whole")
    rows, cols = np.nonzero(original > 0)
    centre = ((rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2) if len(rows) else None
    for column, name in enumerate(names, start=1):
        title = name.replace(", ", ",\n") + " 1:1"
        show_grey(axes[0, column], to_display(_unit16(centre_crop(methods[name], crop, centre))), title)
    for number, row in enumerate(shown.itertuples(index=False)):
        upscaled = read_pixels(row.file).astype(np.float32) / 65535
        sample = read_pixels(row.source)
        rows, cols = np.nonzero(upscaled > 0.02)
        middle = ((rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2) if len(rows) else None
        crop_up = centre_crop(upscaled, crop, middle)
        enlarged = np.kron(to_display(sample), np.ones((factor, factor), np.uint8))  # the same area
        show_grey(axes[1, 2 * number], centre_crop(enlarged, crop, middle), "")
        axes[1, 2 * number].set_title(f"{row.model} sample,\nx{factor} pixel repeat", fontsize=7)
        show_grey(axes[1, 2 * number + 1], to_display(_unit16(crop_up)), "")
        axes[1, 2 * number + 1].set_title(f"upscaled, 1:1\n({crop} px)", fontsize=7)
    for axis in axes[0]:
        axis.title.set_fontsize(7)
    figure.suptitle("Super-resolution to the full field", fontsize=9)
    return figure


def _unit16(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 65535).astype(np.uint16)
