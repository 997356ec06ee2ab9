"""Rendering: the stages' sections into one self-contained HTML page."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import pandas as pd


@dataclass
class Section:
    """One block of the report: a title, a caption, and a figure, a table and notes where it has them."""

    title: str
    caption: str
    figure: str = ""  # data URI
    table_html: str = ""
    notes: list[str] = field(default_factory=list)


def html_table(frame: pd.DataFrame, index: bool = True) -> str:
    return frame.to_html(index=index, border=0, classes="table", na_rep="")


def render(stages: dict[str, list[Section]], provenance_info: dict) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("mame.report", "templates"), autoescape=jinja2.select_autoescape(["html"])
    )
    return environment.get_template("report.html").render(stages=stages, provenance=provenance_info)


def write_report(path: str | Path, stages: dict[str, list[Section]], provenance_info: dict) -> None:
    Path(path).write_text(render(stages, provenance_info))
