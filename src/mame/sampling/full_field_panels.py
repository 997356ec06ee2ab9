"""Lesions painted into held-out full-field mammograms: the full-resolution half of rule inpaint_panels.

A box is placed on the lesion model's canvas, as the model-resolution panels place theirs, and mapped
exactly to the full-field product (`scale_box`). `mame.sampling.full_field.paint_full_field` then
paints it, and every pixel outside the dilated box keeps its original value. Each result is written as
a 16-bit PNG, with what its DICOM export needs (`mame.export.full_field`): the full-field pixel spacing,
the view and the laterality.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from mame.sampling.full_field import feather, paint_full_field, pipeline_painter

log = logging.getLogger(__name__)
SEAM_RING_PX = 2  # the blend border: pixels within this distance of the feather's outer edge


def scale_box(
    box: tuple[float, float, float, float], from_shape: tuple[int, int], to_shape: tuple[int, int]
) -> tuple[float, float, float, float]:
    """A box (x1, y1, x2, y2, pixel edges) on an image of `from_shape` mapped onto `to_shape` (height,
    width) of the same field of view: edges scale by the ratio of sides, so the map is exact both ways."""
    sy, sx = to_shape[0] / from_shape[0], to_shape[1] / from_shape[1]
    x1, y1, x2, y2 = box
    return (x1 * sx, y1 * sy, x2 * sx, y2 * sy)


def seam_energy(image: np.ndarray, box: tuple[float, float, float, float], feather_px: int) -> float:
    """Mean squared gradient on the blend border: the pixels within `SEAM_RING_PX` of the feather's
    outer edge (Chebyshev distance `feather_px` from the box). A hard paste leaves a step there, a
    seamless blend the image's own texture."""
    width = feather_px + SEAM_RING_PX
    distance = (1 - feather(image.shape, box, width)) * width  # exact up to `width`, else clipped
    ring = (distance > feather_px - SEAM_RING_PX) & (distance <= width) & (distance > 0)
    if feather_px < SEAM_RING_PX:  # a hard paste's border: both sides of the box edge
        ring |= feather(image.shape, box, 0) > 0
        ring &= (1 - feather(image.shape, _grown(box, -SEAM_RING_PX), 0)) > 0
    gy, gx = np.gradient(image.astype(np.float64))
    return float((gx[ring] ** 2 + gy[ring] ** 2).mean()) if ring.any() else 0.0


def _grown(box: tuple[float, float, float, float], by: float) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return (x1 - by, y1 - by, x2 + by, y2 + by)


def _full_field_rows(healthy: pd.DataFrame) -> pd.DataFrame:
    """Rows whose conversion wrote a full-field product (convert.full_field.scale > 0)."""
    if "full_image" not in healthy:
        return healthy.iloc[0:0]
    return healthy[healthy["full_image"].fillna("").astype(str) != ""]


def full_field_spacing(row) -> tuple[float, float] | None:
    """The full-field pixel's size in mm (row, column): the processed pixel's over the scale; None
    when the header gave none."""
    try:
        scale = float(row["full_scale"])
        spacing = (float(row["spacing_row_mm"]) / scale, float(row["spacing_col_mm"]) / scale)
    except (KeyError, TypeError, ValueError):
        return None
    return spacing if all(np.isfinite(spacing)) and min(spacing) > 0 else None


