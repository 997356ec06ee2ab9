"""`mame` subcommands that paint or enlarge one image: inpaint, upscale."""

from __future__ import annotations

import argparse
import json


def add_inpaint(sub) -> None:
    p = sub.add_parser(
        "inpaint",
        help="paint a lesion into one PNG of any size (full-field images through a feathered window)",
    )
    p.add_argument("image", help="a grey PNG, 8- or 16-bit (a processed or full-field image)")
    p.add_argument("--box", type=float, nargs=4, metavar=("X1", "Y1", "X2", "Y2"), required=True)
    p.add_argument("--model", default="results/models/lesions/pipeline", help="inpainting pipeline dir")
    p.add_argument("--out", required=True, help="the painted PNG (same size and bit depth)")
    p.add_argument("--prompt", default="a mammogram with a lesion")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=7.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--margin", type=float, default=0.5, help="context around the box, a fraction of it")
    p.add_argument("--feather", type=int, default=8, help="blend width in pixels (full-field images)")
    p.add_argument("--dicom", help="also write a DICOM Secondary Capture (Conversion Type SYN) here")
    p.add_argument("--spacing", type=float, nargs=2, metavar=("ROW_MM", "COL_MM"), help="its pixel spacing")
    p.add_argument("--view", choices=["CC", "MLO"], default=None)
    p.add_argument("--laterality", choices=["L", "R"], default="L", help="as the pixels are shown")
    p.set_defaults(func=_cmd_inpaint)


def _cmd_inpaint(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np
    from PIL import Image

    from mame.io import read_pixels
    from mame.sampling.full_field_panels import paint_image
    from mame.sampling.sweep import load_pipeline

    if not Path(args.image).is_file():
        raise FileNotFoundError(f"no image {args.image}")
    if not (Path(args.model) / "model_index.json").is_file():
        raise FileNotFoundError(f"{args.model} is not a diffusers pipeline directory (no model_index.json)")
    image = read_pixels(args.image)
    pipeline = load_pipeline(args.model, inpainting=True)
    painted, record = paint_image(
        pipeline,
        image,
        tuple(args.box),
        prompt=args.prompt,
        steps=args.steps,
        guidance=args.guidance,
        seed=args.seed,
        margin=args.margin,
        feather_px=args.feather,
    )
    Image.fromarray(painted).save(args.out)
    record["out"] = args.out
    if args.dicom:
        from mame.export.dicom import SampleRecord, secondary_capture
        from mame.export.validation import validate

        sample = SampleRecord(
            args.out,
            Path(args.model).parent.name,
            args.prompt,
            args.guidance,
            args.seed,
            args.steps,
            view=args.view or "",
            laterality=args.laterality,
        )
        dataset = secondary_capture(sample, np.ascontiguousarray(painted), spacing=args.spacing)
        dataset.save_as(args.dicom, enforce_file_format=True)
        _, summary = validate([args.dicom])
        record["dicom"] = {"file": args.dicom, **summary}
    print(json.dumps(record))
    return 0


def add_upscale(sub) -> None:
    p = sub.add_parser("upscale", help="enlarge one PNG with a super-resolution model, tile by tile")
    p.add_argument("image", help="a grey PNG, 8- or 16-bit (a sample at the model's resolution)")
    p.add_argument("--model", default="results/models/upscaler/pipeline", help="upscaler pipeline dir")
    p.add_argument("--out", required=True, help="the enlarged 16-bit PNG")
    p.add_argument("--prompt", default="a mammogram")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--guidance", type=float, default=0.0)
    p.add_argument("--noise-level", type=int, default=20)
    p.add_argument("--tile", type=int, default=32, help="low-resolution tile side")
    p.add_argument("--overlap", type=float, default=0.125, help="tile overlap, a fraction of the tile")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_upscale)


def _cmd_upscale(args: argparse.Namespace) -> int:
    from pathlib import Path

    from PIL import Image

    from mame.io import read_pixels
    from mame.sampling.sweep import quantise
    from mame.sampling.upscale import UpscaleSettings, load_upscaler, upscale_image

    if not Path(args.image).is_file():
        raise FileNotFoundError(f"no image {args.image}")
    if not (Path(args.model) / "model_index.json").is_file():
        raise FileNotFoundError(f"{args.model} is not a diffusers pipeline directory (no model_index.json)")
    settings = UpscaleSettings(
        args.steps, args.guidance, args.noise_level, args.tile, args.overlap, args.seed
    )
    upscaled = upscale_image(
        load_upscaler(args.model), read_pixels(args.image), args.prompt, settings, args.seed
    )
    Image.fromarray(quantise(upscaled, 16)).save(args.out)
    print(json.dumps({"out": args.out, "height": upscaled.shape[0], "width": upscaled.shape[1]}))
    return 0


def register(sub) -> None:
    add_inpaint(sub)
    add_upscale(sub)
