"""Base families: what differs between SD 1.x/2.x, SDXL and Sana, so that one loader, trainer, sampler
and inpainter serve every base.

A family is detected from the pipeline class in `model_index.json`. What it decides is small and lives
here: which components a pipeline directory holds, how captions become the denoiser's conditioning
(one CLIP encoder's last hidden state for SD; two encoders' penultimate states, the second's pooled
embedding and the size-and-crop micro-conditioning for SDXL), how a caption is dropped for
classifier-free guidance (SDXL bases that zero the empty prompt's embedding are dropped to zeros, as
their pipeline samples), and which diffusers pipeline class saves and loads the result. SD 1.x and 2.x
share code: SD 2's OpenCLIP encoder and v-prediction scheduler are configuration, not code. Sana is a
flow-matching DiT: a Gemma-2 encoder (kept frozen; its masked last hidden state conditions), a
deterministic DC-AE, a transformer denoiser predicting the flow (noise - data), and no inpainting
pipeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from mame.shapes import TIME_ID_COLUMNS

MICRO_CONDITIONING = "micro_conditioning.json"  # beside an SDXL model: the size and crop it samples at


@dataclass(frozen=True)
class Family:
    """A base family: its diffusers pipeline classes and how many text encoders it conditions on."""

    name: str
    pipeline: str
    inpaint_pipeline: str | None
    text_encoders: int
    denoiser: str = "unet"  # the pipeline's folder (and keyword) of the denoiser
    flow: bool = False  # flow matching (Sana) rather than a DDPM noise schedule
    trains_text_encoder: bool = True  # the default of models.train.train_text_encoder
    upscale_pipeline: str | None = None  # a latent super-resolution pipeline (SD's x4 upscaler)

    def pipeline_class(self, inpainting: bool = False, upscaling: bool = False):
        """The plain diffusers class that saves and loads this family's pipelines."""
        import diffusers

        if upscaling:
            if self.upscale_pipeline is None:
                raise ValueError(f"the {self.name} family has no upscaling pipeline")
            return getattr(diffusers, self.upscale_pipeline)
        name = self.inpaint_pipeline if inpainting else self.pipeline
        if name is None:
            raise ValueError(f"the {self.name} family has no inpainting pipeline")
        return getattr(diffusers, name)


FAMILIES = {
    "sd": Family(
        "sd",
        "StableDiffusionPipeline",
        "StableDiffusionInpaintPipeline",
        1,
        upscale_pipeline="StableDiffusionUpscalePipeline",
    ),
    "sdxl": Family("sdxl", "StableDiffusionXLPipeline", "StableDiffusionXLInpaintPipeline", 2),
    "sana": Family("sana", "SanaPipeline", None, 1, "transformer", flow=True, trains_text_encoder=False),
}
SANA_SEQUENCE = 300  # SanaPipeline's max_sequence_length: captions are padded to it, masked beyond the text
_BY_CLASS = {
    name: family
    for family in FAMILIES.values()
    for name in (family.pipeline, family.inpaint_pipeline, family.upscale_pipeline)
    if name
}


def family_of(path: str | Path) -> Family:
    """The family of a pipeline directory, from its model_index.json (a bare unet/vae folder is SD)."""
    index = Path(path) / "model_index.json"
    if not index.exists():
        return FAMILIES["sd"]
    name = json.loads(index.read_text()).get("_class_name", "")
    if name not in _BY_CLASS:
        known = ", ".join(sorted(_BY_CLASS))
        raise ValueError(f"{path}: pipeline class {name!r} is not a supported base family ({known})")
    return _BY_CLASS[name]


def is_text_to_image(path: str | Path) -> bool:
    """Whether a pipeline directory holds a text-to-image model of any family (not an inpainting one)."""
    index = Path(path) / "model_index.json"
    if not index.exists():
        return False
    name = json.loads(index.read_text()).get("_class_name", "")
    return any(name == family.pipeline for family in FAMILIES.values())


class TextEncoders(torch.nn.ModuleList):
    """Several text encoders trained, checkpointed and unwrapped as one module (SDXL's two)."""


