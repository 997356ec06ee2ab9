"""Phantom anatomy: density sets dense tissue, MLO views have a pectoral muscle."""

from __future__ import annotations

import numpy as np

from mame.data.breast import area_fraction
from mame.data.geometry import plan_geometry
from mame.phantom.anatomy import DENSE_SHARE, synthesize
from mame.phantom.generate import ELONGATION_RANGE


def test_density_sets_the_amount_of_dense_tissue():
    dense_share = {}
    for density in "AD":
        rng = np.random.default_rng(0)
        signal = synthesize(rng, 160, 128, "CC", density, size=0.6).signal
        breast = signal > 0.1
        dense_share[density] = float((signal[breast] > 0.52).mean())
    assert DENSE_SHARE["A"] < DENSE_SHARE["D"]
    assert dense_share["D"] > dense_share["A"] + 0.2


def test_mlo_has_a_pectoral_muscle_and_cc_has_none():
    cc = synthesize(np.random.default_rng(1), 160, 128, "CC", "A", size=0.5).signal
    mlo = synthesize(np.random.default_rng(1), 160, 128, "MLO", "A", size=0.5).signal
    assert mlo[5:15, 2:8].mean() > 0.65  # upper chest-wall corner is muscle
    assert cc[5:15, 2:8].mean() < 0.3


def _processed_area(view: str, size: float, elongation: float) -> float:
    """The breast-area fraction of the image the conversion makes (breast crop, 64 px square)."""
    signal = synthesize(
        np.random.default_rng(3), 160, 128, view, "B", size=size, elongation=elongation
    ).signal
    image = (signal * 255).astype(np.uint8)
    return area_fraction(plan_geometry(image, "breast", 64, flip=False).apply_image(image))


def test_under_the_breast_crop_the_area_attribute_follows_the_breast_shape_in_both_views():
    """With size alone a CC breast filled the same share of its crop at every size, so its area
    caption was noise; the woman's elongation now moves it across the study's thresholds (0.4 / 0.6)."""
    cc_sizes = [_processed_area("CC", size, 1.0) for size in (0.1, 0.9)]
    assert abs(cc_sizes[0] - cc_sizes[1]) < 0.12  # size barely moves a breast-cropped CC
    shapes = np.geomspace(*ELONGATION_RANGE, 6)
    cc = [_processed_area("CC", 0.5, shape) for shape in shapes]
    mlo = [_processed_area("MLO", 0.8, shape) for shape in shapes]
    assert min(cc) < 0.4 and max(cc) >= 0.6, cc
    assert min(mlo) < 0.4 and max(mlo) > 0.55, mlo  # MLO's axillary tail keeps it below a CC
