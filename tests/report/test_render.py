"""Rendering: one self-contained page with the stages' figures embedded and notes escaped."""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from mame.plotting import data_uri, save_png
from mame.report.render import Section, caption_html, html_table, render

from conftest import page_overflows


def _figure() -> str:
    figure, axis = plt.subplots(figsize=(1, 1))
    axis.plot([0, 1], [0, 1])
    return data_uri(save_png(figure, Path(tempfile.mkdtemp()) / "f.png"))


STAGES = {
    "Data": [Section("Datasets", "dataset_table", table_html=html_table(pd.DataFrame({"n": [1]})))],
    "Guidance": [
        Section("MS-SSIM by guidance", "msssim"),
        Section("Samples over guidance: fusion", "guidance_grid", figure=_figure(), notes=["a <note>"]),
    ],
}


def test_the_page_embeds_figures_and_escapes_notes():
    page = render(STAGES, {"config": "a: 1", "versions": {}, "run_times": "", "hardware": "cpu"})
    assert "data:image/png;base64," in page and "<img" in page
    assert "a &lt;note&gt;" in page and "a <note>" not in page
    assert "http://" not in page.replace("http://www.w3.org", "")  # nothing fetched from the network


def test_each_section_carries_its_caption_key_and_the_rendered_caption():
    page = render(STAGES, {"config": "a: 1", "versions": {}, "run_times": "", "hardware": "cpu"})
    assert 'data-caption="msssim"' in page and caption_html("msssim") in page
    assert page.count("<section ") == 3


def test_a_wide_table_scrolls_inside_its_box_at_1400_px(browser):
    wide = pd.DataFrame(
        [[f"0.{i:03d} [0.{i:03d}, 0.{i + 1:03d}]" for i in range(40)]], columns=[f"g {i}" for i in range(40)]
    )
    stages = {"Guidance": [Section("MS-SSIM by guidance", "msssim", table_html=html_table(wide))]}
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_content(render(stages, {"config": "a: 1", "versions": {}, "run_times": "", "hardware": "cpu"}))
    table_width = page.evaluate("document.querySelector('table').scrollWidth")
    assert table_width > 1400  # the table is wider than the window ...
    assert page_overflows(page) == []  # ... and scrolls inside its box, the page does not
    page.set_content("<table><tr>" + "<td>wide cell</td>" * 300 + "</tr></table>")
    assert page_overflows(page)  # the check sees a table that runs off
    page.close()
