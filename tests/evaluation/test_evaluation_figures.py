"""The evaluation stage's figures, read back from the matplotlib objects."""

from __future__ import annotations

import pandas as pd

from mame.evaluation.figures import fidelity_and_diversity, memorization_histograms
from mame.evaluation.proportions import wilson


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
