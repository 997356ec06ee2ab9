"""Lesion boxes for inpainting: the study's size sampling, always inside the breast."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mame.data.lesions import BoxDistribution, box_mask, breast_region, place_box


def test_box_statistics_follow_the_training_boxes():
    boxes = [json.dumps([[0, 0, 10, 10]]), json.dumps([[0, 0, 20, 10], [5, 5, 25, 25]])]
    distribution = BoxDistribution.from_manifest(boxes, 100)
    areas = np.array([100, 200, 400]) / 100**2
    assert distribution.area_low == pytest.approx(np.percentile(areas, 25))
    assert distribution.area_high == pytest.approx(np.percentile(areas, 75))
    assert distribution.aspect_mean == pytest.approx(np.mean([1, 2, 1]))


def test_placed_boxes_lie_wholly_inside_the_breast():
    image = np.zeros((64, 64), np.uint8)
    yy, xx = np.mgrid[0:64, 0:64]
    image[(xx / 40.0) ** 2 + ((yy - 32) / 28.0) ** 2 <= 1] = 120
    image[0:3, 60:64] = 200  # a marker outside the breast: not the largest component
    region = breast_region(image)
    distribution = BoxDistribution(0.01, 0.03, 1.2, 0.2)
    rng = np.random.default_rng(0)
    for _ in range(30):
        x1, y1, x2, y2 = place_box(region, distribution, rng)
        assert region[y1:y2, x1:x2].all()
        assert 0.005 * 64 * 64 <= (x2 - x1) * (y2 - y1) <= 0.04 * 64 * 64
    assert box_mask((64, 64), (1, 2, 4, 6)).sum() == 255 * 12


def test_an_empty_image_has_no_place_for_a_lesion():
    with pytest.raises(ValueError, match="non-zero"):
        breast_region(np.zeros((8, 8), np.uint8))
