"""One caption per figure: the workflow's report() items and the HTML report render the same files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mame.report import sections
from mame.report.render import CAPTIONS, caption_html

from conftest import report_items

RULES = Path(__file__).parents[2] / "workflow" / "rules"


def test_every_caption_is_plain_rst_that_renders_without_a_warning():
    keys = sorted(path.stem for path in CAPTIONS.glob("*.rst"))
    assert len(keys) >= 20
    for key in keys:
        text = (CAPTIONS / f"{key}.rst").read_text()
        assert "{{" not in text and "{%" not in text, (
            f"{key}: Snakemake would render Jinja here, the page not"
        )
        html = caption_html(key)
        assert html.startswith("<p>") and "system-message" not in html


def test_a_caption_with_broken_rst_is_refused(tmp_path, monkeypatch):
    (tmp_path / "broken.rst").write_text("A ``literal that never closes.\n")
    monkeypatch.setattr("mame.report.render.CAPTIONS", tmp_path)
    caption_html.cache_clear()
    try:
        with pytest.raises(Exception, match="literal"):
            caption_html("broken")
    finally:
        caption_html.cache_clear()


def test_a_missing_caption_is_named():
    with pytest.raises(FileNotFoundError, match="no caption 'nonesuch'"):
        caption_html("nonesuch")


def test_every_report_item_names_a_caption_and_every_caption_is_used():
    items = report_items()
    assert len(items) >= 20
    assert all((CAPTIONS / f"{key}.rst").is_file() for key in items.values())
    section_code = Path(sections.__file__).read_text()
    unused = [
        path.stem
        for path in CAPTIONS.glob("*.rst")
        if path.stem not in items.values() and f'"{path.stem}"' not in section_code
    ]
    assert not unused, f"captions no figure or table uses: {unused}"


def test_the_old_caption_folder_is_gone():
    assert not (RULES.parent / "report").exists()
