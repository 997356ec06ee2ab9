"""Tiled super-resolution: coverage, seamless blending, flat memory, and the evaluation's baselines."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mame.sampling.upscale import ramp, tile_starts, upscale_tiled


def _nearest(low: np.ndarray, number: int, factor: int = 4) -> np.ndarray:
    return np.kron(low, np.ones((factor, factor), np.float32))


def test_tiles_cover_the_image_with_the_asked_overlap():
    assert tile_starts(64, 32, 4) == [0, 28, 32]
    assert tile_starts(20, 32, 4) == [0]
    starts = tile_starts(100, 16, 2)
    assert (
        starts[0] == 0
        and starts[-1] == 84
        and all(b - a <= 14 for a, b in zip(starts, starts[1:], strict=False))
    )
    weights = ramp(16, 4)
    assert weights.min() > 0 and (weights[4:12] == 1).all() and (np.diff(weights[:5]) > 0).all()


def test_an_exact_upscaler_gives_the_same_image_tiled_or_whole():
    rng = np.random.default_rng(0)
    low = rng.random((40, 56)).astype(np.float32)
    tiled = upscale_tiled(low, _nearest, 4, tile=16, overlap=0.125)
    np.testing.assert_allclose(tiled, _nearest(low, 0), atol=1e-6)


def test_tiled_super_resolution_of_a_constant_image_is_seamless():
    """Each tile comes back with its own brightness offset (as a diffusion upscaler's tiles do): the
    blend spreads every offset over the overlap, so no step between neighbours exceeds offset / ramp."""
    offsets = 0.05 * (-1.0) ** np.arange(1000)  # neighbouring tiles 0.1 apart
    low = np.full((64, 64), 0.5, np.float32)
    result = upscale_tiled(low, lambda tile, n: _nearest(tile, n) + offsets[n], 4, tile=32, overlap=0.125)
    largest_step = max(np.abs(np.diff(result, axis=0)).max(), np.abs(np.diff(result, axis=1)).max())
    overlap_px = 4 * 4  # 1/8 of a 32 px tile, x 4
    assert largest_step <= 0.1 / overlap_px * 1.5
    hard = upscale_tiled(low, lambda tile, n: _nearest(tile, n) + offsets[n], 4, tile=32, overlap=0)
    assert np.abs(np.diff(hard, axis=1)).max() > 10 * largest_step  # without overlap: a visible step


def test_memory_does_not_grow_with_the_output_size_beyond_the_output_itself():
    """Measured at two sizes: what the tiling holds beyond the output and its weight sum (8 bytes per
    output pixel) stays the same; the upscaler never sees more than one tile."""
    seen = []

    def upscaler(tile, number):
        seen.append(tile.shape)
        return _nearest(tile, number)

    extra = {}
    for side in (64, 256):
        low = np.full((side, side), 0.5, np.float32)
        tracemalloc.start()
        upscale_tiled(low, upscaler, 4, tile=32)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra[side] = peak - 8 * (4 * side) ** 2 * 1.5  # output, weights and the final division
    assert max(seen) == (32, 32)
    assert extra[256] < extra[64] + 2e6  # a few tiles' worth, whatever the size (16x more pixels)


def test_the_upscaler_s_shape_is_checked():
    with pytest.raises(ValueError, match="expected x4"):
        upscale_tiled(np.zeros((16, 16), np.float32), lambda tile, n: tile, 4, tile=8)


def test_interpolation_baselines_score_as_expected_on_a_smooth_image():
    from scipy import ndimage

    from mame.data.patches import box_downsample
    from mame.evaluation.superres import interpolate, scores, summarise

    rng = np.random.default_rng(2)
    original = np.clip(0.5 + ndimage.gaussian_filter(rng.normal(size=(256, 256)), 6) * 3, 0.05, 1).astype(
        np.float32
    )
    low = box_downsample(original, 4).astype(np.float32)
    bicubic = scores(original, interpolate(low, 4, "bicubic"), patch=128)
    nearest = scores(original, _nearest(low, 0), patch=128)
    perfect = scores(original, original, patch=128)
    assert perfect["ssim"] == pytest.approx(1) and perfect["patch_msssim"] == pytest.approx(1)
    assert bicubic["psnr_db"] > nearest["psnr_db"] and bicubic["ssim"] > nearest["ssim"]
    import pandas as pd

    rows = pd.DataFrame(
        [
            {"image": i, "method": m, **scores(original, up, 128)}
            for i in range(3)
            for m, up in (("bicubic", interpolate(low, 4, "bicubic")), ("nearest", _nearest(low, 0)))
        ]
    )
    table = summarise(rows, resamples=200)
    row = table[(table["method"] == "nearest") & (table["metric"] == "psnr_db")].iloc[0]
    assert row["n"] == 3 and row["vs_reference"] < 0  # worse than bicubic


def test_back_projection_makes_the_result_downsample_to_its_input_and_leaves_an_exact_one_alone():
    from mame.data.patches import box_downsample
    from mame.sampling.upscale import back_project

    rng = np.random.default_rng(4)
    low = rng.uniform(0.2, 0.8, (16, 20)).astype(np.float32)
    wrong = np.clip(_nearest(low, 0) + rng.normal(0, 0.1, (64, 80)) + 0.05, 0, 1)  # noisy and biased
    before = np.abs(box_downsample(wrong, 4) - low).max()
    fixed = back_project(wrong, low, 4, iterations=3)
    assert np.abs(box_downsample(fixed, 4) - low).max() < before / 20
    exact = _nearest(low, 0)
    np.testing.assert_allclose(back_project(exact, low, 4), exact, atol=1e-6)
