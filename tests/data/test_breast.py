"""Breast region and area fraction."""

from __future__ import annotations

import numpy as np
import pytest

from mame.data.breast import area_fraction, find_breast
from mame.data.rejections import Rejection


def test_breast_region_keeps_faint_skin_of_a_breast_filling_the_detector():
    yy, xx = np.mgrid[0:200, 0:160]
    breast = (xx / 150.0) ** 2 + ((yy - 100) / 98.0) ** 2 <= 1
    image = np.where(breast, 40, 0).astype(np.uint8)
    image[breast & (xx < 120) & (np.abs(yy - 100) < 70)] = 200  # dense tissue filling the middle
    region = find_breast(image, margin=0)
    assert region.box[2] >= 148 and region.chest_wall_left


def test_area_fraction_and_blank_images():
    image = np.zeros((10, 10), dtype=np.uint8)
    image[:, :4] = 100
    assert area_fraction(image) == pytest.approx(0.4)
    with pytest.raises(Rejection) as caught:
        area_fraction(np.zeros((10, 10), dtype=np.uint8))
    assert caught.value.reason == "no_breast"
