"""The evaluation stage's figures, read back from the matplotlib objects."""

from __future__ import annotations

import pandas as pd

from mame.evaluation.figures import fidelity_and_diversity, memorization_histograms
from mame.stats.proportions import wilson


def test_memorization_histograms_have_one_panel_per_model_with_the_threshold():
    table = pd.DataFrame(
        {"source": ["generated", "held-out real"], "correlation": [0.5, 0.7], "threshold": [0.9, 0.9]}
    )
    figure = memorization_histograms({"a": table, "b": table})
    assert [a.get_title() for a in figure.axes] == ["a", "b"]
    assert figure.axes[0].lines[0].get_xdata()[0] == 0.9


def test_fidelity_and_diversity_draws_wilson_bars_even_at_zero_and_full_accuracy():
    diversity = pd.DataFrame(
        {"model": "m", "guidance": ["2", "7", "real"], "prompt": "p", "mean": [0.3, 0.4, 0.2]}
    )
    rows = []
    for guidance, hits in ((2.0, 0), (7.0, 24)):
        low, high = wilson(hits, 24)
        rows.append(
            {
                "model": "m",
                "attribute": "density",
                "guidance": guidance,
                "accuracy": hits / 24,
                "ci_low": low,
                "ci_high": high,
                "chance": 0.5,
            }
        )
    figure = fidelity_and_diversity(diversity, pd.DataFrame(rows))
    twin = figure.axes[1]
    assert any(line.get_label() == "chance" for line in twin.get_lines())
    assert wilson(0, 24)[0] == 0.0 and wilson(24, 24)[1] == 1.0


def test_the_trade_off_figure_gains_fd_and_precision_recall_rows():
    diversity = pd.DataFrame({"model": "m", "guidance": ["2", "7"], "prompt": "p", "mean": [0.3, 0.4]})
    fidelity = pd.DataFrame(
        {"model": "m", "attribute": "view", "guidance": [2.0, 7.0], "accuracy": [0.6, 0.9], "chance": 0.5}
    )
    values = {"fd": [1.0, 3.0, 5.0], "precision": [0.9, 0.8, 0.7], "recall": [0.9, 0.6, 0.4]}
    distribution = pd.DataFrame({"model": "m", "guidance": ["real", "2", "7"], "n": 20})
    for name, column in values.items():
        distribution[name] = column
        distribution[f"{name}_low"] = [v - 0.1 for v in column]
        distribution[f"{name}_high"] = [v + 0.1 for v in column]
    figure = fidelity_and_diversity(diversity, fidelity, distribution)
    labels = [axis.get_ylabel() for axis in figure.axes]
    assert "Frechet distance" in labels and "precision / recall" in labels
    fd_axis = figure.axes[labels.index("Frechet distance")]
    assert fd_axis.lines[-1].get_ydata()[0] == 1.0  # the real-vs-real floor, dashed
