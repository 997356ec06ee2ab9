"""Tables a user pastes into a paper: Markdown and LaTeX next to every CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def _cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    header = [str(table.index.name or "")] + [str(c) for c in table.columns]
    rows = [
        [str(index)] + [f"{v:,}" if isinstance(v, int) else str(v) for v in row]
        for index, row in zip(table.index, table.itertuples(index=False), strict=True)
    ]
    return header, rows


def to_markdown(table: pd.DataFrame) -> str:
    header, rows = _cells(table)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_latex(table: pd.DataFrame) -> str:
    header, rows = _cells(table)
    escape = str.maketrans({"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#"})
    lines = [r"\begin{tabular}{l" + "r" * (len(header) - 1) + "}", r"\hline"]
    lines.append(" & ".join(h.translate(escape) for h in header) + r" \\ \hline")
    lines += [" & ".join(c.translate(escape).replace(",", "{,}") for c in row) + r" \\" for row in rows]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_markdown(table: pd.DataFrame, path: str | Path) -> None:
    Path(path).write_text(to_markdown(table))


def write_latex(table: pd.DataFrame, path: str | Path) -> None:
    Path(path).write_text(to_latex(table))
