"""The data stage's figures: raw DICOM to processed image with its boxes, image-prompt and image-mask
pairs, drawn from a seeded pick of each dataset's manifests."""

from __future__ import annotations

import json
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from mame.data.dicom import IntensitySettings, load_display_image
from mame.io import read_grey, read_manifests
from mame.plotting import blank_figure, draw_boxes, save_png, show_grey


def raw_vs_processed(examples: pd.DataFrame) -> plt.Figure:
    """Each example: raw DICOM (VOI applied, no geometry) with raw boxes, then the processed PNG."""
    count = len(examples)
    figure, axes = plt.subplots(2, count, figsize=(1.9 * count, 4.4), squeeze=False)
    for column, row in enumerate(examples.itertuples(index=False)):
        raw, _ = load_display_image(row.source, IntensitySettings())
        show_grey(axes[0, column], raw, f"raw {row.laterality} {row.view}")
        draw_boxes(
            axes[0, column], [f["box"] for f in json.loads(row.raw_findings) if f.get("box") is not None]
        )
        processed = read_grey(row.image)
        show_grey(axes[1, column], processed, "processed")
        draw_boxes(axes[1, column], json.loads(row.boxes))
    figure.suptitle(
        "Raw -> processed (crop, R flipped to L, resize, pad); lesion boxes follow the same transform"
    )
    return figure


def image_prompt_pairs(healthy: pd.DataFrame) -> plt.Figure:
    count = len(healthy)
    figure, axes = plt.subplots(1, count, figsize=(1.9 * count, 2.6), squeeze=False)
    for column, row in enumerate(healthy.itertuples(index=False)):
        show_grey(axes[0, column], read_grey(row.image))
        axes[0, column].set_xlabel("\n".join(textwrap.wrap(row.prompt, 24)), fontsize=8)
    return figure


def image_mask_pairs(lesions: pd.DataFrame) -> plt.Figure:
    count = len(lesions)
    figure, axes = plt.subplots(2, count, figsize=(1.9 * count, 4.2), squeeze=False)
    for column, row in enumerate(lesions.itertuples(index=False)):
        show_grey(axes[0, column], read_grey(row.image), row.categories.replace(";", "\n"))
        show_grey(axes[1, column], np.asarray(Image.open(row.mask)), "mask")
    return figure


def lesion_examples(
    index_paths: list[str], lesion_paths: list[str], count: int, seed: int = 0
) -> pd.DataFrame:
    """A seeded pick of lesion-manifest rows with their source file and the raw boxes from the index."""
    parts = []
    for index_path, lesion_path in zip(index_paths, lesion_paths, strict=True):
        lesions = pd.read_csv(lesion_path, keep_default_na=False)
        index = pd.read_csv(index_path, keep_default_na=False)[["key", "source", "findings"]]
        parts.append(lesions.merge(index.rename(columns={"findings": "raw_findings"}), on="key"))
    lesions = pd.concat(parts, ignore_index=True)
    return lesions.sample(min(count, len(lesions)), random_state=seed) if len(lesions) else lesions


def write_data_figures(
    index_paths: list[str],
    healthy_paths: list[str],
    lesion_paths: list[str],
    count: int,
    raw_vs_processed_png: str,
    image_mask_png: str,
    image_prompt_png: str,
    seed: int = 0,
) -> None:
    """The three data figures of `count` seeded examples (a note instead when a dataset has none)."""
    lesions = lesion_examples(index_paths, lesion_paths, count, seed)
    none = "no image with a lesion of a selected category"
    save_png(raw_vs_processed(lesions) if len(lesions) else blank_figure(none), raw_vs_processed_png)
    save_png(image_mask_pairs(lesions) if len(lesions) else blank_figure(none), image_mask_png)
    healthy = read_manifests(healthy_paths)
    picked = healthy.sample(min(count, len(healthy)), random_state=seed)
    save_png(
        image_prompt_pairs(picked) if len(picked) else blank_figure("no healthy image"), image_prompt_png
    )