def text_encoder_list(text_encoder) -> list[torch.nn.Module]:
    return list(text_encoder) if isinstance(text_encoder, TextEncoders) else [text_encoder]


def tokenizer_list(tokenizer) -> list:
    return list(tokenizer) if isinstance(tokenizer, (list, tuple)) else [tokenizer]


def tokenize(tokenizer, captions: list[str], family: str = "sd") -> dict[str, torch.Tensor]:
    """Token ids of every caption and of the empty caption, per tokenizer: ids, empty, ids_2, empty_2;
    Sana's as its pipeline makes them (lower-cased, padded to 300, with attention masks)."""
    if family == "sana":
        settings = {"padding": "max_length", "max_length": SANA_SEQUENCE, "truncation": True}
        tokenizer.padding_side = "right"
        text = tokenizer([c.lower().strip() for c in captions], return_tensors="pt", **settings)
        empty = tokenizer([""], return_tensors="pt", **settings)
        return {
            "ids": text.input_ids,
            "mask": text.attention_mask,
            "empty": empty.input_ids[0],
            "empty_mask": empty.attention_mask[0],
        }
    tokens = {}
    for number, each in enumerate(tokenizer_list(tokenizer)):
        suffix = "" if number == 0 else f"_{number + 1}"
        settings = {"padding": "max_length", "max_length": each.model_max_length, "return_tensors": "pt"}
        tokens[f"ids{suffix}"] = each(captions, truncation=True, **settings).input_ids
        tokens[f"empty{suffix}"] = each([""], **settings).input_ids[0]
    return tokens


def zeroes_empty_prompt(components) -> bool:
    """Whether the base samples the empty prompt as zero embeddings (SDXL's force_zeros_for_empty_prompt)."""
    return components.family == "sdxl" and bool(components.extra.get("force_zeros_for_empty_prompt", True))


def condition(
    components, text_encoder, tokens: dict, index: torch.Tensor, dropped: torch.Tensor
) -> tuple[torch.Tensor, dict]:
    """The denoiser's text conditioning of a micro-batch: (encoder_hidden_states, added_cond_kwargs).

    `dropped` marks captions dropped for classifier-free guidance: they get the empty caption, or, for
    bases that sample the unconditional branch from zeros, zero embeddings.
    """
    if components.family == "sana":
        ids, mask = tokens["ids"][index].clone(), tokens["mask"][index].clone()
        ids[dropped], mask[dropped] = tokens["empty"], tokens["empty_mask"]
        return text_encoder(ids, attention_mask=mask)[0], {"encoder_attention_mask": mask}
    zeros = zeroes_empty_prompt(components)
    encoders = text_encoder_list(text_encoder)
    states, pooled = [], None
    for number, encoder in enumerate(encoders):
        suffix = "" if number == 0 else f"_{number + 1}"
        ids = tokens[f"ids{suffix}"][index].clone()
        if not zeros:
            ids[dropped] = tokens[f"empty{suffix}"]
        if components.family == "sd":
            states.append(encoder(ids)[0])
            continue
        output = encoder(ids, output_hidden_states=True)
        states.append(output.hidden_states[-2])
        if output[0].ndim == 2:  # the projection encoder's pooled embedding, as the SDXL pipeline takes it
            pooled = output[0]
    hidden = torch.cat(states, dim=-1)
    if components.family == "sd":
        return hidden, {}
    keep = (~dropped).to(hidden.dtype)
    if zeros:
        hidden = hidden * keep[:, None, None]
        pooled = pooled * keep[:, None]
    return hidden, {"text_embeds": pooled, "time_ids": tokens["time_ids"][index].to(hidden.dtype)}


def denoise(components, model, latents, timesteps, hidden, added: dict) -> torch.Tensor:
    """The denoiser's prediction: a UNet's noise (or v), Sana's transformer's flow."""
    if components.family == "sana":
        scale = model.config.timestep_scale if hasattr(model, "config") else 1.0
        return model(
            latents,
            encoder_hidden_states=hidden,
            encoder_attention_mask=added["encoder_attention_mask"],
            timestep=timesteps * scale,
            return_dict=False,
        )[0]
    added = dict(added)
    labels = added.pop("class_labels", None)  # an upscaler's noise level of its low-resolution input
    return model(latents, timesteps, hidden, class_labels=labels, added_cond_kwargs=added or None).sample


