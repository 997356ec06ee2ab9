"""Report figures (matplotlib, one style) and their embedding as data URIs."""

from __future__ import annotations

import base64
import io
import json
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from PIL import Image  # noqa: E402

from mame.data.dicom import IntensitySettings, load_display_image  # noqa: E402

plt.rcParams.update({"font.size": 9, "axes.titlesize": 9, "figure.dpi": 110, "savefig.bbox": "tight"})
BOX_COLOUR = "#ff4d4d"


def to_data_uri(figure: plt.Figure) -> str:
    """PNG bytes of a figure as a data URI, so the report is one self-contained file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _show(axis: plt.Axes, image: np.ndarray, title: str = "") -> None:
    axis.imshow(
        image, cmap="gray", vmin=0, vmax=np.iinfo(image.dtype).max if image.dtype.kind == "u" else None
    )
    axis.set_title(title)
    axis.set_xticks([])
    axis.set_yticks([])


def _boxes(axis: plt.Axes, boxes: list[list[float]]) -> None:
    for x1, y1, x2, y2 in boxes:
        axis.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=BOX_COLOUR, linewidth=1.2))


def raw_vs_processed(examples: pd.DataFrame) -> plt.Figure:
    """Each example: raw DICOM (VOI applied, no geometry) with raw boxes, then the processed PNG."""
    count = len(examples)
    figure, axes = plt.subplots(2, count, figsize=(1.9 * count, 4.4), squeeze=False)
    for column, row in enumerate(examples.itertuples(index=False)):
        raw, _ = load_display_image(row.source, IntensitySettings())
        _show(axes[0, column], raw, f"raw {row.laterality} {row.view}")
        _boxes(axes[0, column], [f["box"] for f in json.loads(row.raw_findings)])
        processed = np.asarray(Image.open(row.image).convert("L"))
        _show(axes[1, column], processed, "processed")
        _boxes(axes[1, column], json.loads(row.boxes))
    figure.suptitle(
        "Raw -> processed (crop, R flipped to L, resize, pad); lesion boxes follow the same transform"
    )
    return figure


def image_prompt_pairs(healthy: pd.DataFrame) -> plt.Figure:
    count = len(healthy)
    figure, axes = plt.subplots(1, count, figsize=(1.9 * count, 2.6), squeeze=False)
    for column, row in enumerate(healthy.itertuples(index=False)):
        _show(axes[0, column], np.asarray(Image.open(row.image).convert("L")))
        axes[0, column].set_xlabel("\n".join(textwrap.wrap(row.prompt, 24)), fontsize=8)
    return figure


def image_mask_pairs(lesions: pd.DataFrame) -> plt.Figure:
    count = len(lesions)
    figure, axes = plt.subplots(2, count, figsize=(1.9 * count, 4.2), squeeze=False)
    for column, row in enumerate(lesions.itertuples(index=False)):
        _show(
            axes[0, column], np.asarray(Image.open(row.image).convert("L")), row.categories.replace(";", "\n")
        )
        _show(axes[1, column], np.asarray(Image.open(row.mask)), "mask")
    return figure


def loss_curves(logs: dict[str, pd.DataFrame], window: int = 25) -> plt.Figure:
    """Training loss per model: raw per-step values faint, a moving average on top."""
    figure, axis = plt.subplots(figsize=(6.4, 3.2))
    for name, log in logs.items():
        line = axis.plot(log["step"], log["loss"], alpha=0.25, linewidth=0.8)[0]
        smooth = log["loss"].rolling(min(window, len(log)), min_periods=1).mean()
        axis.plot(log["step"], smooth, color=line.get_color(), label=name, linewidth=1.6)
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("epsilon MSE")
    axis.set_yscale("log")
    axis.legend(frameon=False)
    axis.grid(alpha=0.3)
    return figure


def stacked_images(paths: list, width: float = 7.5) -> plt.Figure:
    """Images (e.g. validation grids over training) stacked top to bottom."""
    images = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    width = min(width, max(i.shape[1] for i in images) / 110)  # no enlargement past ~native size
    height = sum(i.shape[0] / i.shape[1] for i in images) * width
    figure, axes = plt.subplots(len(images), 1, figsize=(width, max(1.0, height)), squeeze=False)
    for axis, image in zip(axes[:, 0], images, strict=True):
        axis.imshow(image)
        axis.axis("off")
    figure.subplots_adjust(hspace=0.02)
    return figure


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
            _show(axes[r, c], np.asarray(Image.open(row["file"]).convert("L")))
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


def fidelity_and_diversity(diversity: pd.DataFrame, fidelity: pd.DataFrame) -> plt.Figure:
    """Per model: mean MS-SSIM over prompts (left axis, real baseline dashed) and attribute accuracy
    (right axis) against guidance: the trade-off the study described in words."""
    models = list(dict.fromkeys(diversity["model"]))
    figure, axes = plt.subplots(1, len(models), figsize=(3.6 * len(models), 3.0), squeeze=False)
    for axis, model in zip(axes[0], models, strict=True):
        part = diversity[diversity["model"] == model]
        generated = part[part["guidance"].astype(str) != "real"].assign(
            g=lambda d: d["guidance"].astype(float)
        )
        curve = generated.groupby("g")["mean"].mean()
        axis.plot(curve.index, curve.values, "o-", color="black", label="MS-SSIM (samples)")
        real = part[part["guidance"].astype(str) == "real"]["mean"]
        if len(real):
            axis.axhline(real.mean(), color="black", linestyle="--", linewidth=1, label="MS-SSIM (real)")
        axis.set_xlabel("guidance scale")
        axis.set_ylabel("mean pairwise MS-SSIM")
        axis.set_title(model)
        twin = axis.twinx()
        scores = fidelity[fidelity["model"] == model]
        for attribute, group in scores.groupby("attribute"):
            twin.plot(
                group["guidance"].astype(float),
                group["accuracy"],
                "s-",
                alpha=0.8,
                label=f"{attribute} accuracy",
            )
        twin.set_ylim(0, 1.05)
        twin.set_ylabel("fidelity (classifier accuracy)")
        handles = axis.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        labels = axis.get_legend_handles_labels()[1] + twin.get_legend_handles_labels()[1]
        axis.legend(handles, labels, fontsize=7, frameon=False, loc="lower left")
    figure.tight_layout()
    return figure


def memorization_histograms(tables: dict[str, pd.DataFrame], threshold: float) -> plt.Figure:
    """Per model: correlation with the nearest training image, samples vs held-out real images."""
    figure, axes = plt.subplots(1, len(tables), figsize=(3.4 * len(tables), 2.6), squeeze=False)
    bins = np.linspace(0, 1, 41)
    for axis, (model, table) in zip(axes[0], tables.items(), strict=True):
        for source, colour in (("generated", "tab:blue"), ("held-out real", "tab:orange")):
            values = table[table["source"] == source]["correlation"]
            if len(values):
                axis.hist(
                    values,
                    bins=bins,
                    density=True,
                    alpha=0.55,
                    color=colour,
                    label=f"{source} (n={len(values)})",
                )
        axis.axvline(threshold, color="red", linestyle="--", linewidth=1, label=f"flag at {threshold:g}")
        axis.set_xlabel("correlation with nearest training image")
        axis.set_ylabel("density")
        axis.set_title(model)
        axis.legend(fontsize=7, frameon=False)
    figure.tight_layout()
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
            _show(axis, np.asarray(Image.open(row["file"]).convert("L")))
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
            _show(axes[r, c], np.asarray(Image.open(getattr(row, kind)).convert("L")), kind if r == 0 else "")
    figure.suptitle(title, fontsize=9)
    return figure


def roc_curves(readers: pd.DataFrame, points: pd.DataFrame) -> plt.Figure:
    """Empirical ROC points per reader (solid) with the binormal fit (dashed); chance on the diagonal."""
    from mame.reader_study.roc import Binormal

    figure, axis = plt.subplots(figsize=(5.2, 4.6))
    axis.plot([0, 1], [0, 1], color="0.7", lw=1, ls=":", label="chance (AUC 0.5)")
    grid = np.linspace(0.001, 0.999, 200)
    for i, row in enumerate(readers.itertuples()):
        colour = f"C{i % 10}"
        mine = points[points["reader"] == row.reader]
        who = f"{row.reader} (model)" if row.kind == "model" else row.reader
        label = f"{who}: AUC {row.auc:.2f} [{row.ci_low:.2f}, {row.ci_high:.2f}]"
        axis.plot(mine["fpf"], mine["tpf"], "o-", color=colour, ms=3.5, lw=1.2, label=label)
        if not np.isnan(row.az):
            fit = Binormal(row.binormal_a, row.binormal_b, row.az, row.az_se, ())
            axis.plot(grid, fit.tpf(grid), "--", color=colour, lw=1)
    axis.set_xlabel("false-positive fraction (real called synthetic)")
    axis.set_ylabel("true-positive fraction (synthetic called synthetic)")
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.01)
    axis.set_aspect("equal")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=7, frameon=False)
    axis.set_title("Real vs synthetic: ROC per reader (dashed: binormal fit)")
    return figure
