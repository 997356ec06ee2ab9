"""Report sections show what the stages wrote: their tables as written, their figures as drawn."""

from __future__ import annotations

import pandas as pd
from PIL import Image

from mame.evaluation.memorization import memorization_summary
from mame.plotting import data_uri
from mame.report.render import html_table
from mame.report.sections import (
    extrapolation_sections,
    guidance_grid_sections,
    inpainting_sections,
    memorization_section,
)


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
    section = memorization_section(histograms=figure, summary=str(tmp_path / "summary.csv"))
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
    (section,) = extrapolation_sections(
        agreements={"fusion": str(tmp_path / "agreement.csv")}, figures={"fusion": figure}
    )
    assert section.title == "Concept extrapolation: fusion" and section.figure == data_uri(figure)
    assert section.table_html == html_table(agreement, index=False)


def test_a_guidance_grid_names_its_sweeps_steps_and_shows_the_grid(tmp_path):
    pd.DataFrame({"steps": [12, 12], "file": ["a.png", "b.png"]}).to_csv(
        tmp_path / "samples.csv", index=False
    )
    grid = _png(tmp_path / "grid.png")
    (section,) = guidance_grid_sections(
        grids={"fusion": grid}, samples={"fusion": str(tmp_path / "samples.csv")}
    )
    assert section.key == "guidance_grid" and section.notes == ["DPM-Solver multistep, 12 steps."]
    assert section.sources == [grid, str(tmp_path / "samples.csv")] and section.figure == data_uri(grid)


def test_inpainting_notes_the_largest_change_outside_the_box(tmp_path):
    pd.DataFrame(
        {"box": ["1,2,3,4", "5,6,7,8"], "mean_change_inside": [30.25, 12.5], "max_change_outside": [0, 3]}
    ).to_csv(tmp_path / "inpainting.csv", index=False)
    figure = _png(tmp_path / "panels.png")
    (section,) = inpainting_sections(
        tables={"lesions": str(tmp_path / "inpainting.csv")}, figures={"lesions": figure}
    )
    assert section.notes == ["Largest change outside the box: 3 grey levels."]
    assert "<td>30.25</td>" in section.table_html and section.title == "Lesion inpainting: lesions"


def test_section_functions_take_their_files_by_name_only():
    """Report inputs are passed by name: a swapped pair of paths cannot be passed positionally."""
    import inspect

    from mame.report import sections

    builders = [
        getattr(sections, name)
        for name in dir(sections)
        if name.endswith(("_section", "_sections")) and not name.startswith("_")
    ]
    assert len(builders) >= 12
    for builder in builders:
        parameters = inspect.signature(builder).parameters.values()
        assert all(p.kind is p.KEYWORD_ONLY for p in parameters), builder.__name__


def test_the_full_field_distribution_section_names_the_lowest_fd_and_says_when_intervals_overlap(tmp_path):
    from mame.report.sections import full_field_distribution_section

    def row(stage, model, method, fd, low, high, compared="samples", n=16):
        metrics = {
            f"{m}{s}": 0.5
            for m in ("kid", "precision", "recall", "density", "coverage")
            for s in ("", "_low", "_high")
        }
        return {"stage": stage, "model": model, "method": method, "compared": compared, "n": n,
                "fd": fd, "fd_low": low, "fd_high": high, **metrics}  # fmt: skip

    rows = [
        row("super-resolution", "fusion", "real", 0.5, 0.4, 0.6, "held-out real"),
        row("super-resolution", "fusion", "upscaler", 1.0, 0.1, 1.5),  # lowest interval end, not lowest FD
        row("super-resolution", "fusion", "bicubic", 0.9, 0.8, 1.0),
        row("inpainting", "lesions", "real", 0.2, 0.1, 0.3, "held-out real", 8),
        row("inpainting", "lesions", "inpainted lesions", 1.0, 0.9, 1.1),
        row("inpainting", "lesions", "healthy tissue at the same boxes", 3.0, 2.5, 3.5),
    ]
    path = tmp_path / "full_field_distribution.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    notes = full_field_distribution_section(table=str(path)).notes
    assert notes == [
        "super-resolution, fusion: bicubic has the lowest FD; the intervals overlap.",
        "inpainting, lesions: inpainted lesions has the lowest FD and its interval lies below the others'.",
    ]