def encode_posterior(vae, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) of the autoencoder's latent: a KL VAE's posterior, or a DC-AE's latent with std 0."""
    output = vae.encode(images)
    if hasattr(output, "latent_dist"):
        return output.latent_dist.mean, output.latent_dist.std
    return output.latent, torch.zeros_like(output.latent)


def latent_factor(vae_config) -> int:
    """Pixels per latent pixel of an autoencoder config (a KL VAE's or a DC-AE's, dict or config)."""
    get = vae_config.get if isinstance(vae_config, dict) else lambda key: getattr(vae_config, key, None)
    blocks = get("block_out_channels") or get("encoder_block_out_channels")
    return 2 ** (len(blocks) - 1)


def time_ids(frame, resolution: tuple[int, int]) -> torch.Tensor:
    """SDXL's micro-conditioning per image: (original h, w, crop top, left, target h, w).

    For mammograms the original size is the detector's image and the crop is where the breast crop sits
    in it, both recorded by the conversion; a manifest without them conditions on the training size and
    no crop, as SDXL's fine-tuning script does for images it has not cropped.
    """
    height, width = resolution
    default = torch.tensor([height, width, 0, 0], dtype=torch.float64).expand(len(frame), 4)
    known = default
    if all(column in frame.columns for column in TIME_ID_COLUMNS):
        read = frame[list(TIME_ID_COLUMNS)].apply(pd.to_numeric, errors="coerce")
        values = torch.tensor(read.to_numpy(dtype="float64"))
        known = torch.where(values.isnan().any(dim=1, keepdim=True), default, values)
    target = torch.tensor([height, width], dtype=torch.float64).expand(len(frame), 2)
    return torch.cat([known, target], dim=1).float()


def sampling_conditioning(frame, resolution: tuple[int, int]) -> dict:
    """What an SDXL model is sampled at: the training images' most common original size, crop (0, 0)."""
    ids = time_ids(frame, resolution)
    values, counts = torch.unique(ids[:, :2], dim=0, return_counts=True)
    height, width = (int(v) for v in values[counts.argmax()])
    return {"original_size": [height, width], "crops_coords_top_left": [0, 0]}


def call_arguments(pipeline) -> dict:
    """Family-specific keyword arguments of a pipeline call: SDXL's recorded micro-conditioning; for Sana,
    the caption as trained (no prompt-enhancing instruction) at the asked size (no resolution binning)."""
    arguments = dict(getattr(pipeline, "mame_call_arguments", {}))
    if type(pipeline).__name__ == "SanaPipeline":
        arguments.update(use_resolution_binning=False, complex_human_instruction=None)
    return arguments


def remember_call_arguments(pipeline, path: str | Path) -> None:
    """Attach the micro-conditioning saved beside an SDXL model, so every call samples as it trained."""
    saved = Path(path) / MICRO_CONDITIONING
    if saved.exists():
        values = json.loads(saved.read_text())
        pipeline.mame_call_arguments = {k: tuple(v) for k, v in values.items()}


