"""The evaluation stage's figures, read back from the matplotlib objects."""

from __future__ import annotations

import pandas as pd

from mame.evaluation.figures import memorization_histograms


def test_memorization_histograms_have_one_panel_per_model_with_the_threshold():
    table = pd.DataFrame(
        {"source": ["generated", "held-out real"], "correlation": [0.5, 0.7], "threshold": [0.9, 0.9]}
    )
    figure = memorization_histograms({"a": table, "b": table})
    assert [a.get_title() for a in figure.axes] == ["a", "b"]
    assert figure.axes[0].lines[0].get_xdata()[0] == 0.9
