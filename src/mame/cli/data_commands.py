"""`mame` subcommands of the data stage: phantom, index, audit, convert, convert-shard, manifest."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from mame.data.adapters import ADAPTERS
from mame.data.convert import ConvertSettings
from mame.data.dicom import INTENSITY_MODES, IntensitySettings
from mame.data.geometry import CROP_MODES
from mame.data.index import IndexFilters
from mame.data.manifest import HEALTHY_RULES, PROMPT_ATTRIBUTES, ManifestSettings
from mame.data.rejections import Rejection
from mame.logs import library_messages
from mame.phantom.generate import DENSITY_MIXES, LAYOUTS, PhantomSettings
from mame.shapes import parse_size

# every default below is the settings dataclass's own (tests/test_config.py: and the schema's)
PHANTOM = PhantomSettings(layout="omi")
CONVERT = ConvertSettings()
INTENSITY = IntensitySettings()
MANIFEST = ManifestSettings(vendor="")


def conversion_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--size",
        type=parse_size,
        default=CONVERT.size,
        help="a side (512) or height,width (640,512), as the config's size",
    )
    p.add_argument("--crop", choices=list(CROP_MODES), default=CONVERT.crop)
    p.add_argument("--intensity", choices=list(INTENSITY_MODES), default=INTENSITY.mode)
    p.add_argument(
        "--fixed-max", type=float, help="divisor for --intensity fixed_max (4095 OMI-H, 3500 VinDr)"
    )
    p.add_argument("--bit-depth", type=int, choices=[8, 16], default=INTENSITY.bit_depth)
    p.add_argument("--channels", type=int, choices=[1, 3], default=CONVERT.channels)


def _convert_settings(args: argparse.Namespace) -> ConvertSettings:
    return ConvertSettings.from_dict(
        {
            "size": args.size,
            "crop": args.crop,
            "intensity": args.intensity,
            "bit_depth": args.bit_depth,
            "fixed_max": args.fixed_max,
            "channels": args.channels,
        }
    )


def add_phantom(sub) -> None:
    p = sub.add_parser("phantom", help="write a phantom DICOM dataset (VinDr- or OMI-DB-like layout)")
    p.add_argument("out", help="dataset folder to create")
    p.add_argument("--layout", choices=list(LAYOUTS), required=True)
    p.add_argument(
        "--images", type=int, default=PHANTOM.images, help="usable images (broken/filtered files come on top)"
    )
    p.add_argument(
        "--rows", type=int, default=PHANTOM.rows, help="detector rows (3328 for real Hologic size)"
    )
    p.add_argument(
        "--cols", type=int, default=PHANTOM.cols, help="detector columns (2560 for real Hologic size)"
    )
    p.add_argument("--seed", type=int, default=PHANTOM.seed)
    p.add_argument("--jpeg2000-share", type=float, default=PHANTOM.jpeg2000_share)
    p.add_argument("--density-mix", choices=list(DENSITY_MIXES), default=PHANTOM.density_mix)
    p.add_argument("--workers", type=int, default=1, help="processes rendering images at once")
    p.add_argument("--no-broken", action="store_true", help="leave out the deliberately broken files")
    p.add_argument(
        "--no-extras", action="store_true", help="leave out FOR PROCESSING / extra views / implants"
    )
    p.set_defaults(func=_cmd_phantom)


def _cmd_phantom(args: argparse.Namespace) -> int:
    from mame.phantom.generate import PhantomSettings, write_phantom

    settings = PhantomSettings(
        layout=args.layout,
        images=args.images,
        rows=args.rows,
        cols=args.cols,
        seed=args.seed,
        jpeg2000_share=args.jpeg2000_share,
        density_mix=args.density_mix,
        broken=not args.no_broken,
        extras=not args.no_extras,
    )
    summary = write_phantom(args.out, settings, workers=args.workers)
    print(json.dumps(summary, sort_keys=True))
    return 0


def add_index(sub) -> None:
    p = sub.add_parser("index", help="read headers of a dataset into an index and a rejects table")
    p.add_argument("root")
    p.add_argument("--adapter", choices=list(ADAPTERS), required=True)
    p.add_argument("--vendor", required=True, help="vendor word for prompts, e.g. hologic")
    p.add_argument("--table", help="CSV of paths and labels (adapter table)")
    p.add_argument("--name", help="dataset name (default: the folder name)")
    p.add_argument("--views", nargs="+", default=list(IndexFilters().views))
    p.add_argument("--manufacturers", nargs="*", default=[])
    p.add_argument("--keep-implants", action="store_true")
    p.add_argument("--salt", default="mame-demo-salt", help="secret for pseudonymous keys")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", default="index.csv")
    p.add_argument("--rejects", default="index_rejects.csv")
    p.set_defaults(func=_cmd_index)


def _cmd_index(args: argparse.Namespace) -> int:
    from mame.data.index import IndexFilters, build_index

    filters = IndexFilters(
        views=tuple(v.upper() for v in args.views),
        manufacturers=tuple(args.manufacturers),
        exclude_implants=not args.keep_implants,
    )
    index, rejects = build_index(
        args.name or Path(args.root).name,
        args.adapter,
        args.root,
        args.vendor,
        args.salt,
        filters,
        table=args.table,
        workers=args.workers,
    )
    index.to_csv(args.out, index=False)
    rejects.to_csv(args.rejects, index=False)
    print(f"{len(index)} images indexed, {len(rejects)} rejected -> {args.out}, {args.rejects}")
    return 0


def add_audit(sub) -> None:
    p = sub.add_parser(
        "audit", help="pre-flight audit of a dataset from its headers (counts, rejects, mismatches)"
    )
    p.add_argument("root")
    p.add_argument("--adapter", choices=list(ADAPTERS), required=True)
    p.add_argument("--table", help="CSV of paths and labels (adapter table)")
    p.add_argument("--name", help="dataset name for the page title (default: the folder name)")
    p.add_argument("--views", nargs="+", default=list(IndexFilters().views))
    p.add_argument("--manufacturers", nargs="*", default=[])
    p.add_argument("--keep-implants", action="store_true")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", default="audit", help="writes OUT.csv and OUT.md")
    p.set_defaults(func=_cmd_audit)


def _cmd_audit(args: argparse.Namespace) -> int:
    from mame.data.audit import audit_dataset, audit_markdown
    from mame.data.index import IndexFilters

    filters = IndexFilters(
        views=tuple(v.upper() for v in args.views),
        manufacturers=tuple(args.manufacturers),
        exclude_implants=not args.keep_implants,
    )
    audit = audit_dataset(args.adapter, args.root, filters, table=args.table, workers=args.workers)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    audit.to_csv(out.with_suffix(".csv"), index=False)
    out.with_suffix(".md").write_text(audit_markdown(audit, args.name or Path(args.root).name))
    print(out.with_suffix(".md").read_text())
    return 0


def add_convert(sub) -> None:
    p = sub.add_parser("convert", help="convert one DICOM file to a processed PNG")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--laterality", choices=["L", "R"], help="override the header's laterality")
    p.add_argument(
        "--box",
        action="append",
        default=[],
        metavar="X1,Y1,X2,Y2",
        help="a raw-image box to map into the processed image (repeatable)",
    )
    conversion_options(p)
    p.set_defaults(func=_cmd_convert)


def _cmd_convert(args: argparse.Namespace) -> int:
    from mame.data.convert import convert_image, save_png
    from mame.data.dicom import read_header

    settings = _convert_settings(args)
    try:
        header = read_header(args.input)
        laterality = (
            args.laterality
            or str(getattr(header, "ImageLaterality", "") or getattr(header, "Laterality", ""))
        ).upper()
        if laterality not in ("L", "R"):
            raise Rejection("no_laterality", "the header has none; pass --laterality L or R")
        boxes = np.array([[float(v) for v in box.split(",")] for box in args.box], dtype=np.float64).reshape(
            -1, 4
        )
        with library_messages():  # decoder fallbacks are not errors: no traceback on the console
            result = convert_image(args.input, laterality, boxes, settings)
    except Rejection as rejection:
        print(f"mame convert: {args.input}: cannot convert: {rejection}", file=sys.stderr)
        return 1
    save_png(result.image, args.output, settings.channels, settings.png_compression)
    out = {
        "output": str(args.output),
        "laterality": laterality,
        "area_fraction": round(result.area_fraction, 4),
    }
    if len(boxes):
        out["boxes"] = [[round(float(v), 2) for v in box] for box in result.boxes]
    print(json.dumps(out))
    return 0


def add_convert_shard(sub) -> None:
    p = sub.add_parser("convert-shard", help="convert one shard of an index")
    p.add_argument("index")
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--shard-size", type=int, default=500)
    p.add_argument("--images", default="images", help="folder for the PNGs")
    p.add_argument("--out", default="converted.csv")
    p.add_argument("--rejects", default="convert_rejects.csv")
    p.add_argument(
        "--full-field-scale", type=int, default=0, help="also a 16-bit full field this many x --size"
    )
    p.add_argument(
        "--full-images", default=None, help="folder for the full-field PNGs (default: IMAGES/full)"
    )
    conversion_options(p)
    p.set_defaults(func=_cmd_convert_shard)


def _cmd_convert_shard(args: argparse.Namespace) -> int:
    from mame.data.convert import convert_index_shard

    settings = dataclasses.replace(_convert_settings(args), full_field_scale=args.full_field_scale)
    converted, rejects = convert_index_shard(
        args.index, args.shard, args.shard_size, args.images, settings, full_dir=args.full_images
    )
    converted.to_csv(args.out, index=False)
    rejects.to_csv(args.rejects, index=False)
    print(f"{len(converted)} converted, {len(rejects)} rejected -> {args.out}")
    return 0


def add_manifest(sub) -> None:
    p = sub.add_parser("manifest", help="healthy (image-prompt) and lesion (image-mask) manifests")
    p.add_argument("converted", nargs="+", help="converted tables (convert-shard outputs)")
    p.add_argument("--vendor", required=True)
    p.add_argument("--prompt-attribute", choices=list(PROMPT_ATTRIBUTES), default=MANIFEST.prompt_attribute)
    p.add_argument("--area-thresholds", type=float, nargs=2, default=list(MANIFEST.area_thresholds))
    p.add_argument("--lesion-categories", nargs="+", default=list(MANIFEST.lesion_categories))
    p.add_argument(
        "--holdout-fraction",
        type=float,
        default=MANIFEST.holdout_fraction,
        help="share of patients held out (manifest.holdout_fraction)",
    )
    p.add_argument(
        "--healthy",
        choices=list(HEALTHY_RULES),
        default=MANIFEST.healthy,
        help="manifest.healthy (OMI-DB's NBSS)",
    )
    p.add_argument(
        "--rejects", nargs="*", default=[], help="the index's and shards' rejects, joined into rejects.csv"
    )
    p.add_argument("--out-dir", default="manifest")
    p.set_defaults(func=_cmd_manifest)


def _cmd_manifest(args: argparse.Namespace) -> int:
    from mame.data.manifest import write_manifests

    settings = ManifestSettings.from_dict(
        {
            "vendor": args.vendor,
            "prompt_attribute": args.prompt_attribute,
            "area_thresholds": args.area_thresholds,
            "lesion_categories": args.lesion_categories,
            "holdout_fraction": args.holdout_fraction,
            "healthy": args.healthy,
        }
    )
    counts = write_manifests(args.converted, settings, args.out_dir, args.rejects)
    healthy, lesions, rejects = counts["healthy"], counts["lesions"], counts["rejects"]
    print(f"{healthy} healthy, {lesions} with lesion, {rejects} rejected -> {args.out_dir}")
    return 0


def register(sub) -> None:
    add_phantom(sub)
    add_index(sub)
    add_audit(sub)
    add_convert(sub)
    add_convert_shard(sub)
    add_manifest(sub)