def pipeline_parts(components, inpainting: bool = False, upscaling: bool = False) -> dict:
    """The keyword arguments of the family's pipeline class for these components."""
    from diffusers import DPMSolverMultistepScheduler

    scheduler = DPMSolverMultistepScheduler.from_config(components.noise_scheduler.config)
    if upscaling:  # StableDiffusionUpscalePipeline: SD's parts, the low-resolution noise schedule
        return {
            "vae": components.vae,
            "text_encoder": components.text_encoder,
            "tokenizer": components.tokenizer,
            "unet": components.unet,
            "scheduler": scheduler,
            "low_res_scheduler": components.extra["low_res_scheduler"],
            "max_noise_level": components.extra["max_noise_level"],
            "safety_checker": None,
            "feature_extractor": None,
            "watermarker": None,
        }
    if components.family == "sana":
        return {
            "tokenizer": components.tokenizer,
            "text_encoder": components.text_encoder,
            "vae": components.vae,
            "transformer": components.unet,
            "scheduler": scheduler,
        }
    if components.family == "sd":
        return {
            "vae": components.vae,
            "text_encoder": components.text_encoder,
            "tokenizer": components.tokenizer,
            "unet": components.unet,
            "scheduler": scheduler,
            "safety_checker": None,
            "feature_extractor": None,
            "requires_safety_checker": False,
        }
    first, second = text_encoder_list(components.text_encoder)
    tokenizer, tokenizer_2 = tokenizer_list(components.tokenizer)
    parts = {
        "vae": components.vae,
        "text_encoder": first,
        "text_encoder_2": second,
        "tokenizer": tokenizer,
        "tokenizer_2": tokenizer_2,
        "unet": components.unet,
        "scheduler": scheduler,
        "force_zeros_for_empty_prompt": zeroes_empty_prompt(components),
    }
    if inpainting:
        parts["requires_aesthetics_score"] = False
    return parts


def clip_tokenizer(path: str, subfolder: str):
    """A pipeline's CLIP tokenizer at its saved length (the tiny bases' 32, SD's 77); CLIP's 77 where the
    saved config names none (transformers then reports an unbounded length)."""
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(path, subfolder=subfolder)
    if tokenizer.model_max_length > 100_000:
        tokenizer.model_max_length = 77
    return tokenizer


def load_family_components(path: str, dtype: torch.dtype = torch.float32) -> dict:
    """Every component of a pipeline directory of any family, as keyword arguments of Components."""
    import diffusers
    from transformers import (
        AutoModel,
        AutoTokenizer,
        CLIPTextModel,
        CLIPTextModelWithProjection,
    )

    family = family_of(path)
    index = (
        json.loads((Path(path) / "model_index.json").read_text())
        if (Path(path) / "model_index.json").exists()
        else {}
    )

    def diffusers_part(folder: str, default: str):
        kind = getattr(diffusers, index.get(folder, ["diffusers", default])[1])
        return kind.from_pretrained(path, subfolder=folder, torch_dtype=dtype)

    parts = {
        "vae": diffusers_part("vae", "AutoencoderKL"),
        "unet": diffusers_part(family.denoiser, "UNet2DConditionModel"),
        "family": family.name,
        "extra": {},
    }
    scheduler = diffusers.DPMSolverMultistepScheduler if family.flow else diffusers.DDPMScheduler
    parts["noise_scheduler"] = scheduler.from_pretrained(path, subfolder="scheduler")
    if family.name == "sana":
        parts["tokenizer"] = AutoTokenizer.from_pretrained(path, subfolder="tokenizer")
        parts["text_encoder"] = AutoModel.from_pretrained(path, subfolder="text_encoder", dtype=dtype)
        return parts
    tokenizer = clip_tokenizer(path, "tokenizer")
    text_encoder = CLIPTextModel.from_pretrained(path, subfolder="text_encoder", dtype=dtype)
    if family.name == "sd":
        if "low_res_scheduler" in index:  # an upscaler
            parts["extra"] = {
                "low_res_scheduler": diffusers.DDPMScheduler.from_pretrained(
                    path, subfolder="low_res_scheduler"
                ),
                "max_noise_level": int(index.get("max_noise_level", 350)),
            }
        return {**parts, "tokenizer": tokenizer, "text_encoder": text_encoder}
    tokenizer_2 = clip_tokenizer(path, "tokenizer_2")
    encoder_2 = CLIPTextModelWithProjection.from_pretrained(path, subfolder="text_encoder_2", dtype=dtype)
    return {
        **parts,
        "tokenizer": (tokenizer, tokenizer_2),
        "text_encoder": TextEncoders([text_encoder, encoder_2]),
        "extra": {"force_zeros_for_empty_prompt": index.get("force_zeros_for_empty_prompt", True)},
    }
