"""Sampling from a fine-tuned model: one seed per image, DPM-Solver multistep, grey output, the
guidance-scale sweep."""

from __future__ import annotations

import numpy as np
import torch

from mame.shapes import as_shape


def load_pipeline(path: str, inpainting: bool = False, device: str | None = None):
    """The base family's plain diffusers pipeline with the DPM-Solver multistep scheduler, on GPU (fp16)
    when there is one; an SDXL model keeps the micro-conditioning it was trained with."""
    from diffusers import DPMSolverMultistepScheduler

    from mame.models.families import family_of, remember_call_arguments

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device == "cuda" else torch.float32
    family = family_of(path)
    extra = {"safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    pipeline = family.pipeline_class(inpainting).from_pretrained(
        path, dtype=dtype, **(extra if family.name == "sd" else {})
    )
    pipeline.scheduler = DPMSolverMultistepScheduler.from_config(pipeline.scheduler.config)
    pipeline.set_progress_bar_config(disable=True)
    remember_call_arguments(pipeline, path)
    return pipeline.to(device)


def output_shape(pipeline) -> tuple[int, int]:
    """(height, width) a pipeline generates at: the denoiser's sample size (a side or [h, w]) x the
    autoencoder's factor (Sana's denoiser is its transformer)."""
    from mame.models.components import config_shape

    denoiser = getattr(pipeline, "unet", None) or pipeline.transformer
    return config_shape(denoiser.config, pipeline.vae.config)


def quantise(unit: np.ndarray, bit_depth: int = 8) -> np.ndarray:
    """Float values in [0, 1] -> uint8 or uint16 over the full range of the bit depth."""
    if bit_depth not in (8, 16):
        raise ValueError(f"bit_depth must be 8 or 16, got {bit_depth}")
    top = 2**bit_depth - 1
    return np.round(np.clip(unit, 0, 1) * top).astype(np.uint8 if bit_depth == 8 else np.uint16)


@torch.no_grad()
def generate(
    pipeline,
    prompts: list[str],
    seeds: list[int],
    guidance: float = 7.0,
    steps: int = 20,
    negative_prompt: str | None = None,
    resolution: int | tuple[int, int] | None = None,
    mirror: list[bool] | None = None,
    bit_depth: int = 8,
) -> list[np.ndarray]:
    """One grey image per (prompt, seed), uint8 or (bit_depth 16) uint16 quantised straight from the
    decoder's float output; `mirror[i]` flips image i (laterality R)."""
    if len(prompts) != len(seeds):
        raise ValueError(f"{len(prompts)} prompts but {len(seeds)} seeds")
    from mame.models.families import call_arguments

    height, width = as_shape(resolution) if resolution else output_shape(pipeline)
    generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    negative = {"negative_prompt": [negative_prompt] * len(prompts)} if negative_prompt else {}
    images = pipeline(
        prompts,
        **call_arguments(pipeline),
        **negative,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=generators,
        height=height,
        width=width,
        output_type="np",
    ).images
    grey = [quantise(image.mean(axis=-1), bit_depth) for image in images]
    flips = mirror or [False] * len(grey)
    return [image[:, ::-1].copy() if flip else image for image, flip in zip(grey, flips, strict=True)]


def sweep(
    pipeline,
    prompts: list[str],
    guidance_scales: list[float],
    images_per_prompt: int,
    out_dir: str,
    seed: int = 0,
    steps: int = 20,
    negative_prompt: str | None = None,
    batch_size: int = 16,
    model: str = "",
    mirror: list[bool] | None = None,
    bit_depth: int = 8,
) -> list[dict]:
    """The guidance-scale sweep: for every prompt and scale, `images_per_prompt` images;
    `mirror[p]` flips every image of prompt p (laterality R).

    Image i of every (prompt, scale) uses seed `seed + i`: the same starting noise across scales and
    prompts, so a column of the sweep grid shows one noise under changing guidance.
    """
    from pathlib import Path

    from PIL import Image
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    jobs = [
        (p, g, start)
        for p in range(len(prompts))
        for g in guidance_scales
        for start in range(0, images_per_prompt, batch_size)
    ]
    for prompt_index, guidance, start in tqdm(jobs, desc=f"sample {model}", unit="batch", disable=None):
        count = min(batch_size, images_per_prompt - start)
        seeds = [seed + start + i for i in range(count)]
        images = generate(
            pipeline,
            [prompts[prompt_index]] * count,
            seeds,
            guidance=guidance,
            steps=steps,
            negative_prompt=negative_prompt,
            mirror=[bool(mirror and mirror[prompt_index])] * count,
            bit_depth=bit_depth,
        )
        for i, (image, image_seed) in enumerate(zip(images, seeds, strict=True)):
            name = f"p{prompt_index:02d}_g{guidance:g}_{start + i:03d}.png"
            Image.fromarray(image).save(out / name)
            rows.append(
                {
                    "model": model,
                    "prompt": prompts[prompt_index],
                    "prompt_index": prompt_index,
                    "guidance": guidance,
                    "seed": image_seed,
                    "steps": steps,
                    "negative_prompt": negative_prompt or "",
                    "file": str(out / name),
                }
            )
    return rows
