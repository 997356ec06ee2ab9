"""The one model loader, and the tiny Stable-Diffusion-architecture base the demo builds itself.

Every stage (training, sampling, GUI) gets its components from `resolve_model` + `load_components`,
whether the directory holds the demo's tiny model or stable-diffusion-v1-5. The tiny model has SD's
architecture at a small width: a VAE with downsampling factor 8 and 4 latent channels, a UNet with
cross-attention, a CLIP text encoder and a CLIP BPE tokenizer, saved with `save_pretrained` so
plain diffusers loads it.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mame.shapes import as_shape, scaled

log = logging.getLogger(__name__)

SD_SCHEDULER = {  # SD 1.x noise schedule
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "prediction_type": "epsilon",
    "steps_offset": 1,
    "clip_sample": False,
}


TINY_FAMILIES = ("sd1", "sd2", "sdxl", "sana")
SDXL_TIME_EMBED = 8  # the tiny SDXL's addition_time_embed_dim (SDXL's own: 256)
SANA_LATENT_CHANNELS = 16  # the tiny DC-AE's (Sana's own: 32)
SANA_SCHEDULER = {  # Sana's sampler: DPM-Solver on flow sigmas; the trainer draws its noise levels alike
    "num_train_timesteps": 1000,
    "prediction_type": "flow_prediction",
    "use_flow_sigmas": True,
    "flow_shift": 1.0,  # the tiny twin's; more noise at higher resolutions (sana-random: 3.0)
}


@dataclass(frozen=True)
class TinySpec:
    """Widths of the tiny model. Defaults are tuned for 128 px on a 2-core CPU (see bench/README.md)."""

    resolution: int | tuple[int, int] = 128  # a side, or (height, width) for non-square images
    vae_channels: tuple[int, ...] = (16, 32, 64, 64)  # 4 blocks -> 3 downsamplings -> factor 8, like SD
    unet_channels: tuple[int, ...] = (64, 128, 128)
    unet_layers_per_block: int = 1
    attention_head_dim: int = 8
    text_hidden: int = 64
    text_layers: int = 2
    text_heads: int = 4
    # tokens per prompt: CLIP pads to 77, the demo's prompts need at most 15; every cross-attention reads
    # them all, so 32 makes the tiny model's training step 1.14x faster (bench/README.md)
    text_length: int = 32
    seed: int = 0
    family: str = "sd1"  # sd1, sd2 (OpenCLIP-style encoder, linear attention projections), sdxl or sana
    prediction_type: str = "epsilon"  # or v_prediction (as stable-diffusion-2-1)

    def __post_init__(self) -> None:
        if self.family not in TINY_FAMILIES:
            known = ", ".join(TINY_FAMILIES)
            raise ValueError(f"tiny family {self.family!r} unknown; expected one of {known}")
        if self.prediction_type not in ("epsilon", "v_prediction"):
            raise ValueError(f"prediction_type {self.prediction_type!r}: expected epsilon or v_prediction")
        if not isinstance(self.resolution, int):  # a config's [h, w] list: kept as a hashable tuple
            object.__setattr__(self, "resolution", tuple(int(v) for v in self.resolution))
        if any(side % 8 for side in as_shape(self.resolution)):
            raise ValueError(f"resolution {self.resolution} must be a multiple of 8 (the VAE's factor)")

    def sample_size(self, factor: int = 1) -> int | list[int]:
        """diffusers' sample_size at 1/factor of the pixels: an int when square, [h, w] otherwise."""
        height, width = as_shape(self.resolution)
        return height // factor if height == width else [height // factor, width // factor]


@dataclass
class Components:
    tokenizer: object
    text_encoder: torch.nn.Module
    vae: torch.nn.Module
    unet: torch.nn.Module
    noise_scheduler: object
    path: str = ""
    extra: dict = field(default_factory=dict)
    family: str = "sd"  # mame.models.families: "sd" (1.x and 2.x) or "sdxl"; unet is the denoiser


# --- resolving a `models.base` setting -------------------------------------------------------------


