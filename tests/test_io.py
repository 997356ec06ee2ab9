"""Files the stages hand each other: grey images, CSV tables, and paper tables in Markdown and LaTeX."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mame.io import data_range, read_grey, read_manifests, read_pixels, to_latex, to_markdown, write_tables

TABLE = pd.DataFrame(
    {"images": [1200, 35], "share": ["40 %", "3 %"]},
    index=pd.Index(["omi_h", "vindr"], name="dataset"),
)


def test_markdown_keeps_the_index_as_first_column_and_right_aligns_values():
    assert to_markdown(TABLE) == (
        "| dataset | images | share |\n|---|---:|---:|\n| omi_h | 1,200 | 40 % |\n| vindr | 35 | 3 % |\n"
    )


def test_latex_escapes_what_latex_would_misread():
    lines = to_latex(TABLE).splitlines()
    assert lines[0] == r"\begin{tabular}{lrr}"
    assert lines[2] == r"dataset & images & share \\ \hline"
    assert lines[3] == r"omi\_h & 1{,}200 & 40 \% \\"


def test_write_tables_writes_csv_markdown_and_latex_of_one_table(tmp_path):
    write_tables(TABLE, tmp_path / "datasets")
    assert pd.read_csv(tmp_path / "datasets.csv", index_col=0).equals(TABLE)
    assert (tmp_path / "datasets.md").read_text() == to_markdown(TABLE)
    assert (tmp_path / "datasets.tex").read_text() == to_latex(TABLE)


def test_read_grey_reads_rgb_and_16_bit_as_8_bit_grey_and_box_resizes(tmp_path):
    Image.fromarray(np.full((8, 8, 3), 200, np.uint8)).save(tmp_path / "rgb.png")
    Image.fromarray(np.full((8, 8), 100, np.uint8)).save(tmp_path / "grey.png")
    assert read_grey(tmp_path / "rgb.png").shape == (8, 8) and read_grey(tmp_path / "rgb.png")[0, 0] == 200
    half = read_grey(tmp_path / "grey.png", side=4)
    assert half.shape == (4, 4) and half.dtype == np.uint8 and (half == 100).all()


def test_read_manifests_joins_tables_as_text_and_names_what_is_missing(tmp_path):
    pd.DataFrame({"prompt": ["a", "NA"], "n": [1, 2]}).to_csv(tmp_path / "a.csv", index=False)
    pd.DataFrame({"prompt": ["b"], "n": [3]}).to_csv(tmp_path / "b.csv", index=False)
    joined = read_manifests([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert joined["prompt"].tolist() == ["a", "NA", "b"]  # "NA" is a caption, not a missing value
    with pytest.raises(FileNotFoundError, match="rule 'manifest' writes it"):
        read_manifests([tmp_path / "none.csv"])
    with pytest.raises(ValueError, match="no 'image' column"):
        read_manifests([tmp_path / "a.csv"], column="image")


def test_a_16_bit_png_keeps_its_depth_in_read_pixels_and_scales_not_clips_in_read_grey(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (16, 1))
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    native = read_pixels(tmp_path / "deep.png")
    assert native.dtype == np.uint16 and np.array_equal(native, ramp) and data_range(native) == 65535
    shown = read_grey(tmp_path / "deep.png")
    assert shown.dtype == np.uint8 and shown[0, 0] == 0 and shown[0, -1] == 255  # not clipped at 255
    assert shown[0, 32] == round(int(ramp[0, 32]) / 257)
    assert read_pixels(tmp_path / "deep.png", side=8).dtype == np.uint16
