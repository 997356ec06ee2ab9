"""The comparison of a hyperparameter grid's points (mame.experiments): one table, one figure.

Each point (and its block's reference model, as trained by the study's settings) is read at one
guidance scale, the reader study's, from the tables the evaluation already wrote:
- FD in the domain feature space, with the central 95 % of its redraws and n (rule distribution);
- condition fidelity per attribute the model learns, with its Wilson interval and n (rule fidelity);
- mean pairwise MS-SSIM: the mean over prompts of each prompt's mean, its interval from the prompts'
  bootstrap intervals (each read as +-1.96 standard errors, the prompts independent), n prompts;
- real-vs-synthetic separability AUC with its interval and n synthetic images (rule separability);
- downstream utility, for the block's `utility` tasks (rule experiment_utility: each task rerun on the
  point's samples with all real images and as many synthetic ones, at the same guidance): the AUC on
  held-out real images of a classifier trained on the point's samples only (`utility_<task>`), and the
  paired difference that adding them to the real images makes (`utility_<task>_gain`), each with its
  DeLong interval and n test images.
Intervals that overlap name no winner: `verdicts` says which metric separates the points and which
does not.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mame.evaluation.downstream import SYNTHETIC_ONLY, mixed

Z = 1.959964
LOWER_IS_BETTER = {"fd": True, "msssim": True, "separability_auc": True}  # fidelity: higher is better
LABELS = {"fd": "FD (domain features)", "msssim": "MS-SSIM (diversity: lower is more diverse)",
          "separability_auc": "real-vs-synthetic AUC (0.5: inseparable)"}  # fmt: skip
MIXED = mixed(1.0)  # the comparison's mixed arm: as many synthetic images as real ones


def _at(table: pd.DataFrame, guidance: float) -> pd.DataFrame:
    scales = pd.to_numeric(table["guidance"], errors="coerce")
    return table[np.isclose(scales, guidance)]


def point_metrics(
    distribution: pd.DataFrame,
    fidelity: pd.DataFrame,
    msssim: pd.DataFrame,
    separability: pd.DataFrame,
    guidance: float,
    utility: dict[str, pd.DataFrame] | None = None,
) -> list[dict]:
    """One model's metrics at `guidance`: rows of (metric, value, low, high, n). `utility`: per task,
    the summary of its comparison run (rule experiment_utility)."""
    rows = []
    fd = _at(distribution[distribution["compared"] == "samples"], guidance)
    if len(fd):
        r = fd.iloc[0]
        rows.append({"metric": "fd", "value": r["fd"], "low": r["fd_low"], "high": r["fd_high"], "n": r["n"]})
    for _, r in _at(fidelity, guidance).iterrows():
        rows.append(
            {
                "metric": f"fidelity_{r['attribute']}",
                "value": r["accuracy"],
                "low": r["ci_low"],
                "high": r["ci_high"],
                "n": r["images"],
            }  # fmt: skip
        )
    prompts = _at(msssim, guidance)
    if len(prompts):
        standard_errors = (prompts["ci_high"].astype(float) - prompts["ci_low"].astype(float)) / (2 * Z)
        mean = float(prompts["mean"].astype(float).mean())
        half = Z * float(np.sqrt((standard_errors**2).sum())) / len(prompts)
        rows.append(
            {"metric": "msssim", "value": mean, "low": mean - half, "high": mean + half, "n": len(prompts)}
        )
    auc = _at(separability, guidance)
    if "auc" in auc.columns:  # a guidance too small to cross-validate has a note and no AUC: no row
        auc = auc[pd.to_numeric(auc["auc"], errors="coerce").notna()]
    if len(auc):
        r = auc.iloc[0]
        rows.append(
            {
                "metric": "separability_auc",
                "value": r["auc"],
                "low": r["ci_low"],
                "high": r["ci_high"],
                "n": r["synthetic"],
            }  # fmt: skip
        )
    for task, summary in (utility or {}).items():
        rows += utility_metrics(task, summary, guidance)
    return rows


def utility_metrics(task: str, summary: pd.DataFrame, guidance: float) -> list[dict]:
    """A task's two utility rows at `guidance`: synthetic-only AUC and the gain of adding the samples to
    the real images; none where the task was skipped (too few images) or lacks the arm."""
    if "arm" not in summary.columns:
        return []
    at = summary[np.isclose(pd.to_numeric(summary["guidance"], errors="coerce"), guidance)]
    rows = []
    only = at[at["arm"] == SYNTHETIC_ONLY]
    if len(only):
        r = only.iloc[0]
        rows.append({"metric": f"utility_{task}", "value": r["auc_mean"], "low": r["auc_low"],
                     "high": r["auc_high"], "n": r["test_images"]})  # fmt: skip
    gain = at[(at["arm"] == MIXED) & np.isclose(pd.to_numeric(at["real_fraction"], errors="coerce"), 1.0)]
    if "difference" in gain.columns:
        gain = gain[pd.to_numeric(gain["difference"], errors="coerce").notna()]
    if len(gain) and "difference" in gain.columns:
        r = gain.iloc[0]
        rows.append({"metric": f"utility_{task}_gain", "value": r["difference"], "low": r["difference_low"],
                     "high": r["difference_high"], "n": r["test_images"]})  # fmt: skip
    return rows


def comparison_table(
    points: list[dict], tables: dict[str, dict[str, pd.DataFrame]], guidance: float
) -> pd.DataFrame:
    """Long table: per experiment, each point (`points`: experiment, model, role, values) x metric, with
    the varied keys' values as columns. `tables[model]` holds its distribution, fidelity, msssim and
    separability tables."""
    keys = sorted({key for p in points for key in p["values"]})
    rows = []
    for point in points:
        model_tables = tables[point["model"]]
        for metric in point_metrics(guidance=guidance, **model_tables):
            values = {key: point["values"].get(key, "") for key in keys}
            rows.append({"experiment": point["experiment"], "model": point["model"], "role": point["role"],
                         **values, "guidance": guidance, **metric})  # fmt: skip
    table = pd.DataFrame(rows)
    for column in ("value", "low", "high"):
        table[column] = table[column].astype(float)
    table["n"] = table["n"].astype(int)
    return table


def label(metric: str) -> str:
    """A metric's axis title."""
    if metric.startswith("utility_"):
        task = metric.removeprefix("utility_").removesuffix("_gain")
        if metric.endswith("_gain"):
            return f"{task} AUC gain: real + synthetic vs real"
        return f"{task} AUC: trained on synthetic only"
    return LABELS.get(metric, metric)


