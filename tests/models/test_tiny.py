"""The tiny base: a Stable-Diffusion-architecture model that plain diffusers loads."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)


def test_tiny_base_reloads_in_plain_diffusers(tiny):
    from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

    pipeline = StableDiffusionPipeline.from_pretrained(tiny["base"])
    assert pipeline.vae.config.scaling_factor != pytest.approx(0.18215)
    assert 2 ** (len(pipeline.vae.config.block_out_channels) - 1) == 8
    assert StableDiffusionInpaintPipeline.from_pretrained(tiny["inpaint"]).unet.config.in_channels == 9
