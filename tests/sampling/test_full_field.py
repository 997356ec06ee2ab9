"""Full-field lesion painting: the window, the feathered blend, and the pixels it must not touch."""

from __future__ import annotations

import numpy as np
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