def resolve_model(setting: str, key: str = "models.base") -> str:
    """A local pipeline directory as is; a hub id from the local cache (or the hub when online).

    Raises ValueError naming `key` when the model cannot be found without a network.
    """
    path = Path(setting).expanduser()
    if path.is_dir():
        if not (path / "model_index.json").exists() and not (path / "unet").is_dir():
            raise ValueError(f"{key}: {path} is not a diffusers pipeline directory (no model_index.json)")
        return str(path)
    if setting.startswith((".", "/", "~")) or os.sep in setting.strip("/").replace("/", "", 1):
        raise ValueError(f"{key}: directory {setting!r} does not exist")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
    try:
        return snapshot_download(setting, local_files_only=offline)
    except LocalEntryNotFoundError:
        raise ValueError(
            f"{key}: {setting!r} is neither a local directory nor in the Hugging Face cache, and the hub "
            "cannot be reached; download it on a connected machine (huggingface-cli download) or point "
            f"{key} at a local copy"
        ) from None
    except Exception as err:  # noqa: BLE001 - network errors come in many types
        raise ValueError(
            f"{key}: could not fetch {setting!r} from the hub ({type(err).__name__}: {err})"
        ) from None


def load_components(path: str, dtype: torch.dtype = torch.float32) -> Components:
    """Tokenizer(s), text encoder(s), autoencoder, denoiser and training scheduler from a pipeline directory
    of any base family (SDXL's two tokenizers come as a tuple, its two encoders as one TextEncoders; Sana's
    transformer is `unet`, the denoiser)."""
    from mame.models.families import load_family_components

    return Components(path=path, **load_family_components(path, dtype))


def latent_scale(vae) -> int:
    """Pixels per latent pixel, from the autoencoder's own depth (not a hard-coded 8)."""
    from mame.models.families import latent_factor

    return latent_factor(vae.config)


def record_shape(unet, vae, shape: int | tuple[int, int], inpainting: bool = False) -> None:
    """Write the pixel shape a model generates at into its configs, the form plain diffusers loads:
    the VAE's sample_size [h, w] (a side when square), the text-to-image UNet's sample_size [h, w] / 8,
    and for inpainting UNets an integer (diffusers' inpainting pipeline compares it with 64). A DC-AE
    (Sana) has no sample_size: its transformer's side is the record."""
    height, width = as_shape(shape)
    factor = latent_scale(vae)
    square = height == width
    if "sample_size" in vae.config:
        vae.register_to_config(sample_size=height if square else [height, width])
    latent = height // factor if square or inpainting else [height // factor, width // factor]
    unet.register_to_config(sample_size=latent)


def config_shape(unet_config, vae_config) -> tuple[int, int]:
    """(height, width) a model generates at, from its configs (dicts or diffusers configs): the VAE's
    [h, w] when it records one (non-square models, record_shape), else the UNet's sample size x the
    VAE factor."""

    def get(config, key):
        return config[key] if isinstance(config, dict) else getattr(config, key)

    from mame.models.families import latent_factor

    vae_size = (
        vae_config.get("sample_size")
        if isinstance(vae_config, dict)
        else getattr(vae_config, "sample_size", None)
    )
    if isinstance(vae_size, (list, tuple)):
        return int(vae_size[0]), int(vae_size[1])
    return scaled(get(unet_config, "sample_size"), latent_factor(vae_config))


# --- the tiny base ---------------------------------------------------------------------------------


def tiny_vae(spec: TinySpec, latent_channels: int = 4):
    from diffusers import AutoencoderKL

    blocks = len(spec.vae_channels)
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * blocks,
        up_block_types=("UpDecoderBlock2D",) * blocks,
        block_out_channels=spec.vae_channels,
        layers_per_block=1,
        latent_channels=latent_channels,
        norm_num_groups=min(8, math.gcd(*spec.vae_channels)),
        sample_size=spec.sample_size(),
    )


