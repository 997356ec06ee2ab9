"""The training stage's figures: loss curves of every model, validation grids over training."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from PIL import Image

from mame.plotting import blank_figure, save_png


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


METRIC_LABELS = {
    "fd": "FD (domain features)",
    "msssim": "MS-SSIM",
    "fidelity": "fidelity (share read as asked)",
}


def validation_metrics_figure(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Each validation metric against the step, one line per model, with its interval: FD, the
    fidelity of every asked attribute, MS-SSIM. Without any table: a figure that says none was kept."""
    tables = {name: table for name, table in tables.items() if len(table)}
    if not tables:
        return blank_figure("no validation metrics (models.train.validation_metrics is off)")
    metrics = sorted({m for table in tables.values() for m in table["metric"]})
    figure, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 2.8), squeeze=False)
    for axis, metric in zip(axes[0], metrics, strict=True):
        for name, table in tables.items():
            rows = table[table["metric"] == metric].sort_values("step")
            if rows.empty:
                continue
            error = [
                (rows["value"] - rows["low"]).clip(lower=0),
                (rows["high"] - rows["value"]).clip(lower=0),
            ]
            axis.errorbar(rows["step"], rows["value"], yerr=error, fmt="o-", capsize=2, label=name)
        kind = "fidelity" if metric.startswith("fidelity_") else metric
        label = METRIC_LABELS.get(kind, metric)
        axis.set_title(
            f"{label}: {metric.removeprefix('fidelity_')}" if kind == "fidelity" else label, fontsize=8
        )
        axis.set_xlabel("optimizer step")
        axis.grid(alpha=0.3)
    axes[0, 0].legend(frameon=False, fontsize=7)
    figure.tight_layout()
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


def loss_summary(
    logs: dict[str, pd.DataFrame], phases: dict[str, pd.DataFrame] | None = None
) -> pd.DataFrame:
    """Per model: steps, final loss (mean of the last 25 steps), minutes, and from its phases.csv the
    training steps/s and peak memory of a step (device on a GPU, else host): the table beside the
    curves."""
    rows = []
    for name, log in logs.items():
        if not len(log):
            continue
        row = {
            "model": name,
            "steps": int(log["step"].max()),
            "final loss (mean of last 25)": round(float(log["loss"].tail(25).mean()), 4),
            "minutes": round(float(log["seconds"].max()) / 60, 1),
        }
        steps = (phases or {}).get(name)
        if steps is not None and (steps["phase"] == "steps").any():
            table = steps.set_index("phase")
            stepping = table.loc[table.index.isin(["first_steps", "steps"])]
            device = pd.to_numeric(stepping["peak_device_mb"], errors="coerce").max()
            row["steps/s"] = table.loc["steps", "steps_per_s"]
            row["peak memory of a step (MB)"] = device if pd.notna(device) else stepping["host_rss_mb"].max()
        rows.append(row)
    return (
        pd.DataFrame(rows).set_index("model") if rows else pd.DataFrame(columns=["model"]).set_index("model")
    )


def validation_shown(folder: str | Path, most: int = 5) -> list[Path]:
    """The validation grids a figure shows: all when few, else `most` spread evenly from first to last."""
    grids = sorted(Path(folder).glob("step_*.png"))
    if len(grids) <= most:
        return grids
    return [grids[i] for i in np.linspace(0, len(grids) - 1, most).astype(int)]


def write_validation_figure(folder: str | Path, path: str | Path) -> None:
    """A model's validation grids over training, stacked top to bottom."""
    shown = validation_shown(folder)
    save_png(
        stacked_images(shown) if shown else blank_figure("no validation images (validation_every: 0)"), path
    )
