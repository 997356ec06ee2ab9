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


def test_a_12_bit_ramp_keeps_more_than_256_levels_through_conversion_and_the_vae(tiny, write_dicom):
    import numpy as np
    from diffusers import AutoencoderKL

    from mame.data.convert import ConvertSettings, convert_image
    from mame.data.dicom import IntensitySettings
    from mame.sampling.sweep import quantise

    ramp = np.arange(4096, dtype=np.uint16).reshape(64, 64)  # every 12-bit level once
    path = write_dicom(ramp, WindowCenter=2048, WindowWidth=4096)
    settings = ConvertSettings(size=64, crop="center", intensity=IntensitySettings(bit_depth=16))
    converted = convert_image(path, "L", np.zeros((0, 4)), settings).image
    assert converted.dtype == np.uint16 and np.unique(converted).size > 256
    vae = AutoencoderKL.from_pretrained(tiny["base"], subfolder="vae")
    unit = torch.from_numpy(converted.astype(np.float32) / 65535.0)
    batch = (unit * 2 - 1)[None, None].repeat(1, 3, 1, 1)
    with torch.no_grad():
        decoded = vae.decode(vae.encode(batch).latent_dist.mean).sample[0].mean(dim=0)
    round_trip = quantise(((decoded + 1) / 2).numpy(), 16)
    assert round_trip.dtype == np.uint16 and np.unique(round_trip).size > 256
