"""Full-field lesion painting: the window, the feathered blend, and the pixels it must not touch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mame.sampling.full_field import feather, paint_full_field, paint_window, pipeline_painter

torch.set_num_threads(1)


def _field(shape=(400, 320), seed=0) -> np.ndarray:
    """A 16-bit full field with texture, so that a touched pixel shows."""
    rng = np.random.default_rng(seed)
    return rng.integers(1000, 60000, shape).astype(np.uint16)


def _bright(window: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A stand-in painter: the mask's pixels set to white, the rest kept."""
    return np.where(mask > 127, np.iinfo(window.dtype).max, window).astype(window.dtype)


def test_a_small_box_is_painted_at_full_resolution_and_a_large_one_scaled_to_the_canvas():
    small = paint_window((100, 120, 120, 150), (400, 320), (64, 64), margin=0.5)
    assert small.scale == 1 and (small.height, small.width) == (64, 64)
    assert small.top <= 120 and small.top + 64 >= 150 and small.left <= 100 and small.left + 64 >= 120
    large = paint_window((10, 10, 150, 110), (400, 320), (64, 64), margin=0.25)
    assert large.scale == pytest.approx(140 * 1.5 / 64, abs=0.02) and large.left == 0  # kept inside the image
    edge = paint_window((300, 380, 318, 398), (400, 320), (64, 64))
    assert edge.top + edge.height <= 400 and edge.left + edge.width <= 320


def test_the_feather_is_one_in_the_box_and_zero_beyond_its_width():
    weights = feather((40, 40), (10, 10, 20, 20), 5)
    assert (weights[10:20, 10:20] == 1).all()
    assert weights[10:20, 25:].max() == 0 and weights[:5].max() == 0
    ring = weights[15, 20:25]
    assert (np.diff(ring) < 0).all() and 0 < ring.min() < ring.max() < 1


@pytest.mark.parametrize("box", [(100, 120, 120, 150), (10, 10, 150, 110), (301.5, 380.2, 318.7, 398.9)])
def test_pixels_outside_the_dilated_box_are_bit_identical(box):
    image = _field()
    result, record = paint_full_field(image, box, _bright, (64, 64), feather_px=6)
    x1, y1, x2, y2 = box
    ys, xs = np.mgrid[0:400, 0:320] + 0.5
    outside = (xs < x1 - 6) | (xs > x2 + 6) | (ys < y1 - 6) | (ys > y2 + 6)
    np.testing.assert_array_equal(result[outside], image[outside])
    inside = (xs > x1 + 1) & (xs < x2 - 1) & (ys > y1 + 1) & (ys < y2 - 1)
    assert (result[inside] > 60000).mean() > 0.95  # painted (white), at 16 bits
    assert result.dtype == np.uint16 and record["feather_px"] == 6


def test_the_feather_leaves_a_softer_seam_than_a_hard_paste():
    image = np.full((200, 200), 20000, np.uint16)
    box = (80, 80, 120, 120)
    soft, _ = paint_full_field(image, box, _bright, (64, 64), feather_px=10)
    hard, _ = paint_full_field(image, box, _bright, (64, 64), feather_px=0)
    step = lambda a: np.abs(np.diff(a[100].astype(float))).max()  # noqa: E731 - across the seam
    assert step(soft) < step(hard) / 5


def test_a_painter_returning_another_shape_is_refused():
    with pytest.raises(ValueError, match="painter returned"):
        paint_full_field(_field(), (100, 120, 120, 150), lambda w, m: w[:10], (64, 64))


def test_the_tiny_inpainting_model_paints_a_full_field_image_only_near_the_box(tiny):
    from diffusers import StableDiffusionInpaintPipeline

    pipeline = StableDiffusionInpaintPipeline.from_pretrained(tiny["inpaint"])
    pipeline.set_progress_bar_config(disable=True)
    image = _field((128, 96)).astype(np.uint16)
    box = (40, 50, 52, 66)
    result, record = paint_full_field(
        image, box, pipeline_painter(pipeline, "a mammogram with a lesion", steps=2), (32, 32), feather_px=4
    )
    assert record["scale"] == 1  # a 12 x 16 box and its margin fit the 32 px canvas: painted at 1:1
    ys, xs = np.mgrid[0:128, 0:96] + 0.5
    near = (xs >= 36) & (xs <= 56) & (ys >= 46) & (ys <= 70)
    np.testing.assert_array_equal(result[~near], image[~near])
    assert not np.array_equal(result[near], image[near])


def test_boxes_round_trip_between_the_model_canvas_and_the_full_field():
    from mame.sampling.full_field_panels import scale_box

    box = (3, 5, 17, 29)
    full = scale_box(box, (32, 32), (256, 256))
    assert full == (24, 40, 136, 232)
    assert scale_box(full, (256, 256), (32, 32)) == box
    odd = scale_box((1.5, 2.25, 7, 9), (40, 32), (400, 256))  # non-square: each axis by its own ratio
    assert odd == (12, 22.5, 56, 90)
    assert scale_box(odd, (400, 256), (40, 32)) == pytest.approx((1.5, 2.25, 7, 9))


