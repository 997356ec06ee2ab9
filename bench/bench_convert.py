"""Per-image conversion speed at the real detector size (3328 x 2560), one core.

Compares, on the same files in one run:
  ours   - mame.data.convert: the whole intensity chain as one lookup table, breast crop, PIL resize, PNG
  naive  - pydicom apply_modality_lut + apply_voi_lut, float maths, the same crop, scikit-image
           anti-aliased resize, PNG
  decode - reading and decoding the pixels only (the floor for JPEG 2000 files)
and projects the wall time of converting the study's 56,026 images on N cluster cores.
Usage: python bench/bench_convert.py [--files 8] [--repeats 3] [--out bench/results/convert.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from PIL import Image  # noqa: E402
from pydicom.pixels import apply_modality_lut, apply_voi_lut  # noqa: E402
from skimage.transform import resize  # noqa: E402

warnings.filterwarnings("ignore", message="Applying a VOI LUT on a float input")

from mame.data.convert import ConvertSettings, convert_image, save_png  # noqa: E402
from mame.data.geometry import plan_geometry  # noqa: E402
from mame.phantom.generate import PhantomSettings, write_phantom  # noqa: E402

STUDY_IMAGES = 56_026


def naive_convert(path: Path, out: Path, size: int) -> None:
    """The textbook chain: every step a float pass over all pixels."""
    ds = pydicom.dcmread(path)
    values = apply_modality_lut(ds.pixel_array, ds)
    values = apply_voi_lut(values, ds).astype(np.float64)
    low, high = values.min(), values.max()
    unit = (values - low) / (high - low)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        unit = 1.0 - unit
    image = np.round(unit * 255).astype(np.uint8)
    geometry = plan_geometry(image, "breast", size, flip=ds.ImageLaterality == "R")
    x0, y0, x1, y1 = geometry.crop
    patch = image[y0:y1, x0:x1]
    if geometry.flip:
        patch = patch[:, ::-1]
    width, height = geometry.resized
    small = resize(patch, (height, width), anti_aliasing=True, preserve_range=True)
    canvas = np.zeros((size, size), np.uint8)
    canvas[
        geometry.offset[1] : geometry.offset[1] + height, geometry.offset[0] : geometry.offset[0] + width
    ] = small
    Image.fromarray(canvas).save(out, compress_level=1)


def ours(path: Path, out: Path, size: int) -> None:
    settings = ConvertSettings(size=size)
    laterality = str(pydicom.dcmread(path, stop_before_pixels=True).ImageLaterality)
    result = convert_image(path, laterality, np.zeros((0, 4)), settings)
    save_png(result.image, out, compression=settings.png_compression)


def decode_only(path: Path, out: Path, size: int) -> None:
    pydicom.dcmread(path).pixel_array  # noqa: B018 - decoding is the point


def best_of(function, path: Path, out: Path, size: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function(path, out, size)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", default="bench/results/convert.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mame-bench-"))
    started = time.perf_counter()
    settings = PhantomSettings(
        layout="omi",
        images=args.files,
        rows=3328,
        cols=2560,
        seed=7,
        jpeg2000_share=0.5,
        broken=False,
        extras=False,
    )
    write_phantom(work / "raw", settings)
    generation = time.perf_counter() - started
    files = sorted((work / "raw" / "images").rglob("*.dcm"))
    rows = []
    for path in files:
        syntax = str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
        kind = "jpeg2000" if syntax.startswith("1.2.840.10008.1.2.4.9") else "uncompressed"
        row = {"kind": kind, "megabytes": round(path.stat().st_size / 1e6, 2)}
        for name, function in (("ours", ours), ("naive", naive_convert), ("decode", decode_only)):
            row[name] = best_of(function, path, work / f"{name}.png", args.size, args.repeats)
        rows.append(row)
    summary = {
        "files": len(files),
        "phantom_generation_s": round(generation, 1),
        "size": args.size,
        "by_kind": {},
    }
    for kind in ("uncompressed", "jpeg2000"):
        chosen = [r for r in rows if r["kind"] == kind]
        if not chosen:
            continue
        med = {name: statistics.median(r[name] for r in chosen) for name in ("ours", "naive", "decode")}
        summary["by_kind"][kind] = {
            "files": len(chosen),
            "ours_s": round(med["ours"], 4),
            "naive_s": round(med["naive"], 4),
            "decode_s": round(med["decode"], 4),
            "naive_over_ours": round(statistics.median(r["naive"] / r["ours"] for r in chosen), 2),
            "ours_over_decode": round(statistics.median(r["ours"] / r["decode"] for r in chosen), 2),
        }
    per_image = {k: v["ours_s"] for k, v in summary["by_kind"].items()}
    summary["projection_56k_hours"] = {
        f"{cores}_cores_{kind}": round(STUDY_IMAGES * seconds / cores / 3600, 2)
        for kind, seconds in per_image.items()
        for cores in (1, 16, 64)
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "files": rows}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
