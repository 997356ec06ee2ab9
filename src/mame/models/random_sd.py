"""Bases at true size with random weights, built by the pipeline (no download): sd15-random, sd2-random,
sdxl-random, sana-random.

Each has its family's shapes around the pipeline's own tokenizer, and a 9-channel inpainting twin: SD 1.5
(860M-parameter UNet at 64x64 latents, a CLIP-L-size text encoder, the SD VAE); SD 2 base (the same UNet
with linear attention projections and OpenCLIP-H's 1024-wide, 23-layer encoder); SDXL (the 2.6B UNet
at 128x128 latents with text-and-size added conditioning, CLIP-L and OpenCLIP-bigG encoders); Sana 1.6B
(a linear-attention DiT, DC-AE f32c32, a Gemma-2-2B-shaped encoder; no inpainting twin). Nothing
they generate means anything; they exist so that the rehearsal config (config/rehearsal.yaml) and the GPU
benchmark run every code path of the real study at the real model size - memory, speed, checkpoints,
fp16, 8-bit Adam - on a cluster before GPU hours are spent on real weights.
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
SD2_UNET = {
    **SD15_UNET,
    "attention_head_dim": (5, 10, 20, 20),
    "use_linear_projection": True,
    "cross_attention_dim": 1024,
}
OPENCLIP_H = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 23,
    "num_attention_heads": 16,
}
SDXL_UNET = {
    "sample_size": 128,
    "out_channels": 4,
    "block_out_channels": (320, 640, 1280),
    "layers_per_block": 2,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "transformer_layers_per_block": (1, 2, 10),
    "attention_head_dim": (5, 10, 20),
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
SDXL_VAE = {**SD15_VAE, "sample_size": 1024, "scaling_factor": 0.13025}
OPENCLIP_BIG_G = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_hidden_layers": 32,
    "num_attention_heads": 20,
}
GEMMA2_2B = {  # Gemma-2-2B's shapes (Sana's text encoder), around the pipeline's own small vocabulary
    "hidden_size": 2304,
    "intermediate_size": 9216,
    "num_hidden_layers": 26,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 256,
}
# SD x4 upscaler (stabilityai/stable-diffusion-x4-upscaler) as diffusers' single-file converter maps its
# LDM config: a 7-channel UNet (4 latent + 3 low-resolution image) with the noise-level class embedding,
# self-attention only in its lowest block, and a 3-block VAE (x4) at the pipeline's 0.08333
X4_UPSCALER_UNET = {
    "sample_size": 128,
    "in_channels": 7,
    "out_channels": 4,
    "block_out_channels": (256, 512, 512, 1024),
    "layers_per_block": 2,
    "down_block_types": ("DownBlock2D",) + ("CrossAttnDownBlock2D",) * 3,
    "up_block_types": ("CrossAttnUpBlock2D",) * 3 + ("UpBlock2D",),
    "cross_attention_dim": 1024,
    "attention_head_dim": 8,
    "use_linear_projection": True,
    "only_cross_attention": (True, True, True, False),
    "num_class_embeds": 1000,
}
X4_UPSCALER_VAE = {
    "sample_size": 512,
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ("DownEncoderBlock2D",) * 3,
    "up_block_types": ("UpDecoderBlock2D",) * 3,
    "block_out_channels": (128, 256, 512),
    "layers_per_block": 2,
    "latent_channels": 4,
    "scaling_factor": 0.08333,
}
RANDOM_BASES = ("sd15", "sd2", "sdxl", "sana")  # models.base: <name>-random
ARCHITECTURES = {
    "sd15": "stable-diffusion-v1-5",
    "sd2": "stable-diffusion-2-base",
    "sdxl": "stable-diffusion-xl-base-1.0",
    "sana": "Sana_1600M_1024px",
    "x4-upscaler": "stable-diffusion-x4-upscaler",
}


def sd15_unet(in_channels: int = 4):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(in_channels=in_channels, **SD15_UNET)


def sd15_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(**SD15_VAE)


def clip_text_encoder(tokenizer, shape: dict, projection_dim: int, activation: str, pooled: bool = False):
    """A CLIP text encoder of `shape` around the pipeline's tokenizer (`pooled`: with projection, SDXL's
    second encoder)."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        projection_dim=projection_dim,
        hidden_act=activation,
        **shape,
    )
    return (CLIPTextModelWithProjection if pooled else CLIPTextModel)(config)


def clip_l_text_encoder(tokenizer):
    return clip_text_encoder(tokenizer, CLIP_L, 768, "quick_gelu")


