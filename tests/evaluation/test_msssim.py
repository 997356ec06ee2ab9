"""MS-SSIM: the original definition (checked against pytorch-msssim), all pairs, bootstrap CI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mame.evaluation.msssim import bootstrap_mean_ci, ms_ssim, ms_ssim_all_pairs, pair_values, scales_that_fit


def _images(count: int, side: int = 176, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (side, side + 8)).astype(np.float64)
    return [np.clip(base + rng.normal(0, 10 + 15 * i, base.shape), 0, 255) for i in range(count)]


def test_agrees_with_pytorch_msssim_within_1e5():
    from pytorch_msssim import ms_ssim as reference

    images = _images(4)
    for a, b in [(0, 1), (1, 2), (0, 3), (2, 3)]:
        expected = float(
            reference(
                torch.tensor(images[a])[None, None],
                torch.tensor(images[b])[None, None],
                data_range=255,
                size_average=True,
            )
        )
        assert ms_ssim(images[a], images[b]) == pytest.approx(expected, abs=1e-5)


def test_identical_images_score_one_and_order_does_not_matter():
    a, b = _images(2)
    assert ms_ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(a, b) == pytest.approx(ms_ssim(b, a), abs=1e-12)
    assert ms_ssim(a, b) < 1.0


def test_all_pairs_equals_one_pair_at_a_time():
    images = _images(5)
    matrix, scales = ms_ssim_all_pairs(images)
    assert scales == 5
    for i in range(5):
        for j in range(i + 1, 5):
            assert matrix[i, j] == pytest.approx(ms_ssim(images[i], images[j]), abs=1e-10)
            assert matrix[j, i] == matrix[i, j]
    assert np.all(np.diag(matrix) == 1.0)
    assert len(pair_values(matrix)) == 10


def test_scales_follow_the_image_size():
    assert scales_that_fit(161, 300) == 5 and scales_that_fit(160, 300) == 4
    assert scales_that_fit(64, 64) == 3 and scales_that_fit(10, 64) == 0
    small = [img[:64, :64] for img in _images(3)]
    matrix, scales = ms_ssim_all_pairs(small)
    assert scales == 3 and matrix[0, 1] == pytest.approx(ms_ssim(small[0], small[1]), abs=1e-10)
    with pytest.raises(ValueError, match="smaller than"):
        ms_ssim(np.zeros((8, 8)), np.zeros((8, 8)))


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_images():
    rng = np.random.default_rng(1)

    def matrix(count):
        values = np.clip(rng.normal(0.3, 0.05, (count, count)), 0, 1)
        values = (values + values.T) / 2
        np.fill_diagonal(values, 1)
        return values

    small, large = matrix(10), matrix(60)
    low, high = bootstrap_mean_ci(small, resamples=400)
    assert low < pair_values(small).mean() < high
    low_l, high_l = bootstrap_mean_ci(large, resamples=400)
    assert high_l - low_l < high - low


def test_sixteen_bit_pairs_agree_with_pytorch_msssim_at_data_range_65535():
    from pytorch_msssim import ms_ssim as reference

    rng = np.random.default_rng(5)
    base = rng.integers(0, 65535, (192, 192)).astype(np.float64)
    a = np.clip(base + rng.normal(0, 4000, base.shape), 0, 65535).astype(np.uint16)
    b = np.clip(base + rng.normal(0, 4000, base.shape), 0, 65535).astype(np.uint16)
    expected = float(
        reference(
            torch.tensor(a.astype(np.float64))[None, None],
            torch.tensor(b.astype(np.float64))[None, None],
            data_range=65535,
            size_average=True,
        )
    )
    assert ms_ssim(a, b, data_range=65535) == pytest.approx(expected, abs=1e-5)
    matrix, _ = ms_ssim_all_pairs([a, b], data_range=65535)
    assert matrix[0, 1] == pytest.approx(expected, abs=1e-5)
