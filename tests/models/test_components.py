"""Model components: widening the UNet for inpainting, resolving a base offline."""

from __future__ import annotations

import os

import pytest
import torch

from mame.models.components import resolve_model, tiny_unet, widen_conv_in

from conftest import SPEC

torch.set_num_threads(1)


def test_widened_unet_starts_as_the_text_to_image_unet():
    torch.manual_seed(0)
    unet = tiny_unet(SPEC)
    wide = widen_conv_in(unet, 9)
    latents = torch.randn(1, 4, 4, 4)
    hidden = torch.randn(1, 77, SPEC.text_hidden)
    extra = torch.randn(1, 5, 4, 4)
    with torch.no_grad():
        expected = unet(latents, 10, hidden).sample
        actual = wide(torch.cat([latents, extra], dim=1), 10, hidden).sample
    torch.testing.assert_close(actual, expected)


def test_an_uncached_hub_model_offline_names_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="models.base"):
        resolve_model("stable-diffusion-v1-5/stable-diffusion-v1-5", "models.base")
    with pytest.raises(ValueError, match="does not exist"):
        resolve_model("./no/such/dir", "models.base")
    assert os.environ["HF_HUB_OFFLINE"] == "1"
