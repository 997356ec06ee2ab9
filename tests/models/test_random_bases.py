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


# stabilityai's x4-upscaling.yaml (Stability-AI/stablediffusion, configs/stable-diffusion), the parts that
# diffusers' single-file converter reads: what the random upscaler has to match
X4_LDM = {
    "model": {
        "params": {
            "linear_start": 1e-4,
            "linear_end": 0.02,
            "timesteps": 1000,
            "scale_factor": 0.08333,
            "unet_config": {
                "params": {
                    "num_classes": 1000,
                    "image_size": 128,
                    "in_channels": 7,
                    "out_channels": 4,
                    "model_channels": 256,
                    "attention_resolutions": [2, 4, 8],
                    "num_res_blocks": 2,
                    "channel_mult": [1, 2, 2, 4],
                    "disable_self_attentions": [True, True, True, False],
                    "num_heads": 8,
                    "transformer_depth": 1,
                    "context_dim": 1024,
                    "use_linear_in_transformer": True,
                }
            },
            "first_stage_config": {
                "params": {
                    "ddconfig": {
                        "z_channels": 4,
                        "in_channels": 3,
                        "out_ch": 3,
                        "ch": 128,
                        "ch_mult": [1, 2, 4],
                        "num_res_blocks": 2,
                    }  # fmt: skip
                }
            },
        }
    }
}


def _plain(config: dict) -> dict:
    """A config's values with tuples as lists, without diffusers' record of which were defaults."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in config.items() if k != "_use_default_values"
    }


def _converted_scheduler(convert, checkpoint, name: str):
    """diffusers' scheduler for an LDM config; the converter edits a module-level dict, restored here."""
    from diffusers import DDPMScheduler

    saved = dict(convert.SCHEDULER_DEFAULT_CONFIG)
    try:  # the LDM config's parameterization "v"
        return convert._legacy_load_scheduler(
            DDPMScheduler, checkpoint, name, original_config=X4_LDM, prediction_type="v_prediction"
        )
    finally:
        convert.SCHEDULER_DEFAULT_CONFIG.clear()
        convert.SCHEDULER_DEFAULT_CONFIG.update(saved)


def test_the_random_x4_upscaler_is_what_diffusers_makes_of_stabilitys_config():
    from diffusers import UNet2DConditionModel
    from diffusers.loaders import single_file_utils as convert

    from mame.models.random_sd import X4_UPSCALER_UNET, X4_UPSCALER_VAE, x4_upscaler_components
    from mame.models.upscaler import LOW_RES_SCHEDULER, X4_SCHEDULER

    checkpoint = {convert.CHECKPOINT_KEY_NAMES["upscale"]: torch.zeros(1)}  # what marks an x4 upscaler
    assert convert.infer_diffusers_model_type(checkpoint) == "upscale"
    unet = convert.create_unet_diffusers_config_from_ldm(X4_LDM, checkpoint)
    assert _plain(X4_UPSCALER_UNET).items() <= unet.items()  # the rest are diffusers' defaults
    with torch.device("meta"):
        parts = x4_upscaler_components(["hologic"])
        from_ldm = UNet2DConditionModel.from_config(unet)
    assert _plain(parts.unet.config) == _plain(from_ldm.config)
    assert sum(p.numel() for p in parts.unet.parameters()) == 473_398_020  # SD x4 upscaler's UNet
    assert _plain(X4_UPSCALER_VAE) == convert.create_vae_diffusers_config_from_ldm(X4_LDM, checkpoint)
    encoder = parts.text_encoder.config  # OpenCLIP-H's penultimate layer ("layer: penultimate")
    assert (encoder.hidden_size, encoder.num_hidden_layers) == (1024, 23)
    for ours, name in ((X4_SCHEDULER, "scheduler"), (LOW_RES_SCHEDULER, "low_res_scheduler")):
        converted = _converted_scheduler(convert, checkpoint, name).config
        keys = ("beta_start", "beta_end", "beta_schedule", "num_train_timesteps", "prediction_type")
        assert {k: ours[k] for k in keys} == {k: converted[k] for k in keys}, name
    assert parts.extra["max_noise_level"] == 350 and parts.vae.config.scaling_factor == 0.08333
