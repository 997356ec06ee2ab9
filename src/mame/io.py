"""Reading and writing the files stages hand each other: grey images, CSV tables, and the tables a user
pastes into a paper (Markdown and LaTeX next to every CSV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from mame.shapes import as_shape, pil_size


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


def read_pixels(path: str | Path, side: int | tuple[int, int] | None = None) -> np.ndarray:
    """A processed or generated PNG at its own depth: grey uint8, or uint16 for 16-bit files (HxW),
    box-resized to `side` (a side, or (height, width)) if given, in float, rounded back to its depth."""
    with Image.open(path) as image:
        if image.mode in ("I;16", "I;16B", "I;16L", "I"):
            array = np.asarray(image).astype(np.uint16)
        else:
            array = np.asarray(image.convert("L"))
    if side and array.shape != as_shape(side):
        floats = Image.fromarray(array.astype(np.float32), mode="F")
        array = np.round(np.asarray(floats.resize(pil_size(side), Image.Resampling.BOX))).astype(array.dtype)
    return array


def data_range(pixels: np.ndarray) -> float:
    """The value range of an image's bit depth: 255 for 8-bit, 65535 for 16-bit."""
    return float(np.iinfo(pixels.dtype).max)


def to_display(pixels: np.ndarray) -> np.ndarray:
    """The 8-bit display rendering of a grey image: 16-bit values scaled by 255/65535, never clipped."""
    if pixels.dtype == np.uint16:
        return np.round(pixels.astype(np.float64) / 257.0).astype(np.uint8)
    return pixels


def to_unit(pixels: np.ndarray, side: int | tuple[int, int]) -> np.ndarray:
    """A grey uint8/uint16 image as float32 in [0, 1], box-resized to `side` (a side or (h, w)): the small
    copies that feature extractors compare, whatever the bit depth and shape of the file."""
    unit = pixels.astype(np.float32) / float(np.iinfo(pixels.dtype).max)
    return np.asarray(Image.fromarray(unit, mode="F").resize(pil_size(side), Image.Resampling.BOX))


def read_grey(path: str | Path, side: int | tuple[int, int] | None = None) -> np.ndarray:
    """Any processed or generated PNG as grey uint8 (HxW), box-resized to side x side if given: the
    8-bit display rendering (a 16-bit file is scaled by 255/65535, never clipped)."""
    return to_display(read_pixels(path, side))


def read_table(paths: list[str], rule: str, column: str | None = None) -> pd.DataFrame:
    """Concatenate CSV tables read as text. A missing file is an error naming it and `rule`, the rule that
    writes it; `column`, if given, must be present."""
    frames = []
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(
                f"table {path} does not exist; rule {rule!r} writes it (snakemake {path})"
            )
        frames.append(pd.read_csv(path, keep_default_na=False))
    frame = pd.concat(frames, ignore_index=True)
    if column is not None and column not in frame.columns:
        raise ValueError(
            f"table {', '.join(map(str, paths))} has no {column!r} column: {list(frame.columns)}"
        )
    return frame


def read_manifests(paths: list[str], column: str | None = "prompt") -> pd.DataFrame:
    """The data stage's manifests (healthy or lesion image tables), concatenated."""
    return read_table(paths, "manifest", column)


def in_split(frame: pd.DataFrame, split: str = "train") -> pd.DataFrame:
    """The rows of one split (all rows of a table without a split column), their index kept."""
    return frame[frame["split"] == split] if "split" in frame.columns else frame


def split_rows(manifests: list[str], split: str | None = "train") -> pd.DataFrame:
    """The rows of the manifests in one split (all rows for None), renumbered; an empty split is an error
    naming the manifests. Training, the latent stage and the tiny base all read their images through it."""
    frame = read_manifests(manifests)
    if split:
        frame = in_split(frame, split).reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"no {split or ''} images in {', '.join(manifests)}")
    return frame