def _full_field_manifest(root, sides=("L", "R")) -> pd.DataFrame:
    """Processed 32 px images (a breast block) with their 128 px 16-bit full-field products."""
    from PIL import Image

    rows = []
    for number, side in enumerate(sides):
        processed = np.zeros((32, 32), np.uint8)
        processed[:, :24] = 150
        full = np.zeros((128, 128), np.uint16)
        full[:, :96] = _field((128, 96), seed=number)
        Image.fromarray(processed).save(root / f"{number}.png")
        Image.fromarray(full).save(root / f"{number}_full.png")
        rows.append(
            {
                "image": str(root / f"{number}.png"),
                "full_image": str(root / f"{number}_full.png"),
                "full_scale": 4,
                "spacing_row_mm": 0.28,
                "spacing_col_mm": 0.3,
                "view": "CC",
                "laterality": side,
            }
        )
    return pd.DataFrame(rows)


def test_full_fields_are_painted_near_the_box_only_and_exported_with_their_spacing(tiny, tmp_path):
    import pydicom
    from diffusers import StableDiffusionInpaintPipeline

    from mame.data.lesions import BoxDistribution
    from mame.export.validation import validate
    from mame.io import read_pixels
    from mame.sampling.full_field_panels import paint_full_fields

    pipeline = StableDiffusionInpaintPipeline.from_pretrained(tiny["inpaint"])
    pipeline.set_progress_bar_config(disable=True)
    distribution = BoxDistribution.from_manifest(["[[2, 2, 8, 10]]", "[[4, 4, 12, 12]]"], (32, 32))
    from mame.export.full_field import export_painted

    rows = paint_full_fields(
        pipeline, _full_field_manifest(tmp_path), distribution, 2, tmp_path / "out", "lesions", steps=2
    )
    rows = export_painted(rows)
    assert len(rows) == 2
    for row in rows:
        before, after = read_pixels(row["before"]), read_pixels(row["after"])
        assert after.dtype == np.uint16 and after.shape == (128, 128)
        assert row["max_change_outside"] == 0 and row["mean_change_inside"] > 0
        x1, y1, x2, y2 = row["full_box"]
        assert [x1, y1, x2, y2] == [4 * v for v in row["box"]]  # the model canvas is 32 px: x 4
        ys, xs = np.mgrid[0:128, 0:128] + 0.5
        far = (xs < x1 - 8) | (xs > x2 + 8) | (ys < y1 - 8) | (ys > y2 + 8)
        np.testing.assert_array_equal(after[far], before[far])
        dataset = pydicom.dcmread(row["dicom"])
        assert dataset.ConversionType == "SYN"
        assert [float(v) for v in dataset.PixelSpacing] == pytest.approx([0.07, 0.075])
    left, right = (pydicom.dcmread(row["dicom"]) for row in rows)
    assert (left.ImageLaterality, right.ImageLaterality) == ("L", "R")
    np.testing.assert_array_equal(left.pixel_array, read_pixels(rows[0]["after"]))
    np.testing.assert_array_equal(right.pixel_array, np.fliplr(read_pixels(rows[1]["after"])))  # as acquired
    checks, summary = validate([row["dicom"] for row in rows])
    assert summary["passed"], checks


def test_the_seam_ratio_of_a_feathered_paste_is_nearer_one_than_a_hard_paste():
    from mame.sampling.full_field_panels import seam_energy

    rng = np.random.default_rng(3)
    ramp = np.linspace(20000, 40000, 200)[None, :] + rng.normal(0, 200, (200, 200))
    image = ramp.astype(np.uint16)  # smooth tissue: a step at the border stands out
    box = (80, 80, 120, 120)
    ratios = {}
    for width in (0, 12):
        painted, _ = paint_full_field(image, box, _bright, (64, 64), feather_px=width)
        ratios[width] = seam_energy(painted, box, width) / seam_energy(image, box, width)
    assert 1 < ratios[12] < ratios[0] / 10


def test_mame_inpaint_paints_a_full_field_png_and_writes_a_valid_dicom(tiny, tmp_path, capsys):
    import json

    import pydicom
    from PIL import Image

    from mame.cli import main
    from mame.io import read_pixels

    image = _field((128, 96))
    Image.fromarray(image).save(tmp_path / "full.png")
    common = ["inpaint", str(tmp_path / "full.png"), "--model", tiny["inpaint"], "--steps", "2"]
    out = ["--out", str(tmp_path / "painted.png"), "--dicom", str(tmp_path / "painted.dcm")]
    code = main(
        [*common, "--box", "40", "50", "52", "66", *out, "--spacing", "0.07", "0.07", "--feather", "4"]
    )
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    painted = read_pixels(tmp_path / "painted.png")
    assert painted.dtype == np.uint16 and record["scale"] == 1
    ys, xs = np.mgrid[0:128, 0:96] + 0.5
    near = (xs >= 36) & (xs <= 56) & (ys >= 46) & (ys <= 70)
    np.testing.assert_array_equal(painted[~near], image[~near])
    assert record["dicom"]["passed"]
    assert [float(v) for v in pydicom.dcmread(tmp_path / "painted.dcm").PixelSpacing] == [0.07, 0.07]
    assert main([*common, "--box", "80", "50", "120", "66", "--out", str(tmp_path / "x.png")]) == 1
    assert "not a non-empty box inside the 96 x 128 image" in capsys.readouterr().err
