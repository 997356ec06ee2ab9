"""Report sections show what the stages computed: the tables' numbers, not a second computation."""

from __future__ import annotations

import re
from unittest import mock

import pandas as pd

from mame.evaluation.memorization import memorization_summary
from mame.report.render import html_table
from mame.report.sections import extrapolation_sections, privacy_sections


def test_the_privacy_section_shows_the_evaluation_stages_summary(tmp_path):
    table = pd.DataFrame(
        {
            "model": "fusion",
            "source": ["generated"] * 3 + ["held-out real"] * 2,
            "image": [f"{i}.png" for i in range(5)],
            "guidance": [7, 7, 7, "", ""],
            "nearest_training_key": "k",
            "correlation": [0.31, 0.52, 0.987, 0.61, 0.64],
            "flagged": [False, False, True, False, False],
        }
    )
    table.to_csv(tmp_path / "memorization.csv", index=False)
    summary = memorization_summary(pd.read_csv(tmp_path / "memorization.csv", keep_default_na=False))
    summary.to_csv(tmp_path / "summary.csv")
    (section,) = privacy_sections(
        {"fusion": str(tmp_path / "memorization.csv")},
        pd.read_csv(tmp_path / "summary.csv", index_col=[0, 1]),
        threshold=0.98,
    )
    assert "0.98" in section.caption and section.figure.startswith("data:image/png;base64,")
    assert section.table_html == html_table(pd.read_csv(tmp_path / "summary.csv", index_col=[0, 1]))
    generated = summary.loc[("fusion", "generated")]
    assert generated["flagged"] == 1 and generated["median"] == 0.52
    assert f"<td>{generated['p95']:.3f}</td>" in section.table_html


def test_concept_extrapolation_counts_how_often_the_classifier_reads_what_was_asked(tmp_path):
    pd.DataFrame(
        {
            "vendor": ["hologic", "hologic", "siemens"],
            "view": "CC",
            "area": ["", "", "big"],
            "density": ["low", "high", ""],
            "attribute": ["density", "density", "area"],
            "read": ["low", "low", "big"],
            "file": ["", "", ""],
            "prompt": ["", "", ""],
        }
    ).to_csv(tmp_path / "x.csv", index=False)
    with (
        mock.patch("mame.report.figures.extrapolation_grid"),
        mock.patch("mame.report.figures.to_data_uri", return_value=""),
    ):
        (section,) = extrapolation_sections({"fusion": str(tmp_path / "x.csv")})
    cells = re.findall(r"<td>([^<]*)</td>", section.table_html)
    assert cells == ["hologic", "density", "2", "0.5", "siemens", "area", "1", "1.0"]