def better(metric: str) -> str:
    return "lower" if LOWER_IS_BETTER.get(metric, False) else "higher"


def verdicts(table: pd.DataFrame) -> list[str]:
    """Per experiment and metric: the best point when its interval clears every other point's, else that
    the intervals overlap (no winner named)."""
    notes = []
    for (experiment, metric), rows in table.groupby(["experiment", "metric"], sort=False):
        if len(rows) < 2:
            continue
        lower = better(metric) == "lower"
        best = rows.loc[rows["value"].idxmin() if lower else rows["value"].idxmax()]
        others = rows.drop(index=best.name)
        clear = (best["high"] < others["low"]).all() if lower else (best["low"] > others["high"]).all()
        if clear:
            notes.append(
                f"{experiment}, {metric}: {best['model']} is best ({better(metric)} is better) and its "
                "interval clears every other point's."
            )
        else:
            notes.append(
                f"{experiment}, {metric}: the intervals overlap; no point is better than the others."
            )
    return notes


def experiments_figure(table: pd.DataFrame) -> plt.Figure:
    """One row per experiment, one panel per metric: each point's value with its interval, the points in
    table order and labelled by their varied values (the reference model marked)."""
    experiments = list(dict.fromkeys(table["experiment"]))
    metrics = list(dict.fromkeys(table["metric"]))
    figure, axes = plt.subplots(
        len(experiments), len(metrics), figsize=(2.8 * len(metrics), 2.8 * len(experiments)), squeeze=False
    )
    keys = [c for c in table.columns if c not in
            {"experiment", "model", "role", "guidance", "metric", "value", "low", "high", "n"}]  # fmt: skip
    for row, experiment in enumerate(experiments):
        part = table[table["experiment"] == experiment]
        varied = [k for k in keys if (part[k].astype(str) != "").any()]
        for column, metric in enumerate(metrics):
            axis = axes[row, column]
            rows = part[part["metric"] == metric].reset_index(drop=True)
            positions = np.arange(len(rows))
            error = [
                (rows["value"] - rows["low"]).clip(lower=0),
                (rows["high"] - rows["value"]).clip(lower=0),
            ]
            axis.errorbar(positions, rows["value"], yerr=error, fmt="o", capsize=3, color="black")
            labels = [
                "\n".join(["reference"] * (r["role"] == "reference") + [f"{k}={r[k]}" for k in varied])
                for _, r in rows.iterrows()
            ]
            axis.set_xticks(positions, labels, fontsize=7)
            axis.set_xlim(-0.5, len(rows) - 0.5)
            axis.set_title(f"{experiment}: {label(metric)}", fontsize=8)
    figure.tight_layout()
    return figure
