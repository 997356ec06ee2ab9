"""Distribution metrics at the full field: do upscaled samples and full-field lesions have the texture of
real full fields?

The domain encoder (mame.evaluation.encoder) sees whole images at 64 px, where nothing that
super-resolution or a full-resolution lesion adds is left. Here the same architecture is trained on real
full-field patches at their own resolution (`patch` px, not resized), each labelled with its image's
view, vendor and attribute, and FD, KID and PRDC (mame.evaluation.distribution, one n per table, with
redraw intervals and a real-vs-real floor) compare, against patches of the training full fields:
- patches of the upscaled samples (the upscaler);
- the same places of the same samples enlarged by bicubic and Lanczos interpolation (the baselines);
- held-out real full fields (the floor).
For full-field inpainting the sets are the painted boxes' crops, resized to the encoder's side, against
crops of real lesion boxes, with the healthy tissue at the same boxes before painting as the baseline.

Synthetic backgrounds are not exactly zero, so every set finds its patches with one rule: pixels above
TISSUE_LEVEL of the range are tissue, and a patch is taken where tissue fills MIN_TISSUE of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from PIL import Image

from mame.data.patches import INTERPOLATIONS, MIN_TISSUE, tissue_places, unit
from mame.evaluation.distribution import distribution_table
from mame.evaluation.encoder import TrainedEncoder, fit_encoder
from mame.evaluation.superres import interpolate
from mame.io import in_split, read_pixels

log = logging.getLogger(__name__)
TISSUE_LEVEL = 0.02
K = 5  # PRDC's neighbours, as the whole-image table uses
UPSCALER = "upscaler"
REAL_LESIONS = "real lesions"
INPAINTED = "inpainted lesions"
HEALTHY = "healthy tissue at the same boxes"


@dataclass(frozen=True)
class PatchSettings:
    patch: int  # full-field pixels per patch side, the encoder's input side
    per_image: int  # patches per image
    images: int  # real training (and held-out) full fields drawn for the encoder and the reference
    encoder_steps: int
    draws: int = 50
    seed: int = 0

    @classmethod
    def from_config(cls, block: dict, patch: int, draws: int, seed: int) -> PatchSettings:
        return cls(
            patch=int(block.get("patch") or patch),
            per_image=int(block["patches_per_image"]),
            images=int(block["images"]),
            encoder_steps=int(block["encoder_steps"]),
            draws=draws,
            seed=seed,
        )


def cut(image: np.ndarray, places: list[tuple[int, int]], patch: int) -> np.ndarray:
    """The `patch` px squares of a float image at `places` (top, left), as (n, patch, patch)."""
    if not places:
        return np.zeros((0, patch, patch), np.float32)
    return np.stack([image[t : t + patch, left : left + patch] for t, left in places]).astype(np.float32)


def real_patches(frame: pd.DataFrame, settings: PatchSettings, seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Patches of up to `settings.images` full fields of `frame` (shuffled by `seed`) and one label row
    (the image's view, vendor, area, density) per patch."""
    rng = np.random.default_rng(seed)
    frame = frame[frame["full_image"].fillna("").astype(str) != ""]
    frame = frame.sample(frac=1.0, random_state=seed).head(settings.images)
    patches, labels = [], []
    for _, row in frame.iterrows():
        pixels = read_pixels(row["full_image"])
        places = tissue_places(pixels, settings.patch, settings.per_image, rng, MIN_TISSUE, TISSUE_LEVEL)
        patches.append(cut(unit(pixels), places, settings.patch))
        labels += [row.to_dict()] * len(places)
    stacked = (
        np.concatenate(patches) if patches else np.zeros((0, settings.patch, settings.patch), np.float32)
    )
    return stacked, pd.DataFrame(labels)


def train_patch_encoder(patches: np.ndarray, labels: pd.DataFrame, settings: PatchSettings) -> TrainedEncoder:
    """The domain encoder's architecture trained on real full-field patches at their own side."""
    if len(patches) <= K:
        raise ValueError(
            f"the patch encoder needs more than {K} real full-field patches of {settings.patch} px; "
            f"found {len(patches)} (a smaller evaluation.full_field_distribution.patch or more images)"
        )
    inputs = torch.from_numpy(np.ascontiguousarray(patches[:, None]))
    return fit_encoder(inputs, labels.reset_index(drop=True), settings.encoder_steps, seed=settings.seed)


def upscaled_patch_sets(samples: pd.DataFrame, settings: PatchSettings, seed: int) -> dict[str, np.ndarray]:
    """Patches of the upscaled samples (rows of rule upscale_samples: `file` the full field, `source` the
    sample, `factor`) and, at the same places, of the samples enlarged by each interpolation."""
    rng = np.random.default_rng(seed)
    sets: dict[str, list[np.ndarray]] = {UPSCALER: [], **{name: [] for name in INTERPOLATIONS}}
    for row in samples.to_dict("records"):
        pixels = read_pixels(row["file"])
        places = tissue_places(pixels, settings.patch, settings.per_image, rng, MIN_TISSUE, TISSUE_LEVEL)
        sets[UPSCALER].append(cut(unit(pixels), places, settings.patch))
        low = unit(read_pixels(row["source"]))
        for name in INTERPOLATIONS:
            enlarged = interpolate(low, int(row["factor"]), name)
            padded = np.zeros(pixels.shape, np.float32)  # the upscaler's output shape, should they differ
            height, width = min(pixels.shape[0], enlarged.shape[0]), min(pixels.shape[1], enlarged.shape[1])
            padded[:height, :width] = enlarged[:height, :width]
            sets[name].append(cut(padded, places, settings.patch))
    empty = np.zeros((0, settings.patch, settings.patch), np.float32)
    return {name: np.concatenate(parts) if parts else empty for name, parts in sets.items()}


def box_crop(image: np.ndarray, box, side: int) -> np.ndarray:
    """The float image inside `box` (x1, y1, x2, y2, pixel edges) box-resized to side x side."""
    x1, y1, x2, y2 = (float(v) for v in box)
    top, left = max(0, int(np.floor(y1))), max(0, int(np.floor(x1)))
    bottom, right = min(image.shape[0], int(np.ceil(y2))), min(image.shape[1], int(np.ceil(x2)))
    crop = image[top : max(bottom, top + 1), left : max(right, left + 1)].astype(np.float32)
    return np.asarray(Image.fromarray(crop, mode="F").resize((side, side), Image.Resampling.BOX))


def real_lesion_crops(lesions: pd.DataFrame, side: int, split: str) -> np.ndarray:
    """Crops of every real lesion box of one split, mapped from the processed image onto its full field
    (`full_scale` full-field pixels per processed pixel)."""
    crops = []
    for _, row in in_split(lesions, split).iterrows():
        if not str(row.get("full_image", "") or ""):
            continue
        image = unit(read_pixels(row["full_image"]))
        scale = float(row["full_scale"])
        boxes = row["boxes"] if isinstance(row["boxes"], list) else _boxes(row["boxes"])
        for box in boxes:
            crops.append(box_crop(image, [v * scale for v in box], side))
    return np.stack(crops) if crops else np.zeros((0, side, side), np.float32)


def _boxes(text: str) -> list[list[float]]:
    import json

    return json.loads(text) if str(text).strip() else []


def painted_crops(painted: pd.DataFrame, side: int) -> dict[str, np.ndarray]:
    """Crops of the full-field inpainting results (rule inpaint_panels' full_field.csv rows) at their
    boxes, after and before painting."""
    sets = {INPAINTED: [], HEALTHY: []}
    for row in painted.to_dict("records"):
        box = row["full_box"] if isinstance(row["full_box"], list) else _boxes(row["full_box"])
        sets[INPAINTED].append(box_crop(unit(read_pixels(row["after"])), box, side))
        sets[HEALTHY].append(box_crop(unit(read_pixels(row["before"])), box, side))
    empty = np.zeros((0, side, side), np.float32)
    return {name: np.stack(parts) if parts else empty for name, parts in sets.items()}


def metric_table(
    encoder: TrainedEncoder,
    sets: dict[str, np.ndarray],
    reference: np.ndarray,
    floor: np.ndarray,
    settings: PatchSettings,
) -> pd.DataFrame:
    """FD, KID and PRDC of each set against `reference`, with the floor (`floor` against `reference`),
    one n for every row. Too few patches for PRDC's k neighbours: one row per set saying so, with n."""
    features = {name: encoder.embed_unit(patches) for name, patches in sets.items()}
    reference_features, floor_features = encoder.embed_unit(reference), encoder.embed_unit(floor)
    n = min([len(f) for f in features.values()] + [len(reference_features) // 2])
    if n <= K:
        log.warning("full-field distribution: n = %d patches is too few for k = %d neighbours", n, K)
        return pd.DataFrame(
            [{"method": name, "compared": "too few patches", "n": len(f)} for name, f in features.items()]
        )
    table = distribution_table(
        features,
        reference_features,
        floor_features,
        draws=settings.draws,
        seed=settings.seed,
        k=K,
        key="method",
    )
    return table


def superres_rows(
    encoder: TrainedEncoder,
    samples: dict[str, pd.DataFrame],
    reference: np.ndarray,
    holdout: np.ndarray,
    settings: PatchSettings,
) -> pd.DataFrame:
    """Per text-to-image model: its upscaled samples and their interpolations against real patches."""
    tables = []
    for model, frame in samples.items():
        sets = upscaled_patch_sets(frame, settings, settings.seed)
        log.info("full-field distribution, %s: %d upscaled-sample patches", model, len(sets[UPSCALER]))
        tables.append(
            metric_table(encoder, sets, reference, holdout, settings).assign(
                model=model, stage="super-resolution"
            )
        )
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def inpainting_rows(
    encoder: TrainedEncoder, painted: dict[str, pd.DataFrame], lesions: dict[str, pd.DataFrame], settings
) -> pd.DataFrame:
    """Per lesion model: its full-field boxes, and the healthy tissue there, against real lesion boxes."""
    tables = []
    for model, frame in painted.items():
        reference = real_lesion_crops(lesions[model], settings.patch, "train")
        floor = real_lesion_crops(lesions[model], settings.patch, "holdout")
        sets = painted_crops(frame, settings.patch)
        log.info(
            "full-field distribution, %s: %d painted boxes, %d real lesion boxes",
            model,
            len(frame),
            len(reference),
        )
        tables.append(
            metric_table(encoder, sets, reference, floor, settings).assign(model=model, stage="inpainting")
        )
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def full_field_table(superres: pd.DataFrame, inpainting: pd.DataFrame) -> pd.DataFrame:
    """Both stages' rows, stage and model first."""
    first = ["stage", "model", "method", "compared", "n"]
    table = pd.concat([superres, inpainting], ignore_index=True)
    if table.empty:
        return pd.DataFrame(columns=first)
    return table[first + [c for c in table.columns if c not in first]]
