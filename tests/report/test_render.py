"""Rendering: one self-contained page, and every figure also as a PNG file named by stage and title."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image

from mame.report.figures import to_data_uri
from mame.report.render import Section, html_table, render, write_figures


def _figure() -> str:
    figure, axis = plt.subplots(figsize=(1, 1))
    axis.plot([0, 1], [0, 1])
    return to_data_uri(figure)


STAGES = {
    "Data": [Section("Datasets", "caption", table_html=html_table(pd.DataFrame({"n": [1]})))],
    "Guidance": [
        Section("MS-SSIM by guidance", "no figure"),
        Section("Samples over guidance: fusion", "grid", figure=_figure(), notes=["a <note>"]),
    ],
}


def test_figures_are_written_as_pngs_named_by_stage_order_and_title(tmp_path):
    written = write_figures(STAGES, tmp_path)
    assert [p.name for p in written] == ["2-00-samples-over-guidance-fusion.png"]
    with Image.open(written[0]) as image:
        assert image.format == "PNG"


def test_the_page_embeds_figures_and_escapes_notes():
    page = render(STAGES, {"config": "a: 1", "versions": {}, "run_times": "", "hardware": "cpu"})
    assert "data:image/png;base64," in page and "<img" in page
    assert "a &lt;note&gt;" in page and "a <note>" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")  # nothing fetched from the network
