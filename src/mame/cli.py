"""`mame` command: each pipeline stage as a subcommand, for use outside Snakemake.

Bad input ends with exit status 2 (usage) or 1 (a file that cannot be processed) and one line
saying why; tracebacks are for bugs, not for users' files.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from mame.data.adapters import ADAPTERS
from mame.data.rejections import Rejection
from mame.logs import library_messages
from mame.shapes import parse_size

log = logging.getLogger("mame")


def _cmd_phantom(args: argparse.Namespace) -> int:
    from mame.phantom.generate import PhantomSettings, write_phantom

    settings = PhantomSettings(
        layout=args.layout,
        images=args.images,
        rows=args.rows,
        cols=args.cols,
        seed=args.seed,
        jpeg2000_share=args.jpeg2000_share,
        broken=not args.no_broken,
        extras=not args.no_extras,
    )
    summary = write_phantom(args.out, settings, workers=args.workers)
    print(json.dumps(summary, sort_keys=True))
    return 0


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


def _convert_settings(args: argparse.Namespace):
    from mame.data.convert import ConvertSettings

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


def _cmd_convert_shard(args: argparse.Namespace) -> int:
    from mame.data.convert import convert_index_shard

    converted, rejects = convert_index_shard(
        args.index, args.shard, args.shard_size, args.images, _convert_settings(args)
    )
    converted.to_csv(args.out, index=False)
    rejects.to_csv(args.rejects, index=False)
    print(f"{len(converted)} converted, {len(rejects)} rejected -> {args.out}")
    return 0


def _cmd_manifest(args: argparse.Namespace) -> int:
    from mame.data.manifest import ManifestSettings, build_manifests, read_converted, write_metadata_jsonl

    settings = ManifestSettings.from_dict(
        {
            "vendor": args.vendor,
            "prompt_attribute": args.prompt_attribute,
            "area_thresholds": args.area_thresholds,
            "lesion_categories": args.lesion_categories,
            "holdout_fraction": args.holdout_fraction,
        }
    )
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    healthy, lesions, excluded = build_manifests(read_converted(args.converted), settings, out / "masks")
    healthy.to_csv(out / "healthy.csv", index=False)
    lesions.to_csv(out / "lesions.csv", index=False)
    excluded.to_csv(out / "excluded.csv", index=False)
    write_metadata_jsonl(healthy, out / "metadata.jsonl")
    print(f"{len(healthy)} healthy, {len(lesions)} with lesion, {len(excluded)} excluded -> {out}")
    return 0


def _cmd_prompt(args: argparse.Namespace) -> int:
    from mame.prompts import build_prompt

    print(
        build_prompt(
            args.view, area=args.area, density=args.density, vendor=args.vendor, priority=args.priority
        )
    )
    return 0


def _cmd_tiny_base(args: argparse.Namespace) -> int:
    from mame.models.components import TinySpec
    from mame.models.tiny import build_tiny_base

    spec = TinySpec(resolution=args.resolution, seed=args.seed)
    summary = build_tiny_base(
        args.manifests, args.out, args.inpainting_out, args.vendors, spec, args.vae_steps
    )
    print(json.dumps(summary["vae"]))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    """One fine-tuning run; under `accelerate launch` every process runs this same command."""
    import torch

    from mame.models.components import resolve_model
    from mame.training.trainer import Trainer, TrainSettings

    if args.threads:
        torch.set_num_threads(args.threads)
    text = args.settings.strip()
    settings = json.loads(text if text.startswith("{") else Path(text).read_text())
    key = "models.inpaint_base" if args.inpainting else "models.base"
    trainer = Trainer(
        base=resolve_model(args.base, key),
        manifests=args.manifests,
        output=args.out,
        checkpoints=args.checkpoints,
        settings=TrainSettings.from_dict(settings),
        inpainting=args.inpainting,
        inpaint_prompt=args.prompt,
        widen_unet=args.widen_unet,
        model_name=args.name,
        latents=args.latents,
    )
    result = trainer.run(stop_after=args.stop_after)
    if trainer.accelerator.is_main_process:
        print(
            json.dumps(
                {
                    "steps": result.steps_done,
                    "stopped_early": result.stopped_early,
                    "final_loss": round(result.final_loss, 5),
                    "output": result.output,
                }
            )
        )
    return 0


def _cmd_random_base(args: argparse.Namespace) -> int:
    from mame.models.random_sd import build_random_sd15

    print(json.dumps(build_random_sd15(args.out, args.inpainting_out, args.vendors, args.seed)))
    return 0


def _cmd_encode_latents(args: argparse.Namespace) -> int:
    """The latent stage of one dataset (what the workflow's encode_latents jobs run)."""
    from mame.models.components import resolve_model
    from mame.training.latents import encode_base_latents

    fingerprints = {"conversion": args.conversion} if args.conversion else {}
    store = encode_base_latents(
        resolve_model(args.base, "models.inpaint_base" if args.inpainting else "models.base"),
        args.manifests,
        args.out,
        inpainting=args.inpainting,
        resolution=args.resolution,
        batch_size=args.batch_size,
        precision=args.precision,
        fingerprints=fingerprints,
    )
    print(json.dumps({k: store.info[k] for k in ("rows", "latent_shape", "resolution", "device", "seconds")}))
    return 0


def _cmd_gui(args: argparse.Namespace) -> int:
    try:
        import gradio  # noqa: F401
    except ImportError:
        print("mame gui: the GUI needs Gradio, an optional part: pip install 'mame[gui]'", file=sys.stderr)
        return 2
    from mame.gui.app import GuiSettings, launch

    settings = GuiSettings(
        model=args.model,
        inpaint_model=args.inpaint_model,
        data=args.data,
        max_images=args.max_images,
        max_steps=args.max_steps,
    )
    launch(settings, host=args.host, port=args.port, share=args.share)
    return 0


def _cmd_export_dicom(args: argparse.Namespace) -> int:
    import pandas as pd

    from mame.export.sweep import export_sweep

    out = Path(args.out)
    samples = pd.read_csv(args.samples, keep_default_na=False)
    summary = export_sweep(samples, out, out.with_suffix(".csv"), out.with_suffix(".json"), base=args.base)
    print(json.dumps(summary, indent=2))
    return 0 if summary["passed"] else 1


def _cmd_check_config(args: argparse.Namespace) -> int:
    from mame.config import load_config

    load_config(args.config)
    print(f"{args.config}: valid")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from mame.prompts import AREA_WORDS, DENSITY_WORDS, PRIORITIES, VIEWS

    parser = argparse.ArgumentParser(prog="mame", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("phantom", help="write a phantom DICOM dataset (VinDr- or OMI-DB-like layout)")
    p.add_argument("out", help="dataset folder to create")
    p.add_argument("--layout", choices=["vindr", "omi"], required=True)
    p.add_argument(
        "--images", type=int, default=120, help="usable images (broken/filtered files come on top)"
    )
    p.add_argument("--rows", type=int, default=320, help="detector rows (3328 for real Hologic size)")
    p.add_argument("--cols", type=int, default=256, help="detector columns (2560 for real Hologic size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jpeg2000-share", type=float, default=0.3)
    p.add_argument("--workers", type=int, default=1, help="processes rendering images at once")
    p.add_argument("--no-broken", action="store_true", help="leave out the deliberately broken files")
    p.add_argument(
        "--no-extras", action="store_true", help="leave out FOR PROCESSING / extra views / implants"
    )
    p.set_defaults(func=_cmd_phantom)

    p = sub.add_parser("index", help="read headers of a dataset into an index and a rejects table")
    p.add_argument("root")
    p.add_argument("--adapter", choices=list(ADAPTERS), required=True)
    p.add_argument("--vendor", required=True, help="vendor word for prompts, e.g. hologic")
    p.add_argument("--table", help="CSV of paths and labels (adapter table)")
    p.add_argument("--name", help="dataset name (default: the folder name)")
    p.add_argument("--views", nargs="+", default=list(VIEWS))
    p.add_argument("--manufacturers", nargs="*", default=[])
    p.add_argument("--keep-implants", action="store_true")
    p.add_argument("--salt", default="mame-demo-salt", help="secret for pseudonymous keys")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", default="index.csv")
    p.add_argument("--rejects", default="index_rejects.csv")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser(
        "audit", help="pre-flight audit of a dataset from its headers (counts, rejects, mismatches)"
    )
    p.add_argument("root")
    p.add_argument("--adapter", choices=list(ADAPTERS), required=True)
    p.add_argument("--table", help="CSV of paths and labels (adapter table)")
    p.add_argument("--name", help="dataset name for the page title (default: the folder name)")
    p.add_argument("--views", nargs="+", default=list(VIEWS))
    p.add_argument("--manufacturers", nargs="*", default=[])
    p.add_argument("--keep-implants", action="store_true")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--out", default="audit", help="writes OUT.csv and OUT.md")
    p.set_defaults(func=_cmd_audit)

    def conversion_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--size",
            type=parse_size,
            default=512,
            help="a side (512) or height,width (640,512), as the config's size",
        )
        p.add_argument("--crop", choices=["breast", "center"], default="breast")
        p.add_argument("--intensity", choices=["voi", "fixed_max"], default="voi")
        p.add_argument(
            "--fixed-max", type=float, help="divisor for --intensity fixed_max (4095 OMI-H, 3500 VinDr)"
        )
        p.add_argument("--bit-depth", type=int, choices=[8, 16], default=8)
        p.add_argument("--channels", type=int, choices=[1, 3], default=1)

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

    p = sub.add_parser("convert-shard", help="convert one shard of an index")
    p.add_argument("index")
    p.add_argument("--shard", type=int, default=0)
    p.add_argument("--shard-size", type=int, default=500)
    p.add_argument("--images", default="images", help="folder for the PNGs")
    p.add_argument("--out", default="converted.csv")
    p.add_argument("--rejects", default="convert_rejects.csv")
    conversion_options(p)
    p.set_defaults(func=_cmd_convert_shard)

    p = sub.add_parser("manifest", help="healthy (image-prompt) and lesion (image-mask) manifests")
    p.add_argument("converted", nargs="+", help="converted tables (convert-shard outputs)")
    p.add_argument("--vendor", required=True)
    p.add_argument("--prompt-attribute", choices=["area", "density", "none"], default="area")
    p.add_argument("--area-thresholds", type=float, nargs=2, default=[0.4, 0.6])
    p.add_argument("--lesion-categories", nargs="+", default=["Mass", "Suspicious Calcification"])
    p.add_argument(
        "--holdout-fraction",
        type=float,
        default=0.1,
        help="share of patients held out (manifest.holdout_fraction)",
    )
    p.add_argument("--out-dir", default="manifest")
    p.set_defaults(func=_cmd_manifest)

    p = sub.add_parser("prompt", help="print the caption the prompt builder makes")
    p.add_argument("--view", choices=VIEWS, required=True)
    p.add_argument("--area", choices=AREA_WORDS)
    p.add_argument("--density", choices=list(DENSITY_WORDS.values()))
    p.add_argument("--vendor")
    p.add_argument("--priority", choices=PRIORITIES, default="area")
    p.set_defaults(func=_cmd_prompt)

    p = sub.add_parser("tiny-base", help="build the demo's tiny SD-architecture base from manifests")
    p.add_argument("manifests", nargs="+", help="healthy/lesion manifests whose train images teach the VAE")
    p.add_argument("--out", default="tiny")
    p.add_argument("--inpainting-out", default="tiny-inpainting")
    p.add_argument("--vendors", nargs="+", default=["hologic", "siemens"])
    p.add_argument("--resolution", type=parse_size, default=64, help="a side, or height,width")
    p.add_argument("--vae-steps", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_tiny_base)

    p = sub.add_parser("train", help="fine-tune a model (run under `accelerate launch` for several GPUs)")
    p.add_argument("manifests", nargs="+", help="healthy (text-to-image) or lesion (inpainting) manifests")
    p.add_argument("--base", required=True, help="pipeline directory or hub id")
    p.add_argument("--out", required=True, help="pipeline directory to write")
    p.add_argument("--checkpoints", required=True, help="folder for resumable checkpoints")
    p.add_argument("--settings", default="{}", help="training settings as JSON, or a JSON file")
    p.add_argument("--name", default="model")
    p.add_argument("--inpainting", action="store_true")
    p.add_argument("--prompt", default="a mammogram with a lesion", help="inpainting caption")
    p.add_argument("--widen-unet", action="store_true")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--stop-after", type=int, help="end this run after N steps (resume later)")
    p.add_argument(
        "--latents", nargs="*", default=[], help="latent stores of the manifests' datasets (encode-latents)"
    )
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("encode-latents", help="encode a dataset's train images once with a base's frozen VAE")
    p.add_argument("manifests", nargs="+", help="healthy manifests, or lesion manifests with --inpainting")
    p.add_argument("--base", required=True, help="pipeline directory or hub id whose VAE encodes")
    p.add_argument("--out", required=True, help="folder of the latent store")
    p.add_argument(
        "--inpainting", action="store_true", help="also masked-image latents and latent-size masks"
    )
    p.add_argument("--resolution", type=parse_size, help="a side or height,width (default: the base's own)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--precision", choices=["fp16", "bf16", "fp32"], default="fp16", help="autocast on a GPU")
    p.add_argument(
        "--conversion", default="", help="fingerprint of the conversion settings, kept in the store"
    )
    p.set_defaults(func=_cmd_encode_latents)

    p = sub.add_parser("random-base", help="an SD-1.5-size base with random weights (the rehearsal's)")
    p.add_argument("--out", default="sd15-random")
    p.add_argument("--inpainting-out", default="sd15-random-inpainting")
    p.add_argument("--vendors", nargs="+", default=["hologic", "siemens"])
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_random_base)

    p = sub.add_parser(
        "check-config", help="validate a config file as the workflow does (schema and cross-checks)"
    )
    p.add_argument("config")
    p.set_defaults(func=_cmd_check_config)

    p = sub.add_parser(
        "export-dicom", help="a sweep's samples (samples.csv) as validated DICOM Secondary Capture files"
    )
    p.add_argument("samples", help="samples.csv of a sweep (file, model, prompt, guidance, seed, steps ...)")
    p.add_argument("out", help="folder for the .dcm files; <out>.csv and <out>.json get the validation")
    p.add_argument("--base", default=".", help="folder the samples' file paths are relative to")
    p.set_defaults(func=_cmd_export_dicom)

    p = sub.add_parser("gui", help="browser app: generate mammograms and paint lesions (Gradio)")
    p.add_argument("--model", default="results/models/fusion/pipeline", help="text-to-image pipeline dir")
    p.add_argument(
        "--inpaint-model", default="results/models/lesions/pipeline", help="inpainting pipeline dir"
    )
    p.add_argument(
        "--data", default="results/data", help="processed data: held-out healthy images to paint on"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument(
        "--share", action="store_true", help="also open a public gradio.live link (off by default)"
    )
    p.add_argument("--max-images", type=int, default=8, help="images per request at most")
    p.add_argument("--max-steps", type=int, default=100, help="sampling steps per request at most")
    p.set_defaults(func=_cmd_gui)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from mame.logs import quiet_library_notices

    quiet_library_notices()
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as err:
        print(f"mame {args.command}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
