"""The super-resolution model: SD's x4 upscaler architecture, from the model's resolution to the full field.

`StableDiffusionUpscalePipeline` denoises latents at the low-resolution image's own size. The noisy
low-resolution image is concatenated to them (4 + 3 channels), its noise level is a class embedding,
and the VAE decodes `factor` times larger. So the upscaling factor is the VAE's, and the tiny twin's VAE
has log2(factor) downsamplings: x8 for the demo's 64 -> 512 px, x4 as SD's for the study's 512 -> 2048.

The pipeline fixes its VAE's scaling factor at 0.08333. A VAE trained here therefore has a constant
folded into its latent space (`rescale_latent_space`), so that latents x 0.08333 have unit variance, as
diffusion expects. The real upscaler (stabilityai/stable-diffusion-x4-upscaler) is fine-tuned from its
weights when they are on disk.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from mame.models.components import (
    Components,
    TinySpec,
    save_pipeline,
    tiny_text_encoder,
    tiny_unet,
    tiny_vae,
)

log = logging.getLogger(__name__)
UPSCALER_SCALING = 0.08333  # StableDiffusionUpscalePipeline sets its VAE's scaling factor to this
MAX_NOISE_LEVEL = 350  # SD x4 upscaler's max_noise_level
NOISE_CLASSES = 1000  # its UNet's num_class_embeds
# SD x4 upscaler's schedules as diffusers converts its LDM config (x4-upscaling.yaml: linear_start 1e-4,
# linear_end 0.02, parameterization v; LDM's "linear" is diffusers' "scaled_linear"): the denoiser's, and
# the one its noise-level augmentation of the low-resolution image uses
X4_SCHEDULER = {
    "num_train_timesteps": 1000,
    "beta_start": 1e-4,
    "beta_end": 0.02,
    "beta_schedule": "scaled_linear",
    "prediction_type": "v_prediction",
    "steps_offset": 1,
    "clip_sample": False,
}
LOW_RES_SCHEDULER = {
    "num_train_timesteps": 1000,
    "beta_start": 1e-4,
    "beta_end": 0.02,
    "beta_schedule": "scaled_linear",
    "prediction_type": "epsilon",
    "clip_sample": True,
    "variance_type": "fixed_small",
}
IMAGE_CHANNELS = 3  # the low-resolution RGB image the pipeline concatenates


def twin_latent_channels(factor: int) -> int:
    """Latent channels of the tiny twin's VAE: SD's upscaler keeps 4 channels per 4 x 4 grey pixels
    (x4), so a x8 twin keeps 16 per 8 x 8, the same 4 pixels per latent value (never fewer than SD's 4)."""
    return max(4, factor * factor // 4)


def upscale_factor(vae_config) -> int:
    """Full-field pixels per low-resolution pixel: the VAE's factor (the latents sit at the low size)."""
    from mame.models.families import latent_factor

    return latent_factor(vae_config)


def check_factor(factor: int) -> int:
    """The tiny twin's VAE halves the side per block: a factor must be a power of two from 2 to 16."""
    if factor not in (2, 4, 8, 16):
        raise ValueError(
            f"super-resolution factor {factor} (full-field size / model resolution) must be 2, 4, 8 or 16; "
            "set convert.full_field.scale and models.tiny.resolution so that it is"
        )
    return factor


def rescale_latent_space(vae, latent_std: float, target_std: float) -> None:
    """Multiply the VAE's latents by target_std / latent_std without changing what it reconstructs: the
    encoder's mean and log-variance outputs and the decoder's first layer absorb the constant."""
    c = target_std / latent_std
    latent = vae.config.latent_channels
    if vae.quant_conv is None or vae.post_quant_conv is None:
        raise ValueError("the VAE has no quant_conv / post_quant_conv to fold a latent scale into")
    with torch.no_grad():
        vae.quant_conv.weight[:latent] *= c
        vae.quant_conv.bias[:latent] *= c
        vae.quant_conv.bias[latent:] += 2 * math.log(c)  # log variance: std scales by c
        vae.post_quant_conv.weight /= c


def shared_tokenizer(base: str | Path | None):
    """The CLIP tokenizer of a tiny base (None when there is none: no base, or Sana's Gemma tokenizer)."""
    from transformers import CLIPTokenizer

    folder = Path(base) / "tokenizer" if base else None
    if folder is None or not (folder / "vocab.json").exists():
        return None
    return CLIPTokenizer.from_pretrained(folder)


def upscaler_schedulers():
    """SD x4 upscaler's denoising scheduler, and its low-resolution scheduler and maximum noise level."""
    from diffusers import DDPMScheduler

    extra = {"low_res_scheduler": DDPMScheduler(**LOW_RES_SCHEDULER), "max_noise_level": MAX_NOISE_LEVEL}
    return DDPMScheduler(**X4_SCHEDULER), extra


def tiny_upscaler_spec(spec: TinySpec, factor: int, patch: int) -> TinySpec:
    """The tiny base's widths with a VAE of log2(factor) downsamplings, trained on `patch` px patches."""
    blocks = int(math.log2(check_factor(factor))) + 1
    channels = tuple(spec.vae_channels[:blocks]) + (spec.vae_channels[-1],) * max(
        0, blocks - len(spec.vae_channels)
    )
    if patch % (factor * 2 ** (len(spec.unet_channels) - 1)):
        raise ValueError(
            f"superres.patch {patch} must be a multiple of {factor * 2 ** (len(spec.unet_channels) - 1)} "
            f"(factor {factor} x the UNet's {len(spec.unet_channels) - 1} downsamplings)"
        )
    return replace(
        spec, resolution=patch, vae_channels=channels, family="sd1", prediction_type="v_prediction"
    )


def build_tiny_upscaler(
    manifests: list[str],
    output: str | Path,
    spec: TinySpec,
    factor: int,
    patch: int,
    vae_steps: int,
    vendors: list[str],
    patches_per_image: int = 4,
    vae_batch_size: int = 8,
    vae_lr: float = 2e-3,
    tokenizer_from: str | Path | None = None,
) -> dict:
    """Write the tiny x`factor` upscaler to `output`: a VAE pre-trained on full-field patches of the
    manifests' training images (rescaled to the pipeline's 0.08333), a random 7-channel UNet with the
    noise-level embedding, a tiny CLIP text encoder over the prompt vocabulary, SD's schedules
    (v-prediction) and its low-resolution noise schedule. `tokenizer_from`: a tiny
    SD-family base whose CLIP tokenizer it shares, so that both tokenize a prompt alike."""
    from mame.data.patches import patch_positions, read_patches
    from mame.io import split_rows
    from mame.models.tiny import pretrain_vae
    from mame.models.tokenizer import build_tokenizer, prompt_corpus

    upscaler = tiny_upscaler_spec(spec, factor, patch)
    torch.manual_seed(upscaler.seed)
    frame = split_rows(manifests, "train")
    frame = frame[frame["full_image"].fillna("").astype(str) != ""]
    if frame.empty:
        raise ValueError(f"no full-field images in {', '.join(manifests)}: set convert.full_field.scale > 0")
    positions = patch_positions(frame, patch, patches_per_image, upscaler.seed)
    if len(positions) < vae_batch_size:
        raise ValueError(
            f"only {len(positions)} full-field patches of {patch} px in the breast; lower superres.patch"
        )
    patches = read_patches(positions)
    images = np.repeat(patches[:, None] * 2 - 1, 3, axis=1).astype(np.float32)
    vae = tiny_vae(upscaler, twin_latent_channels(factor))
    metrics = pretrain_vae(vae, images, vae_steps, vae_batch_size, vae_lr, upscaler.seed, crop=patch)
    rescale_latent_space(vae, metrics["latent_std"], 1 / UPSCALER_SCALING)
    vae.register_to_config(scaling_factor=UPSCALER_SCALING)
    log.info("tiny upscaler VAE on %d patches: %s", len(patches), metrics)
    tokenizer = shared_tokenizer(tokenizer_from) or build_tokenizer(prompt_corpus(vendors))
    latent = vae.config.latent_channels
    unet = tiny_unet(upscaler, latent + IMAGE_CHANNELS, NOISE_CLASSES, factor, out_channels=latent)
    scheduler, extra = upscaler_schedulers()
    components = Components(
        tokenizer, tiny_text_encoder(upscaler, tokenizer), vae, unet, scheduler, extra=extra
    )
    save_pipeline(components, output, upscaling=True)
    summary = {
        "patches": len(patches),
        "factor": factor,
        "patch": patch,
        "vae": metrics,
        "spec": upscaler.__dict__,
    }
    (Path(output) / "tiny_upscaler.json").write_text(json.dumps(summary, indent=1, default=list) + "\n")
    return summary
