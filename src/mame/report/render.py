"""Rendering: the stages' sections into one self-contained HTML page.

Every caption is a reStructuredText file in `captions/`, the one source that the workflow's
`report()` items (`snakemake --report`) and this page both render, with docutils as Snakemake does."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2
import pandas as pd
from docutils.core import publish_parts
from docutils.writers.html4css1 import Writer

CAPTIONS = Path(__file__).parent / "captions"


@cache
def caption_html(key: str) -> str:
    """The caption captions/<key>.rst as HTML; a warning of the RST parser is an error, so a caption
    renders the same here and in Snakemake's report."""
    path = CAPTIONS / f"{key}.rst"
    if not path.is_file():
        raise FileNotFoundError(f"no caption {key!r}: {path} does not exist")
    return publish_parts(
        path.read_text(),
        writer=Writer(),  # what Snakemake's writer_name="html" names
        settings_overrides={"report_level": 2, "halt_level": 2, "input_encoding": "unicode"},
    )["body"].strip()


@dataclass
class Section:
    """One block of the report: a title, the caption named by `key`, and a figure, a table and notes
    where it has them. `sources` lists the result files it shows, so a test can match its caption with
    the one the workflow's report() gives the same file."""

    title: str
    key: str
    figure: str = ""  # data URI
    table_html: str = ""
    notes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def caption(self) -> str:
        return caption_html(self.key)


def html_table(frame: pd.DataFrame, index: bool = True) -> str:
    return frame.to_html(index=index, border=0, classes="table", na_rep="")


def render(stages: dict[str, list[Section]], provenance_info: dict) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mame.report", "templates"), autoescape=jinja2.select_autoescape(["html"])
    )
    return environment.get_template("report.html").render(stages=stages, provenance=provenance_info)


def write_report(path: str | Path, stages: dict[str, list[Section]], provenance_info: dict) -> None:
    Path(path).write_text(render(stages, provenance_info))
