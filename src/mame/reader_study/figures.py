"""The reader study's figure: ROC per reader with its binormal fit."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def roc_curves(readers: pd.DataFrame, points: pd.DataFrame) -> plt.Figure:
    """Empirical ROC points per reader (solid) with the binormal fit (dashed); chance on the diagonal."""
    from mame.stats.binormal import Binormal

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
