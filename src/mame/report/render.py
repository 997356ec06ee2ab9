"""Rendering: sections into one self-contained HTML page, and every figure also as a PNG file."""

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


def write_figures(stages: dict[str, list[Section]], folder: str | Path) -> list[Path]:
    """Every report figure also as a PNG file (results/figures/<stage>-<nn>-<title>.png)."""
    import base64
    import re

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stage_number, sections in enumerate(stages.values(), start=1):
        for number, section in enumerate(s for s in sections if s.figure):
            slug = re.sub(r"[^a-z0-9]+", "-", section.title.lower()).strip("-")
            path = folder / f"{stage_number}-{number:02d}-{slug}.png"
            path.write_bytes(base64.b64decode(section.figure.split(",", 1)[1]))
            written.append(path)
    return written
