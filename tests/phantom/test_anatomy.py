"""Phantom anatomy: density sets dense tissue, MLO views have a pectoral muscle."""

from __future__ import annotations

import numpy as np

from mame.phantom.anatomy import DENSE_SHARE, synthesize


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
