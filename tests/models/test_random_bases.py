"""The rehearsal's random bases have their family's true shapes: the UNets' parameter counts equal those of
stable-diffusion-v1-5, stable-diffusion-2-base and stable-diffusion-xl-base-1.0 (built on the meta device:
no memory, no time)."""

from __future__ import annotations

import pytest
import torch

from mame.models.families import text_encoder_list
from mame.models.random_sd import random_components

REAL_UNET_PARAMETERS = {"sd15": 859_520_964, "sd2": 865_910_724, "sdxl": 2_567_463_684}
ENCODER_WIDTHS = {"sd15": [768], "sd2": [1024], "sdxl": [768, 1280]}


@pytest.mark.parametrize("family", ["sd15", "sd2", "sdxl"])
def test_a_random_base_has_the_true_shapes_of_its_family(family):
    with torch.device("meta"):
        parts = random_components(family, ["hologic"])
    assert sum(p.numel() for p in parts.unet.parameters()) == REAL_UNET_PARAMETERS[family]
    encoders = text_encoder_list(parts.text_encoder)
    assert [e.config.hidden_size for e in encoders] == ENCODER_WIDTHS[family]
    assert parts.unet.config.cross_attention_dim == sum(ENCODER_WIDTHS[family])
    assert parts.family == ("sdxl" if family == "sdxl" else "sd")


def test_the_random_sana_base_is_sana_1600m_with_a_gemma_2_2b_shaped_encoder():
    with torch.device("meta"):
        parts = random_components("sana", ["hologic"])
    assert 1.55e9 < sum(p.numel() for p in parts.unet.parameters()) < 1.65e9  # "Sana 1.6B"
    assert parts.unet.config.sample_size * 32 == 1024 and parts.vae.config.latent_channels == 32
    assert parts.text_encoder.config.hidden_size == parts.unet.config.caption_channels == 2304
    assert parts.noise_scheduler.config.prediction_type == "flow_prediction" and parts.family == "sana"


def test_an_unknown_random_base_is_refused_by_name():
    with pytest.raises(ValueError, match="sd3"):
        random_components("sd3", ["hologic"])
