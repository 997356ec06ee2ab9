"""A Stable-Diffusion-1.5-architecture base with random weights, built by the pipeline (no download).

It has SD 1.5's shapes (860M-parameter UNet at 64x64 latents, a CLIP-L-size text encoder, the SD VAE)
around the pipeline's own tokenizer, and a 9-channel inpainting twin. Nothing it generates means
anything; it exists so that the rehearsal config (config/rehearsal.yaml) and the GPU benchmark run every
code path of the real study at the real model size - memory, speed, checkpoints, fp16, 8-bit Adam - on a
cluster before GPU hours are spent on real weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from mame.models.components import SD_SCHEDULER, Components, save_pipeline, widen_conv_in
from mame.models.tokenizer import build_tokenizer, prompt_corpus

SD15_UNET = {
    "sample_size": 64,
    "out_channels": 4,
    "block_out_channels": (320, 640, 1280, 1280),
    "layers_per_block": 2,
    "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
}
SD15_VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "block_out_channels": (128, 256, 512, 512),
    "layers_per_block": 2,
    "latent_channels": 4,
    "sample_size": 512,
    "scaling_factor": 0.18215,
}
CLIP_L = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12}


def sd15_unet(in_channels: int = 4):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(in_channels=in_channels, **SD15_UNET)


def sd15_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(**SD15_VAE)


def clip_l_text_encoder(tokenizer):
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        projection_dim=768,
        hidden_act="quick_gelu",
        **CLIP_L,
    )
    return CLIPTextModel(config)


def sd15_components(vendors: list[str], seed: int = 0, in_channels: int = 4) -> Components:
    """Random SD-1.5-size components around the pipeline's tokenizer (fp32, on the CPU)."""
    from diffusers import DDPMScheduler

    torch.manual_seed(seed)
    tokenizer = build_tokenizer(prompt_corpus(vendors))
    return Components(
        tokenizer,
        clip_l_text_encoder(tokenizer),
        sd15_vae(),
        sd15_unet(in_channels),
        DDPMScheduler(**SD_SCHEDULER),
    )


def build_random_sd15(
    output: str | Path, inpainting_output: str | Path, vendors: list[str], seed: int = 0
) -> dict:
    """Write the random SD-1.5-size text-to-image pipeline and its 9-channel inpainting twin."""
    components = sd15_components(vendors, seed)
    save_pipeline(components, output)
    components.unet = widen_conv_in(components.unet, 9)
    save_pipeline(components, inpainting_output, inpainting=True)
    parameters = {
        name: sum(p.numel() for p in getattr(components, name).parameters())
        for name in ("unet", "text_encoder", "vae")
    }
    summary = {
        "architecture": "stable-diffusion-v1-5",
        "weights": "random",
        "seed": seed,
        "parameters": parameters,
    }
    for folder in (output, inpainting_output):
        (Path(folder) / "random_base.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