def paint_full_fields(
    pipeline,
    healthy: pd.DataFrame,
    distribution,
    count: int,
    out_dir: str | Path,
    model: str,
    seed: int = 0,
    prompt: str = "a mammogram with a lesion",
    steps: int = 20,
    guidance: float = 7.0,
    margin: float = 0.5,
    feather_px: int = 8,
) -> list[dict]:
    """Paint one lesion into each of the first `count` full-field images of `healthy` (manifest rows in
    painting order); write before/after 16-bit PNGs into `out_dir`.

    `distribution` is the lesion boxes' BoxDistribution on the processed images. Returns one row per
    image: the boxes on both grids, the paint window and its scale, the largest change outside the
    dilated box (0 by construction), the mean change inside the box, and the seam energy of the
    result over that of the original on the same border.
    """
    from mame.data.lesions import breast_region, place_box
    from mame.io import read_grey, read_pixels
    from mame.sampling.sweep import output_shape

    shape = output_shape(pipeline)
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows, started = [], time.perf_counter()
    chosen = _full_field_rows(healthy).head(count)
    if chosen.empty:
        log.warning("no full-field images in the manifests (convert.full_field.scale is 0): none painted")
    for number, (_, row) in enumerate(chosen.iterrows()):
        before = read_pixels(row["full_image"])
        if before.dtype != np.uint16:
            raise ValueError(f"{row['full_image']}: a full-field product is 16-bit, this is {before.dtype}")
        box = place_box(breast_region(read_grey(row["image"], shape)), distribution, rng)
        full_box = scale_box(box, shape, before.shape)
        painter = pipeline_painter(pipeline, prompt, steps=steps, guidance=guidance, seed=seed + number)
        after, record = paint_full_field(
            before, full_box, painter, shape, margin=margin, feather_px=feather_px
        )
        names = {kind: str(out / f"{number:03d}_{kind}.png") for kind in ("before", "after")}
        Image.fromarray(before).save(names["before"])
        Image.fromarray(after).save(names["after"])
        dilated = feather(before.shape, full_box, feather_px) > 0
        inside = feather(before.shape, full_box, 0) > 0
        difference = np.abs(after.astype(np.int64) - before.astype(np.int64))
        spacing = full_field_spacing(row)
        original_seam = seam_energy(before, full_box, feather_px)
        rows.append(
            {
                "source": Path(row["image"]).stem,
                "full_height": before.shape[0],
                "full_width": before.shape[1],
                "box": [int(v) for v in box],
                "full_box": record["box"],
                "window": record["window"],
                "window_scale": record["scale"],
                "feather_px": feather_px,
                **names,
                "model": model,
                "prompt": prompt,
                "seed": seed + number,
                "steps": steps,
                "guidance": guidance,
                "view": str(row.get("view", "") or ""),
                "laterality": str(row.get("laterality", "") or "L").upper(),
                "spacing_row_mm": spacing[0] if spacing else float("nan"),
                "spacing_col_mm": spacing[1] if spacing else float("nan"),
                "mean_change_inside": float(difference[inside].mean()),
                "max_change_outside": int(difference[~dilated].max()) if (~dilated).any() else 0,
                "seam_ratio": seam_energy(after, full_box, feather_px) / max(original_seam, 1e-9),
            }
        )
        elapsed = time.perf_counter() - started
        log.info(
            "full field %d/%d: %dx%d, window scale %.2f (%.1f s, %.2f images/s)",
            number + 1,
            len(chosen),
            *before.shape,
            record["scale"],
            elapsed,
            (number + 1) / max(elapsed, 1e-9),
        )
    return rows


def paint_image(
    pipeline,
    image: np.ndarray,
    box: tuple[float, float, float, float],
    prompt: str = "a mammogram with a lesion",
    steps: int = 20,
    guidance: float = 7.0,
    seed: int = 0,
    margin: float = 0.5,
    feather_px: int = 8,
) -> tuple[np.ndarray, dict]:
    """Paint a lesion at `box` (x1, y1, x2, y2 in the image's pixels) into an image of any size: at the
    model's canvas directly (the box's pixels only), larger ones through a feathered window
    (`paint_full_field`). Returns the image and a record of how it was painted."""
    from mame.data.lesions import box_mask
    from mame.sampling.inpaint import inpaint
    from mame.sampling.sweep import output_shape

    shape = output_shape(pipeline)
    x1, y1, x2, y2 = box
    height, width = image.shape
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise ValueError(f"box {box} is not a non-empty box inside the {width} x {height} image")
    if image.shape == tuple(shape):
        whole = tuple(int(round(v)) for v in box)
        painted = inpaint(
            pipeline, image, box_mask(shape, whole), prompt=prompt, steps=steps, guidance=guidance, seed=seed
        )
        return painted, {"window": [0, 0, height, width], "scale": 1.0, "box": list(whole), "feather_px": 0}
    painter = pipeline_painter(pipeline, prompt, steps=steps, guidance=guidance, seed=seed)
    return paint_full_field(image, box, painter, shape, margin=margin, feather_px=feather_px)