def random_components(family: str, vendors: list[str], seed: int = 0, in_channels: int = 4) -> Components:
    """Random true-size components of `family` (sd15, sd2, sdxl) around the pipeline's tokenizer, fp32."""
    from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel

    from mame.models.families import TextEncoders

    if family not in RANDOM_BASES:
        raise ValueError(f"random base {family!r} unknown; expected one of {', '.join(RANDOM_BASES)}")
    torch.manual_seed(seed)
    if family == "sana":
        return sana_components(vendors)
    tokenizer = build_tokenizer(prompt_corpus(vendors))
    scheduler = DDPMScheduler(**SD_SCHEDULER)
    if family == "sd15":
        return Components(
            tokenizer, clip_l_text_encoder(tokenizer), sd15_vae(), sd15_unet(in_channels), scheduler
        )
    if family == "sd2":
        encoder = clip_text_encoder(tokenizer, OPENCLIP_H, 512, "gelu")
        unet = UNet2DConditionModel(in_channels=in_channels, **SD2_UNET)
        return Components(tokenizer, encoder, sd15_vae(), unet, scheduler)
    encoders = TextEncoders(
        [
            clip_text_encoder(tokenizer, CLIP_L, 768, "quick_gelu"),
            clip_text_encoder(tokenizer, OPENCLIP_BIG_G, 1280, "gelu", pooled=True),
        ]
    )
    unet = UNet2DConditionModel(in_channels=in_channels, **SDXL_UNET)
    return Components(
        (tokenizer, tokenizer), encoders, AutoencoderKL(**SDXL_VAE), unet, scheduler, family="sdxl"
    )


def sana_components(vendors: list[str]) -> Components:
    """Sana 1.6B at 1024 px: diffusers' default SanaTransformer2DModel (20 layers, 2240 wide) and
    AutoencoderDC (f32c32), a Gemma-2-2B-shaped encoder, DPM-Solver on flow sigmas (the caller seeds)."""
    from diffusers import AutoencoderDC, DPMSolverMultistepScheduler, SanaTransformer2DModel
    from transformers import Gemma2Config, Gemma2Model

    from mame.models.components import SANA_SCHEDULER
    from mame.models.tokenizer import build_gemma_tokenizer

    tokenizer = build_gemma_tokenizer(prompt_corpus(vendors))
    encoder = Gemma2Model(
        Gemma2Config(
            vocab_size=len(tokenizer),
            max_position_embeddings=8192,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            bos_token_id=tokenizer.bos_token_id,
            **GEMMA2_2B,
        )
    )
    with torch.device("cpu"):  # its tables are data even where the models are built on the meta device
        scheduler = DPMSolverMultistepScheduler(**{**SANA_SCHEDULER, "flow_shift": 3.0})
    transformer = SanaTransformer2DModel(sample_size=32)  # 1024 px / 32
    return Components(tokenizer, encoder, AutoencoderDC(), transformer, scheduler, family="sana")


def x4_upscaler_components(vendors: list[str], seed: int = 0) -> Components:
    """Random SD-x4-upscaler-size components around the pipeline's tokenizer: OpenCLIP-H's shape (the
    upscaler's penultimate-layer encoder), its UNet, VAE and schedules (fp32, on the current device)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    from mame.models.upscaler import upscaler_schedulers

    torch.manual_seed(seed)
    tokenizer = build_tokenizer(prompt_corpus(vendors))
    with torch.device("cpu"):  # scheduler tables are data even where the models are built on meta
        scheduler, extra = upscaler_schedulers()
    return Components(
        tokenizer,
        clip_text_encoder(tokenizer, OPENCLIP_H, 512, "gelu"),
        AutoencoderKL(**X4_UPSCALER_VAE),
        UNet2DConditionModel(**X4_UPSCALER_UNET),
        scheduler,
        extra=extra,
    )


def build_random_upscaler(output: str | Path, vendors: list[str], seed: int = 0) -> dict:
    """Write the random true-size x4 upscaler (`StableDiffusionUpscalePipeline`): the rehearsal's
    super-resolution base, so that its training and tiled upscaling run at the real model's size."""
    components = x4_upscaler_components(vendors, seed)
    save_pipeline(components, output, upscaling=True)
    summary = {
        "architecture": ARCHITECTURES["x4-upscaler"],
        "weights": "random",
        "seed": seed,
        "parameters": {
            name: sum(p.numel() for p in getattr(components, name).parameters())
            for name in ("unet", "text_encoder", "vae")
        },
    }
    (Path(output) / "random_base.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def sd15_components(vendors: list[str], seed: int = 0, in_channels: int = 4) -> Components:
    """Random SD-1.5-size components around the pipeline's tokenizer (fp32, on the CPU)."""
    return random_components("sd15", vendors, seed, in_channels)


def build_random_base(
    family: str, output: str | Path, inpainting_output: str | Path, vendors: list[str], seed: int = 0
) -> dict:
    """Write the random true-size text-to-image pipeline of `family` and its 9-channel inpainting twin."""
    components = random_components(family, vendors, seed)
    save_pipeline(components, output)
    if (
        family == "sana"
    ):  # no inpainting pipeline: the folder holds the text-to-image one, refused for lesions
        save_pipeline(components, inpainting_output)
    else:
        components.unet = widen_conv_in(components.unet, 9)
        save_pipeline(components, inpainting_output, inpainting=True)
    parameters = {
        name: sum(p.numel() for p in getattr(components, name).parameters())
        for name in ("unet", "text_encoder", "vae")
    }
    summary = {
        "architecture": ARCHITECTURES[family],
        "weights": "random",
        "seed": seed,
        "parameters": parameters,
    }
    for folder in (output, inpainting_output):
        (Path(folder) / "random_base.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary
