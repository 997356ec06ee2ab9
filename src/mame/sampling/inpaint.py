"""Lesion inpainting as users expect it: new tissue inside the mask, the original image outside it.

Diffusers' inpainting pipeline returns a whole image decoded by the VAE, which alters every pixel a
little; pasting the original back outside the mask keeps the untouched breast exactly as it was.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
from PIL import Image

from mame.io import in_split
from mame.models.families import call_arguments
from mame.sampling.sweep import output_shape, quantise

log = logging.getLogger(__name__)


def composite(original: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Generated pixels where mask > 0.5, original pixels elsewhere (arrays of equal HxW[xC])."""
    if original.shape[:2] != generated.shape[:2] or original.shape[:2] != mask.shape[:2]:
        raise ValueError(
            f"shapes differ: image {original.shape}, generated {generated.shape}, mask {mask.shape}"
        )
    inside = mask > (0.5 if mask.dtype.kind == "f" else 127)
    if original.ndim == 3 and inside.ndim == 2:
        inside = inside[..., None]
    return np.where(inside, generated, original).astype(original.dtype)


def inpaint(
    pipeline,
    image: np.ndarray,
    mask: np.ndarray,
    prompt: str = "a mammogram with a lesion",
    negative_prompt: str | None = None,
    steps: int = 20,
    guidance: float = 7.0,
    seed: int = 0,
) -> np.ndarray:
    """Inpaint one grey image (HxW, uint8 or uint16) inside `mask` (HxW, 255 = lesion); returns an image
    of the same depth (the input reaches the VAE at full precision, as a float tensor)."""
    if not (mask > 127).any():
        raise ValueError("the mask is empty: draw the lesion region first")
    height, width = image.shape
    bits = 16 if image.dtype == np.uint16 else 8
    unit = image.astype(np.float32) / (2**bits - 1)
    tensor = torch.from_numpy(np.repeat(unit[None, None], 3, axis=1))  # (1, 3, h, w) in [0, 1]
    result = pipeline(
        **call_arguments(pipeline),
        prompt=prompt,
        negative_prompt=negative_prompt,
        image=tensor,
        mask_image=Image.fromarray(mask.astype(np.uint8)),
        height=height,
        width=width,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=torch.Generator().manual_seed(seed),
        output_type="np",
    ).images[0]
    return composite(image, quantise(result.mean(axis=-1), bits), mask)


def painting_backgrounds(healthy: pd.DataFrame, seed: int = 0) -> list[str]:
    """Healthy images to paint lesions into: the held-out ones, shuffled; tiny datasets that hold out no
    patient fall back to training images (with a warning in the log)."""
    holdout = in_split(healthy, "holdout").sample(frac=1.0, random_state=seed)
    if holdout.empty:
        log.warning("no held-out healthy image: painting lesions into training images instead")
        holdout = healthy.sample(frac=1.0, random_state=seed)
    return holdout["image"].tolist()


def inpaint_panels(
    pipeline,
    healthy: list[str],
    lesion_boxes: list[str],
    count: int,
    out_dir: str,
    seed: int = 0,
    prompt: str = "a mammogram with a lesion",
    steps: int = 20,
    guidance: float = 7.0,
) -> list[dict]:
    """Paint lesions into held-out healthy images at sampled boxes; save before / mask / after PNGs.

    Returns one row per panel with the box, the mean change inside it and the largest change outside
    it (0 by construction: the original is composited back).
    """
    from pathlib import Path

    from mame.data.lesions import BoxDistribution, box_mask, breast_region, place_box
    from mame.io import read_grey, read_pixels

    shape = output_shape(pipeline)
    with Image.open(healthy[0]) as first:
        source_shape = (first.height, first.width)
    distribution = BoxDistribution.from_manifest(lesion_boxes, source_shape)
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, path in enumerate(healthy[:count]):
        before = read_pixels(path, shape)  # painted at the data's own bit depth
        box = place_box(breast_region(read_grey(path, shape)), distribution, rng)
        mask = box_mask(before.shape, box)
        after = inpaint(
            pipeline, before, mask, prompt=prompt, steps=steps, guidance=guidance, seed=seed + number
        )
        names = {}
        for kind, array in (("before", before), ("mask", mask), ("after", after)):
            names[kind] = str(out / f"{number:03d}_{kind}.png")
            Image.fromarray(array).save(names[kind])
        inside = mask > 127
        difference = np.abs(after.astype(int) - before.astype(int))
        rows.append(
            {
                "source": Path(path).stem,
                "box": list(box),
                **names,
                "mean_change_inside": float(difference[inside].mean()),
                "max_change_outside": int(difference[~inside].max()) if (~inside).any() else 0,
            }
        )
    return rows