def tiny_dc_ae(spec: TinySpec):
    """Sana's deep-compression autoencoder at the tiny width: residual stages, then EfficientViT (linear
    attention) stages, one downsampling per stage after the first (4 stages: factor 8; Sana's 6: 32)."""
    from diffusers import AutoencoderDC

    blocks = len(spec.vae_channels)
    kinds = ("ResBlock",) * (blocks // 2) + ("EfficientViTBlock",) * (blocks - blocks // 2)
    scales = ((),) * (blocks // 2) + ((5,),) * (blocks - blocks // 2)
    return AutoencoderDC(
        in_channels=3,
        latent_channels=SANA_LATENT_CHANNELS,
        attention_head_dim=8,
        encoder_block_types=kinds,
        decoder_block_types=kinds,
        encoder_block_out_channels=spec.vae_channels,
        decoder_block_out_channels=spec.vae_channels,
        encoder_layers_per_block=(1,) * blocks,
        decoder_layers_per_block=(1,) * blocks,
        encoder_qkv_multiscales=scales,
        decoder_qkv_multiscales=scales,
    )


def tiny_sana_transformer(spec: TinySpec):
    """Sana's linear-attention DiT at the tiny width, cross-attending to the tiny Gemma's states."""
    from diffusers import SanaTransformer2DModel

    heads = spec.text_heads
    return SanaTransformer2DModel(
        in_channels=SANA_LATENT_CHANNELS,
        out_channels=SANA_LATENT_CHANNELS,
        num_attention_heads=heads,
        attention_head_dim=spec.unet_channels[0] // heads,
        num_layers=len(spec.unet_channels) * spec.unet_layers_per_block,
        num_cross_attention_heads=heads,
        cross_attention_head_dim=spec.unet_channels[0] // heads,
        cross_attention_dim=spec.unet_channels[0],
        caption_channels=spec.text_hidden,
        sample_size=as_shape(spec.resolution)[0] // 2 ** (len(spec.vae_channels) - 1),
        patch_size=1,
    )


def tiny_gemma(spec: TinySpec, tokenizer):
    """A small Gemma-2 text encoder (Sana's family), kept frozen in training."""
    from transformers import Gemma2Config, Gemma2Model

    config = Gemma2Config(
        vocab_size=len(tokenizer),
        hidden_size=spec.text_hidden,
        intermediate_size=spec.text_hidden * 2,
        num_hidden_layers=spec.text_layers,
        num_attention_heads=spec.text_heads,
        num_key_value_heads=1,
        head_dim=spec.text_hidden // spec.text_heads,
        max_position_embeddings=512,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    return Gemma2Model(config)


def tiny_unet(
    spec: TinySpec,
    in_channels: int = 4,
    class_embeds: int | None = None,
    factor: int = 8,
    out_channels: int = 4,
):
    """The tiny denoiser of the spec's family: SD 1's block layout; SD 2's linear attention projections;
    SDXL's attention-free first block, linear projections and text-and-size added conditioning.
    `class_embeds`: an upscaler's embedding of its input's noise level (SD x4 upscaler's: 1000)."""
    from diffusers import UNet2DConditionModel

    depth = len(spec.unet_channels)
    latent = spec.sample_size(factor)
    layout = {
        "down_block_types": ("CrossAttnDownBlock2D",) * (depth - 1) + ("DownBlock2D",),
        "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * (depth - 1),
    }
    if spec.family == "sd2":
        layout["use_linear_projection"] = True
    if spec.family == "sdxl":
        layout = {
            "down_block_types": ("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (depth - 1),
            "up_block_types": ("CrossAttnUpBlock2D",) * (depth - 1) + ("UpBlock2D",),
            "use_linear_projection": True,
            "addition_embed_type": "text_time",
            "addition_time_embed_dim": SDXL_TIME_EMBED,
            "projection_class_embeddings_input_dim": SDXL_TIME_EMBED * 6 + spec.text_hidden // 2,
        }
    return UNet2DConditionModel(
        # an inpainting UNet (9 channels) keeps an integer: diffusers' inpainting pipeline needs one;
        # the VAE's [h, w] records the shape (record_shape)
        sample_size=latent[0] if in_channels != 4 and isinstance(latent, list) else latent,
        in_channels=in_channels,
        out_channels=out_channels,
        block_out_channels=spec.unet_channels,
        layers_per_block=spec.unet_layers_per_block,
        cross_attention_dim=spec.text_hidden,
        attention_head_dim=spec.attention_head_dim,
        # GroupNorm needs a divisor of every width: at most 32 groups (SD), 16 for widths of 48 and 96
        norm_num_groups=math.gcd(32, *spec.unet_channels),
        num_class_embeds=class_embeds,
        **layout,
    )


def tiny_text_encoder(spec: TinySpec, tokenizer, hidden: int | None = None, projection: bool = False):
    """A small CLIP text encoder (SD 2's: GELU, as OpenCLIP; `projection`: SDXL's second, pooled one)."""
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    hidden = hidden or spec.text_hidden
    config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 4,
        num_hidden_layers=spec.text_layers,
        num_attention_heads=spec.text_heads,
        max_position_embeddings=tokenizer.model_max_length,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        projection_dim=hidden,
        hidden_act="quick_gelu" if spec.family == "sd1" else "gelu",
    )
    return (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)


def tiny_text_components(spec: TinySpec, tokenizer, corpus: list[str] | None = None) -> dict:
    """Tokenizer(s), text encoder(s) and family of a tiny base: SDXL's two encoders split the width; Sana
    gets a Gemma-format tokenizer of the `corpus` words and a tiny Gemma-2."""
    from mame.models.families import TextEncoders

    if spec.family == "sana":
        from mame.models.tokenizer import build_gemma_tokenizer

        gemma = build_gemma_tokenizer(corpus or [])
        return {"tokenizer": gemma, "text_encoder": tiny_gemma(spec, gemma), "family": "sana"}
    if spec.family != "sdxl":
        return {"tokenizer": tokenizer, "text_encoder": tiny_text_encoder(spec, tokenizer), "family": "sd"}
    half = spec.text_hidden // 2
    encoders = TextEncoders(
        [tiny_text_encoder(spec, tokenizer, half), tiny_text_encoder(spec, tokenizer, half, projection=True)]
    )
    return {"tokenizer": (tokenizer, tokenizer), "text_encoder": encoders, "family": "sdxl"}


def widen_conv_in(unet, in_channels: int = 9):
    """A text-to-image UNet made into an inpainting UNet: conv_in gains zero-initialised channels.

    With the new weights at zero the widened UNet first behaves exactly like the original on the
    noisy latent, and learns to use the mask and the masked image during training.
    """
    from diffusers import UNet2DConditionModel

    old = unet.conv_in
    config = dict(unet.config)
    config["in_channels"] = in_channels
    widened = UNet2DConditionModel.from_config(config)
    widened.load_state_dict(
        {k: v for k, v in unet.state_dict().items() if not k.startswith("conv_in.")}, strict=False
    )
    with torch.no_grad():
        widened.conv_in.weight.zero_()
        widened.conv_in.weight[:, : old.in_channels] = old.weight
        widened.conv_in.bias.copy_(old.bias)
    return widened.to(dtype=old.weight.dtype)


def build_pipeline(components: Components, inpainting: bool = False, upscaling: bool = False):
    """The family's text-to-image, inpainting or upscaling pipeline over these components, with
    DPM-Solver multistep."""
    from mame.models.families import FAMILIES, pipeline_parts

    kind = FAMILIES[components.family].pipeline_class(inpainting, upscaling)
    return kind(**pipeline_parts(components, inpainting, upscaling))


def save_pipeline(
    components: Components, directory: str | Path, inpainting: bool = False, upscaling: bool = False
) -> Path:
    """Save as a diffusers pipeline directory (safetensors) that from_pretrained loads unaided."""
    directory = Path(directory)
    build_pipeline(components, inpainting, upscaling).save_pretrained(directory, safe_serialization=True)
    return directory
