"""Tables a user pastes into a paper: Markdown and LaTeX next to every CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def _cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows as text; every index level becomes a leading column."""
    names = [str(name or "") for name in table.index.names]
    header = names + [str(c) for c in table.columns]
    rows = []
    for index, row in zip(table.index, table.itertuples(index=False), strict=True):
        keys = list(index) if isinstance(index, tuple) else [index]
        rows.append([str(k) for k in keys] + [f"{v:,}" if isinstance(v, int) else str(v) for v in row])
    return header, rows


def to_markdown(table: pd.DataFrame) -> str:
    header, rows = _cells(table)
    keys = table.index.nlevels
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * keys + ["---:"] * (len(header) - keys)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def to_latex(table: pd.DataFrame) -> str:
    header, rows = _cells(table)
    escape = str.maketrans({"&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#"})
    keys = table.index.nlevels
    lines = [r"\begin{tabular}{" + "l" * keys + "r" * (len(header) - keys) + "}", r"\hline"]
    lines.append(" & ".join(h.translate(escape) for h in header) + r" \\ \hline")
    lines += [" & ".join(c.translate(escape).replace(",", "{,}") for c in row) + r" \\" for row in rows]
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_markdown(table: pd.DataFrame, path: str | Path) -> None:
    Path(path).write_text(to_markdown(table))


def write_latex(table: pd.DataFrame, path: str | Path) -> None:
    Path(path).write_text(to_latex(table))


def write_tables(table: pd.DataFrame, stem: str | Path) -> None:
    """`stem`.csv, `stem`.md and `stem`.tex of one table (its index is the first column)."""
    stem = Path(stem)
    table.to_csv(stem.with_suffix(".csv"))
    write_markdown(table, stem.with_suffix(".md"))
    write_latex(table, stem.with_suffix(".tex"))
