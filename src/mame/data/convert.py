"""DICOM -> processed PNG: intensity LUT, breast crop, flip R to L, resize, pad; boxes follow.

A shard converts a slice of the index one image at a time (peak memory is one image whatever
the shard size) and writes a table of what it made; failures become rejects, never a crash.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm import tqdm

from mame.data.breast import area_fraction
from mame.data.dicom import IntensitySettings, display_image, load_pixels
from mame.data.geometry import CROP_MODES, Geometry, plan_geometry
from mame.data.privacy import scrub
from mame.data.rejections import Rejection
from mame.data.spacing import canvas_spacing, header_spacing
from mame.logs import WarningTally, library_messages
from mame.shapes import FULL_FIELD_COLUMNS, TIME_ID_COLUMNS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertSettings:
    """Everything that decides the processed image. Defaults are ours; the study's are in thesis.yaml."""

    size: int | tuple[int, int] = 512  # a side (square) or (height, width)
    crop: str = "breast"
    channels: int = 1
    png_compression: int = 1  # zlib level: 1 is ~5x faster than 6 for ~10% larger files
    intensity: IntensitySettings = field(default_factory=IntensitySettings)
    full_field_scale: int = 0  # > 0: also a 16-bit full-field product this many times the size (issue 26)

    def __post_init__(self) -> None:
        if self.crop not in CROP_MODES:
            raise ValueError(f"crop mode {self.crop!r} unknown; expected one of {CROP_MODES}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.channels == 3 and self.intensity.bit_depth != 8:
            raise ValueError("3-channel PNGs are 8-bit only (PNG has no 16-bit RGB in PIL); use channels: 1")

    @classmethod
    def from_dict(cls, settings: dict) -> ConvertSettings:
        """Build from the config's `convert` block (plus the dataset's fixed_max)."""
        intensity = IntensitySettings(
            mode=settings.get("intensity", "voi"),
            bit_depth=int(settings.get("bit_depth", 8)),
            fixed_max=settings.get("fixed_max"),
            prefer_voi_sequence=bool(settings.get("prefer_voi_sequence", True)),
        )
        return cls(
            size=_size(settings.get("size", 512)),
            crop=settings.get("crop", "breast"),
            channels=int(settings.get("channels", 1)),
            png_compression=int(settings.get("png_compression", 1)),
            intensity=intensity,
            full_field_scale=int(settings.get("full_field", {}).get("scale", 0)),
        )


def _size(value) -> int | tuple[int, int]:
    """The config's size: an integer side, or [height, width] kept as a tuple (hashable, comparable)."""
    return int(value) if isinstance(value, int) else tuple(int(v) for v in value)


@dataclass
class Converted:
    image: np.ndarray  # uint8/uint16, height x width of `size`
    boxes: np.ndarray  # (n, 4) processed-image boxes, pixel edges
    area_fraction: float
    geometry: Geometry
    source_shape: tuple[int, int] = (0, 0)  # the display image's (height, width) before the geometry
    full: np.ndarray | None = None  # the 16-bit full-field product (full_field_scale > 0)
    spacing: tuple[float, float] | None = None  # mm per processed pixel (row, column), from the header
    spacing_source: str = ""  # PixelSpacing or ImagerPixelSpacing; empty when the header has neither

    def crop_origin(self) -> tuple[float, float]:
        """The crop's (top, left) in the source image scaled as the crop was (SDXL's crop coordinates)."""
        x0, y0, x1, y1 = self.geometry.crop
        width, height = self.geometry.resized
        return round(y0 * height / max(1, y1 - y0), 1), round(x0 * width / max(1, x1 - x0), 1)


def convert_image(
    path: str | Path, laterality: str, raw_boxes: np.ndarray, settings: ConvertSettings
) -> Converted:
    """Convert one file; raises Rejection for files that cannot be converted."""
    pixels, ds = load_pixels(path)
    display = display_image(pixels, ds, settings.intensity)
    geometry = plan_geometry(display, settings.crop, settings.size, flip=laterality.upper() == "R")
    image = geometry.apply_image(display)
    boxes = geometry.apply_boxes(raw_boxes) if len(raw_boxes) else np.zeros((0, 4))
    full = None
    if settings.full_field_scale:
        deep = display
        if settings.intensity.bit_depth != 16:
            deep = display_image(pixels, ds, dataclasses.replace(settings.intensity, bit_depth=16))
        full = geometry.scaled(settings.full_field_scale).apply_image(deep)
    found = header_spacing(ds)
    spacing = canvas_spacing(found[:2], geometry) if found else None
    return Converted(
        image,
        boxes,
        area_fraction(image),
        geometry,
        source_shape=display.shape[:2],
        full=full,
        spacing=spacing,
        spacing_source=found[2] if found else "",
    )


def save_png(image: np.ndarray, path: str | Path, channels: int = 1, compression: int = 1) -> None:
    """Write a grey (or grey-copied RGB) PNG with no text chunks: nothing identifying rides along."""
    if channels == 3:
        image = np.repeat(image[:, :, None], 3, axis=2)
    Image.fromarray(image).save(path, format="PNG", compress_level=compression)


def shard_slice(index: pd.DataFrame, shard: int, shard_size: int) -> pd.DataFrame:
    return index.iloc[shard * shard_size : (shard + 1) * shard_size]


def convert_index_shard(
    index_path: str | Path,
    shard: int,
    shard_size: int,
    image_dir: str | Path,
    settings: ConvertSettings,
    full_dir: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shard `shard` of an index CSV converted into `image_dir` (full-field products into `full_dir`):
    what the workflow's convert jobs and `mame convert-shard` both run. Returns (converted, rejects)."""
    index = pd.read_csv(index_path, dtype=str, keep_default_na=False)
    return convert_shard(shard_slice(index, shard, shard_size), image_dir, settings, full_dir)


CONVERTED_COLUMNS = [
    "key",
    "patient",
    "image",
    "vendor",
    "view",
    "laterality",
    "density",
    "split",
    "status",
    "area_fraction",
    "findings",
    "crop",
    "bit_depth",
    # where the crop came from (SDXL's size-and-crop micro-conditioning): the detector image's size and
    # the crop's top-left corner, scaled to the canvas
    *TIME_ID_COLUMNS,
    *FULL_FIELD_COLUMNS,  # the full-field product has spacing / full_scale
]


def convert_shard(
    rows: pd.DataFrame, image_dir: str | Path, settings: ConvertSettings, full_dir: str | Path | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert the index rows of one shard into `image_dir` (full-field products into `full_dir`, by
    default `image_dir`/full); returns (converted, rejects)."""
    image_dir = Path(image_dir)
    full_dir = Path(full_dir) if full_dir else None
    image_dir.mkdir(parents=True, exist_ok=True)
    done, rejects = [], []
    tally = WarningTally()
    started = time.perf_counter()
    for row in tqdm(rows.itertuples(index=False), total=len(rows), desc="convert", unit="img", disable=None):
        findings = json.loads(row.findings)
        located = [f for f in findings if f.get("box") is not None]  # labels without a box pass through
        raw_boxes = np.array([f["box"] for f in located], dtype=np.float64).reshape(-1, 4)
        try:
            with library_messages() as caught:
                result = convert_image(row.source, row.laterality, raw_boxes, settings)
        except Rejection as rejection:
            detail = scrub(rejection.detail, row.source)
            rejects.append({"key": row.key, "stage": "convert", "reason": rejection.reason, "detail": detail})
            continue
        except Exception as err:  # noqa: BLE001 - one undecodable file must not stop a 500-image shard
            log.exception("image %s: unexpected failure, recorded as decode_failed", row.key)
            detail = scrub(f"{type(err).__name__}: {err}", row.source)
            rejects.append({"key": row.key, "stage": "convert", "reason": "decode_failed", "detail": detail})
            continue
        finally:
            tally.add_all(caught)
        target = image_dir / f"{row.key}.png"
        save_png(result.image, target, settings.channels, settings.png_compression)
        full_target = ""
        if result.full is not None:
            full_dir = full_dir or image_dir / "full"
            full_dir.mkdir(parents=True, exist_ok=True)
            full_target = (full_dir / f"{row.key}.png").as_posix()
            save_png(result.full, full_target, 1, settings.png_compression)
        moved = [
            {"box": [round(float(v), 2) for v in box], "category": finding["category"]}
            for box, finding in zip(result.boxes, located, strict=True)
        ] + [f for f in findings if f.get("box") is None]
        done.append(
            {
                "key": row.key,
                "patient": row.patient,
                "image": target.as_posix(),
                "vendor": row.vendor,
                "view": row.view,
                "laterality": row.laterality,
                "density": row.density,
                "split": row.split,
                "status": row.status,
                "area_fraction": round(result.area_fraction, 4),
                "findings": json.dumps(moved),
                "crop": settings.crop,
                "bit_depth": settings.intensity.bit_depth,
                "original_height": result.source_shape[0],
                "original_width": result.source_shape[1],
                "crop_top": result.crop_origin()[0],
                "crop_left": result.crop_origin()[1],
                "spacing_row_mm": round(result.spacing[0], 5) if result.spacing else "",
                "spacing_col_mm": round(result.spacing[1], 5) if result.spacing else "",
                "spacing_source": result.spacing_source,
                "full_image": full_target,
                "full_scale": settings.full_field_scale,
            }
        )
    tally.log_summary(log, "convert")
    elapsed = time.perf_counter() - started
    log.info(
        "converted %d images (%d rejected) in %.1f s, %.3f s/image",
        len(done),
        len(rejects),
        elapsed,
        elapsed / max(1, len(rows)),
    )
    return pd.DataFrame(done, columns=CONVERTED_COLUMNS), pd.DataFrame(
        rejects, columns=["key", "stage", "reason", "detail"]
    )
