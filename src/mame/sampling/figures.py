"""The sampling stage's figures: the guidance grid, concept extrapolation, inpainted lesions."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import pandas as pd

from mame.io import read_grey
from mame.plotting import show_grey


def guidance_grid(samples: pd.DataFrame, title: str) -> plt.Figure:
    """First sample of every prompt (rows) at every guidance scale (columns): one seed, changing guidance."""
    first = samples[samples["seed"] == samples["seed"].min()]
    prompts = list(dict.fromkeys(first.sort_values("prompt_index")["prompt"]))
    scales = sorted(first["guidance"].unique())
    figure, axes = plt.subplots(
        len(prompts), len(scales), figsize=(1.25 * len(scales) + 2.2, 1.25 * len(prompts)), squeeze=False
    )
    for r, prompt in enumerate(prompts):
        for c, scale in enumerate(scales):
            row = first[(first["prompt"] == prompt) & (first["guidance"] == scale)].iloc[0]
            show_grey(axes[r, c], read_grey(row["file"]))
            if r == 0:
                axes[r, c].set_title(f"guidance {scale:g}")
        axes[r, 0].set_ylabel(
            "\n".join(textwrap.wrap(prompt.replace("a mammogram", "").strip(), 18)),
            rotation=0,
            ha="right",
            va="center",
            fontsize=7,
        )
    figure.suptitle(title)
    return figure


def extrapolation_grid(table: pd.DataFrame, title: str) -> plt.Figure:
    """Rows: a vendor asked for an attribute it never saw; columns: its images, each titled with what
    the real-trained classifier reads (green when it matches the request)."""
    prompts = list(dict.fromkeys(table.sort_values("prompt_index")["prompt"]))
    columns = int(table.groupby("prompt").size().max())
    figure, axes = plt.subplots(
        len(prompts), columns, figsize=(0.95 * columns + 2.4, 0.95 * len(prompts)), squeeze=False
    )
    for r, prompt in enumerate(prompts):
        rows = table[table["prompt"] == prompt].reset_index(drop=True)
        for c in range(columns):
            axis = axes[r, c]
            axis.axis("off")
            if c >= len(rows):
                continue
            row = rows.iloc[c]
            show_grey(axis, read_grey(row["file"]))
            asked = row["area"] or row["density"]
            axis.set_title(
                str(row.get("read", "")), fontsize=6, color="green" if row.get("read") == asked else "red"
            )
        axes[r, 0].axis("on")
        axes[r, 0].set_xticks([])
        axes[r, 0].set_yticks([])
        axes[r, 0].set_ylabel(
            "\n".join(textwrap.wrap(prompt.replace("a ", "", 1), 20)),
            rotation=0,
            ha="right",
            va="center",
            fontsize=6,
        )
    figure.suptitle(title, fontsize=9)
    return figure


def inpainting_panels(table: pd.DataFrame, title: str) -> plt.Figure:
    """Rows of before / mask / after for each painted lesion."""
    figure, axes = plt.subplots(len(table), 3, figsize=(4.2, 1.45 * len(table)), squeeze=False)
    for r, row in enumerate(table.itertuples(index=False)):
        for c, kind in enumerate(("before", "mask", "after")):
            show_grey(axes[r, c], read_grey(getattr(row, kind)), kind if r == 0 else "")
    figure.suptitle(title, fontsize=9)
    return figure


def full_field_panels(table: pd.DataFrame, title: str, crop_px: int = 96) -> plt.Figure:
    """Per painted full field: the whole image downscaled with the box outlined, then the region around
    the box at 1:1 pixel scale before and after (a calcification is a few full-field pixels)."""
    from matplotlib.patches import Rectangle

    from mame.io import read_pixels, to_display

    figure, axes = plt.subplots(len(table), 3, figsize=(5.4, 1.9 * len(table)), squeeze=False)
    for r, row in enumerate(table.itertuples(index=False)):
        after = to_display(read_pixels(row.after))
        before = to_display(read_pixels(row.before))
        x1, y1, x2, y2 = (float(v) for v in _listed(row.full_box))
        show_grey(axes[r, 0], after, f"{row.full_width}x{row.full_height}, downscaled" if r == 0 else "")
        axes[r, 0].add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color="red", lw=0.8))
        side = max(crop_px, int(max(x2 - x1, y2 - y1)) + 2 * row.feather_px)
        top = int(min(max((y1 + y2) / 2 - side / 2, 0), max(after.shape[0] - side, 0)))
        left = int(min(max((x1 + x2) / 2 - side / 2, 0), max(after.shape[1] - side, 0)))
        for c, (image, kind) in enumerate(((before, "before"), (after, "after")), start=1):
            crop = image[top : top + side, left : left + side]
            show_grey(axes[r, c], crop, f"{kind}, 1:1 ({crop.shape[1]} px)" if r == 0 else "")
    figure.suptitle(title, fontsize=9)
    return figure


def _listed(value) -> list:
    """A list cell as written to CSV and read back (a JSON string) or still a list."""
    import json

    return json.loads(value) if isinstance(value, str) else list(value)
