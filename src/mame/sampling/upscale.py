"""Tiled super-resolution: any image size through an upscaler that sees one tile at a time.

The low-resolution image is cut into tiles that overlap by a fraction of the tile (MAMBO's patches
overlap by 1/8). Each tile is upscaled on its own, with its own seed. The results are blended with
weights that ramp linearly across the overlaps, so neighbouring tiles meet without a seam. The
upscaler's memory is that of one tile whatever the output size; only the output itself and its weight
sum grow with it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

log = logging.getLogger(__name__)
TileUpscaler = Callable[[np.ndarray, int], np.ndarray]  # (low tile in [0, 1], tile number) -> factor x tile


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile origins covering [0, length): a stride of tile - overlap, the last tile flush with the end."""
    if tile >= length:
        return [0]
    stride = max(1, tile - overlap)
    starts = list(range(0, length - tile, stride))
    return starts + [length - tile]


def ramp(length: int, overlap: int) -> np.ndarray:
    """1-D blend weights of a tile: rising linearly over `overlap` pixels at each end, 1 between, never 0."""
    weights = np.ones(length, np.float32)
    if overlap > 0:
        edge = (np.arange(overlap, dtype=np.float32) + 1) / (overlap + 1)
        weights[:overlap] = np.minimum(weights[:overlap], edge)
        weights[-overlap:] = np.minimum(weights[-overlap:], edge[::-1])
    return weights


