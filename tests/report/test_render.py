"""Rendering: one self-contained page with the stages' figures embedded and notes escaped."""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from mame.plotting import data_uri, save_png
from mame.report.render import Section, html_table, render


def _figure() -> str:
    figure, axis = plt.subplots(figsize=(1, 1))
    axis.plot([0, 1], [0, 1])
    return data_uri(save_png(figure, Path(tempfile.mkdtemp()) / "f.png"))


STAGES = {
    "Data": [Section("Datasets", "caption", table_html=html_table(pd.DataFrame({"n": [1]})))],
    "Guidance": [
        Section("MS-SSIM by guidance", "no figure"),
        Section("Samples over guidance: fusion", "grid", figure=_figure(), notes=["a <note>"]),
    ],
}


def test_the_page_embeds_figures_and_escapes_notes():
    page = render(STAGES, {"config": "a: 1", "versions": {}, "run_times": "", "hardware": "cpu"})
    assert "data:image/png;base64," in page and "<img" in page
    assert "a &lt;note&gt;" in page and "a <note>" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")  # nothing fetched from the network
