"""Report sections show what the stages wrote: their tables as written, their figures as drawn."""

from __future__ import annotations

import pandas as pd
from PIL import Image

from mame.evaluation.memorization import memorization_summary
from mame.plotting import data_uri
from mame.report.render import html_table
from mame.report.sections import extrapolation_sections, privacy_sections


def _png(path) -> str:
    Image.new("L", (4, 4), 128).save(path)
    return str(path)


def test_the_privacy_section_shows_the_evaluation_stages_summary_and_figure(tmp_path):
    table = pd.DataFrame(
        {
            "model": "fusion",
            "source": ["generated"] * 3 + ["held-out real"] * 2,
            "correlation": [0.31, 0.52, 0.987, 0.61, 0.64],
            "flagged": [False, False, True, False, False],
            "threshold": 0.64,
        }
    )
    summary = memorization_summary(table)
    summary.to_csv(tmp_path / "summary.csv")
    figure = _png(tmp_path / "memorization.png")
    (section,) = privacy_sections(figure, str(tmp_path / "summary.csv"))
    assert "exceedance" in section.caption and section.figure == data_uri(figure)
    written = pd.read_csv(tmp_path / "summary.csv", keep_default_na=False).set_index(["model", "source"])
    assert section.table_html == html_table(written)
    generated = summary.loc[("fusion", "generated")]
    assert generated["flagged"] == 1 and generated["median"] == 0.52
    assert f"<td>{generated['p95']:.3f}</td>" in section.table_html


def test_concept_extrapolation_shows_the_agreement_table_as_the_stage_wrote_it(tmp_path):
    agreement = pd.DataFrame(
        {"vendor": ["hologic"], "attribute": ["density"], "images": [8], "classifier agrees": [0.375]}
    )
    agreement.to_csv(tmp_path / "agreement.csv", index=False)
    figure = _png(tmp_path / "grid.png")
    (section,) = extrapolation_sections({"fusion": (str(tmp_path / "agreement.csv"), figure)})
    assert section.title == "Concept extrapolation: fusion" and section.figure == data_uri(figure)
    assert section.table_html == html_table(agreement, index=False)
