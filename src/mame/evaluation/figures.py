"""The evaluation stage's figures: fidelity against diversity over guidance, memorization histograms."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def fidelity_and_diversity(
    diversity: pd.DataFrame, fidelity: pd.DataFrame, distribution: pd.DataFrame | None = None
) -> plt.Figure:
    """Per model: mean MS-SSIM over prompts (left axis, real baseline dashed) and attribute accuracy
    (right axis) against guidance: the trade-off the study described in words; with `distribution`,
    two more rows: FD, and precision / recall, against the same guidance axis."""
    models = list(dict.fromkeys(diversity["model"]))
    rows = 3 if distribution is not None else 1
    figure, axes = plt.subplots(rows, len(models), figsize=(3.6 * len(models), 3.0 * rows), squeeze=False)
    if distribution is not None:
        _distribution_panels(axes[1:], distribution, models)
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
            guidance = group["guidance"].astype(float)
            error = None
            if {"ci_low", "ci_high"} <= set(group.columns):
                error = [
                    (group["accuracy"] - group["ci_low"]).clip(lower=0),
                    (group["ci_high"] - group["accuracy"]).clip(lower=0),
                ]
            twin.errorbar(
                guidance,
                group["accuracy"],
                yerr=error,
                fmt="s-",
                capsize=2,
                alpha=0.8,
                label=f"{attribute} read as asked",
            )
        if "chance" in scores.columns and len(scores):
            twin.axhline(scores["chance"].max(), color="grey", linestyle=":", linewidth=1, label="chance")
        twin.set_ylim(0, 1.05)
        twin.set_ylabel("fidelity (read as asked, Wilson 95 % CI)")
        handles = axis.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        labels = axis.get_legend_handles_labels()[1] + twin.get_legend_handles_labels()[1]
        axis.legend(handles, labels, fontsize=7, frameon=False, loc="lower left")
    figure.tight_layout()
    return figure


def memorization_histograms(tables: dict[str, pd.DataFrame]) -> plt.Figure:
    """Per model: correlation with the nearest training image, samples vs held-out real images, and the
    flag threshold each table was made with."""
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
        threshold = float(table["threshold"].iloc[0])
        axis.axvline(threshold, color="red", linestyle="--", linewidth=1, label=f"flag at {threshold:g}")
        axis.set_xlabel("correlation with nearest training image")
        axis.set_ylabel("density")
        axis.set_title(model)
        axis.legend(fontsize=7, frameon=False)
    figure.tight_layout()
    return figure


def distribution_figure(table: pd.DataFrame) -> plt.Figure:
    """Per model: FD (top) and precision / recall (bottom) against guidance, with the central 95 % range of
    the draws; the real-vs-real floor dashed."""
    models = list(dict.fromkeys(table["model"]))
    figure, axes = plt.subplots(2, len(models), figsize=(3.4 * len(models), 5.0), squeeze=False)
    _distribution_panels(axes, table, models)
    figure.tight_layout()
    return figure


def _distribution_panels(axes: np.ndarray, table: pd.DataFrame, models: list[str]) -> None:
    """FD (first row of `axes`) and precision / recall (second row) per model column."""
    for column, model in enumerate(models):
        part = table[table["model"] == model]
        samples = part[part["guidance"].astype(str) != "real"].assign(g=lambda d: d["guidance"].astype(float))
        floor = part[part["guidance"].astype(str) == "real"]
        for row, names in enumerate((("fd",), ("precision", "recall"))):
            axis = axes[row, column]
            for name in names:
                error = [
                    (samples[name] - samples[f"{name}_low"]).clip(lower=0),
                    (samples[f"{name}_high"] - samples[name]).clip(lower=0),
                ]
                line = axis.errorbar(samples["g"], samples[name], yerr=error, fmt="o-", capsize=2, label=name)
                if len(floor):
                    axis.axhline(floor[name].iloc[0], linestyle="--", linewidth=1, color=line[0].get_color())
            axis.set_xlabel("guidance scale")
            axis.set_ylabel("Frechet distance" if row == 0 else "precision / recall")
            if row == 0:
                axis.set_title(f"{model} (n = {int(part['n'].iloc[0])})")
            else:
                axis.set_ylim(0, 1.05)
                axis.legend(fontsize=7, frameon=False)


def utility_figure(summary: pd.DataFrame) -> plt.Figure:
    """Per task and guidance: test AUC (mean over seeds, DeLong 95 % CI of that mean) against the share of
    real training images, one line per arm; synthetic only (no real images) as a dashed level."""
    panels = list(dict.fromkeys(zip(summary["task"], summary["guidance"].fillna(-1), strict=True)))
    panels = [(task, g) for task, g in panels if g >= 0]
    if not panels:  # every experiment was skipped: say so instead of failing
        figure, axis = plt.subplots(figsize=(5, 1.5))
        axis.axis("off")
        axis.text(0.5, 0.5, "no utility experiment had enough images (see the table)", ha="center")
        return figure
    figure, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), squeeze=False)
    arms = list(dict.fromkeys(summary["arm"]))  # one colour per arm in every panel
    colours = {arm: f"C{i}" for i, arm in enumerate(arms)}
    for axis, (task, guidance) in zip(axes[0], panels, strict=True):
        part = summary[summary["task"] == task]
        shown = part[(part["guidance"].isna()) | (part["guidance"] == guidance)]
        for arm, rows in shown.groupby("arm", sort=False):
            rows = rows.sort_values("real_fraction")
            dodge = 1 + 0.025 * (arms.index(arm) - 2)  # side by side, so the intervals stay readable
            error = [
                (rows["auc_mean"] - rows["auc_low"]).clip(lower=0),
                (rows["auc_high"] - rows["auc_mean"]).clip(lower=0),
            ]
            if (rows["real_fraction"] == 0).all():
                line = axis.axhline(
                    rows["auc_mean"].iloc[0], linestyle="--", linewidth=1, label=arm, color=colours[arm]
                )
                axis.axhspan(
                    rows["auc_low"].iloc[0], rows["auc_high"].iloc[0], alpha=0.1, color=line.get_color()
                )
                continue
            axis.errorbar(
                rows["real_fraction"] * dodge,
                rows["auc_mean"],
                yerr=error,
                fmt="o-",
                capsize=2,
                label=arm,
                markersize=3,
                color=colours[arm],
            )
        axis.set_xscale("log")
        fractions = sorted(f for f in part["real_fraction"].unique() if f > 0)
        axis.set_xticks(fractions, [f"{f:.0%}" for f in fractions])
        axis.minorticks_off()
        axis.set_xlim(min(fractions) / 1.25, max(fractions) * 1.25)
        axis.set_xlabel("share of real training images")
        axis.set_ylabel("test AUC (held-out real images)")
        axis.set_ylim(0.3, 1.02)
        axis.axhline(0.5, color="grey", linewidth=0.5)
        axis.set_title(f"{task}, guidance {guidance:g}", fontsize=9)
    axes[0, 0].legend(fontsize=6, frameon=False, loc="lower right")
    figure.tight_layout()
    return figure
