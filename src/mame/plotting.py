"""Figures for every stage: one matplotlib style, PNG files, and PNGs embedded as data URIs."""

from __future__ import annotations

import base64
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "figure.dpi": 110, "savefig.bbox": "tight"})
BOX_COLOUR = "#ff4d4d"


def save_png(figure: plt.Figure, path: str | Path) -> Path:
    """Write a figure as a PNG (folders made) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    plt.close(figure)
    return path


def blank_figure(message: str) -> plt.Figure:
    """A small figure that says why there is nothing to show (a rule's output must still exist)."""
    figure, axis = plt.subplots(figsize=(4, 0.8))
    axis.text(0.5, 0.5, message, ha="center", va="center")
    axis.axis("off")
    return figure


def data_uri(path: str | Path) -> str:
    """A PNG file as a data URI, so the report is one self-contained file."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def show_grey(axis: plt.Axes, image: np.ndarray, title: str = "") -> None:
    axis.imshow(
        image, cmap="gray", vmin=0, vmax=np.iinfo(image.dtype).max if image.dtype.kind == "u" else None
    )
    axis.set_title(title)
    axis.set_xticks([])
    axis.set_yticks([])


def draw_boxes(axis: plt.Axes, boxes: list[list[float]]) -> None:
    for x1, y1, x2, y2 in boxes:
        axis.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=BOX_COLOUR, linewidth=1.2))