def upscale_tiled(
    image: np.ndarray, upscaler: TileUpscaler, factor: int, tile: int, overlap: float = 0.125
) -> np.ndarray:
    """Upscale `image` (HxW float in [0, 1]) by `factor`, `tile` low-resolution pixels at a time, tiles
    overlapping by `overlap` of a tile; returns float32 (factor H, factor W)."""
    height, width = image.shape
    tile_h, tile_w = min(tile, height), min(tile, width)
    step = min(round(overlap * tile), tile - 1)
    rows, cols = tile_starts(height, tile_h, step), tile_starts(width, tile_w, step)
    output = np.zeros((height * factor, width * factor), np.float32)
    total = np.zeros_like(output)
    overlap_h = min(step, tile_h // 2) * factor if len(rows) > 1 else 0
    overlap_w = min(step, tile_w // 2) * factor if len(cols) > 1 else 0
    weights = np.outer(ramp(tile_h * factor, overlap_h), ramp(tile_w * factor, overlap_w))
    started, number = time.perf_counter(), 0
    for top in rows:
        for left in cols:
            low = image[top : top + tile_h, left : left + tile_w]
            high = np.asarray(upscaler(low, number), np.float32)
            if high.shape != (tile_h * factor, tile_w * factor):
                raise ValueError(
                    f"the upscaler returned {high.shape} for a {low.shape} tile; expected x{factor}"
                )
            y, x = top * factor, left * factor
            output[y : y + high.shape[0], x : x + high.shape[1]] += weights * high
            total[y : y + high.shape[0], x : x + high.shape[1]] += weights
            number += 1
    seconds = time.perf_counter() - started
    log.info(
        "upscaled %dx%d -> x%d in %d tiles (%.1f s, %.2f tiles/s)",
        height,
        width,
        factor,
        number,
        seconds,
        number / max(seconds, 1e-9),
    )
    return output / total


def pipeline_upscaler(
    pipeline,
    prompt: str,
    steps: int = 20,
    guidance: float = 0.0,
    noise_level: int = 20,
    seed: int = 0,
) -> TileUpscaler:
    """A tile upscaler over a `StableDiffusionUpscalePipeline`; tile k is seeded with (seed, k), so a
    result does not depend on what else was upscaled."""

    @torch.no_grad()
    def upscale(low: np.ndarray, number: int) -> np.ndarray:
        tensor = torch.from_numpy(np.repeat(low[None, None].astype(np.float32), 3, axis=1))
        result = pipeline(
            prompt=prompt,
            image=tensor,
            num_inference_steps=steps,
            guidance_scale=guidance,
            noise_level=noise_level,
            generator=torch.Generator().manual_seed(seed * 100_003 + number),
            output_type="np",
        ).images[0]
        return result.mean(axis=-1)

    return upscale


def load_upscaler(path: str, device: str | None = None):
    """A `StableDiffusionUpscalePipeline` directory, with DPM-Solver multistep, on GPU (fp16) when there
    is one."""
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionUpscalePipeline

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device == "cuda" else torch.float32
    pipeline = StableDiffusionUpscalePipeline.from_pretrained(path, dtype=dtype)
    pipeline.scheduler = DPMSolverMultistepScheduler.from_config(pipeline.scheduler.config)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline.to(device)


@dataclass(frozen=True)
class UpscaleSettings:
    """How the stage upscales (config superres: steps, guidance, noise_level, tile, overlap)."""

    steps: int = 10
    guidance: float = 0.0
    noise_level: int = 20
    tile: int = 32
    overlap: float = 0.125
    back_projection: int = 3  # iterations of back-projection onto the input (0: the upscaler's raw output)
    seed: int = 0

    @classmethod
    def from_config(cls, superres: dict, seed: int = 0) -> UpscaleSettings:
        keys = ("steps", "guidance", "noise_level", "tile", "overlap", "back_projection")
        return cls(**{key: superres[key] for key in keys}, seed=seed)


def back_project(upscaled: np.ndarray, low: np.ndarray, factor: int, iterations: int = 3) -> np.ndarray:
    """Iterative back-projection (Irani & Peleg, 1991): add the bicubic-enlarged residual between the
    input and the result's box-downsample, `iterations` times. The result then downsamples back to
    its input: the detail is the upscaler's, and the image at the input's resolution is the input's."""
    from mame.data.patches import box_downsample, enlarge

    out = np.asarray(upscaled, np.float32).copy()
    for _ in range(iterations):
        out += enlarge((low - box_downsample(out, factor)).astype(np.float32), factor)
    return np.clip(out, 0, 1)


def upscale_image(
    pipeline, image: np.ndarray, prompt: str, settings: UpscaleSettings, seed: int
) -> np.ndarray:
    """A grey uint8/uint16 (or [0, 1] float) image upscaled by the pipeline's factor, tiled, then
    back-projected onto it (`settings.back_projection` iterations); float32 in [0, 1]."""
    from mame.models.upscaler import upscale_factor

    low = image.astype(np.float32) / (np.iinfo(image.dtype).max if image.dtype.kind == "u" else 1.0)
    upscaler = pipeline_upscaler(
        pipeline, prompt, settings.steps, settings.guidance, settings.noise_level, seed=seed
    )
    factor = upscale_factor(pipeline.vae.config)
    raw = upscale_tiled(low, upscaler, factor, settings.tile, settings.overlap)
    return back_project(raw, low, factor, settings.back_projection) if settings.back_projection else raw


def chosen_samples(samples: pd.DataFrame, count: int, guidance: float) -> pd.DataFrame:
    """`count` samples at the sweep's scale nearest `guidance`: each prompt's first seed, in prompt order,
    then their second seeds, and so on."""
    if samples.empty or count == 0:
        return samples.iloc[0:0]
    scales = samples["guidance"].astype(float)
    nearest = scales.iloc[(scales - guidance).abs().argsort().iloc[0]]
    at = samples[scales == nearest].copy()
    at["rank"] = at.groupby("prompt_index")["seed"].rank(method="first")
    return at.sort_values(["rank", "prompt_index"]).head(count).drop(columns="rank")


def upscale_samples(
    pipeline,
    samples: pd.DataFrame,
    count: int,
    guidance: float,
    out_dir: str | Path,
    settings: UpscaleSettings,
) -> pd.DataFrame:
    """Upscale `chosen_samples` into `out_dir` as 16-bit PNGs; their rows with `source`, `file` (the full
    field), `factor` and `seconds`. Each is seeded by its sample's seed, so a result does not depend on
    which others were chosen."""
    from mame.io import read_pixels
    from mame.models.upscaler import upscale_factor
    from mame.sampling.sweep import quantise

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen = chosen_samples(samples, count, guidance)
    rows = []
    for number, row in enumerate(chosen.to_dict("records")):
        started = time.perf_counter()
        upscaled = upscale_image(
            pipeline, read_pixels(row["file"]), row["prompt"], settings, int(row["seed"])
        )
        target = out / f"{Path(row['file']).stem}_full.png"
        Image.fromarray(quantise(upscaled, 16)).save(target)
        seconds = time.perf_counter() - started
        rows.append(
            {
                **row,
                "source": row["file"],
                "file": str(target),
                "factor": upscale_factor(pipeline.vae.config),
                "height": upscaled.shape[0],
                "width": upscaled.shape[1],
                "seconds": round(seconds, 2),
            }
        )
        log.info(
            "upscaled sample %d/%d to %dx%d in %.1f s", number + 1, len(chosen), *upscaled.shape, seconds
        )
    return pd.DataFrame(rows)
