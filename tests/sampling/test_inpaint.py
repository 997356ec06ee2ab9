"""Inpainting: generated pixels only inside the mask."""

from __future__ import annotations

import numpy as np
import torch

from mame.sampling.inpaint import composite

torch.set_num_threads(1)


def test_composite_takes_generated_pixels_only_inside_the_mask():
    original = np.zeros((4, 4), np.uint8)
    generated = np.full((4, 4), 9, np.uint8)
    mask = np.zeros((4, 4), np.uint8)
    mask[1:3, 1:3] = 255
    out = composite(original, generated, mask)
    assert out.sum() == 9 * 4 and out[1, 1] == 9 and out[0, 0] == 0
