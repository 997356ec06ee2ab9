"""Pixel spacing: read from the header as the standard names it, carried through the geometry."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from mame.data.geometry import Geometry
from mame.data.spacing import canvas_spacing, header_spacing


def test_calibrated_spacing_is_preferred_and_the_detector_spacing_is_the_fallback():
    ds = Dataset()
    assert header_spacing(ds) is None
    ds.ImagerPixelSpacing = ["0.065", "0.065"]
    assert header_spacing(ds) == (0.065, 0.065, "ImagerPixelSpacing")
    ds.PixelSpacing = ["0.07", "0.0703"]
    assert header_spacing(ds) == (0.07, 0.0703, "PixelSpacing")
    ds.PixelSpacing = ["0", "0"]  # an empty calibration: the detector's spacing stands
    assert header_spacing(ds)[2] == "ImagerPixelSpacing"


def test_the_canvas_spacing_follows_the_crop_and_resize_per_axis():
    # a 2000 x 1000 crop resized to 400 x 250 (width x height), padded on a 512 x 400 canvas
    geometry = Geometry(
        crop=(100, 0, 1100, 2000), flip=True, resized=(250, 400), offset=(0, 56), size=(512, 400)
    )
    row, column = canvas_spacing((0.07, 0.07), geometry)
    assert row == pytest.approx(0.07 * 2000 / 400) and column == pytest.approx(0.07 * 1000 / 250)
