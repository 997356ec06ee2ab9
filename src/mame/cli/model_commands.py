"""`mame` subcommands of the model stages: prompt, tiny-base, random-base, encode-latents, train."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mame.prompts import AREA_WORDS, DENSITY_WORDS, PRIORITIES, VIEWS
from mame.shapes import parse_size


def add_prompt(sub) -> None:
    p = sub.add_parser("prompt", help="print the caption the prompt builder makes")
    p.add_argument("--view", choices=VIEWS, required=True)
    p.add_argument("--area", choices=AREA_WORDS)
    p.add_argument("--density", choices=list(DENSITY_WORDS.values()))
    p.add_argument("--vendor")
    p.add_argument("--priority", choices=PRIORITIES, default="area")
    p.set_defaults(func=_cmd_prompt)


def _cmd_prompt(args: argparse.Namespace) -> int:
    from mame.prompts import build_prompt

    print(
        build_prompt(
            args.view, area=args.area, density=args.density, vendor=args.vendor, priority=args.priority
        )
    )
    return 0


def add_tiny_base(sub) -> None:
    p = sub.add_parser("tiny-base", help="build the demo's tiny SD-architecture base from manifests")
    p.add_argument("manifests", nargs="+", help="healthy/lesion manifests whose train images teach the VAE")
    p.add_argument("--out", default="tiny")
    p.add_argument("--inpainting-out", default="tiny-inpainting")
    p.add_argument("--vendors", nargs="+", default=["hologic", "siemens"])
    p.add_argument("--resolution", type=parse_size, default=64, help="a side, or height,width")
    p.add_argument("--vae-steps", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_tiny_base)


def _cmd_tiny_base(args: argparse.Namespace) -> int:
    from mame.models.components import TinySpec
    from mame.models.tiny import build_tiny_base

    spec = TinySpec(resolution=args.resolution, seed=args.seed)
    summary = build_tiny_base(
        args.manifests, args.out, args.inpainting_out, args.vendors, spec, args.vae_steps
    )
    print(json.dumps(summary["vae"]))
    return 0


def add_train(sub) -> None:
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
    p.add_argument(
        "--upscaler",
        action="store_true",
        help="train a super-resolution model (a StableDiffusionUpscalePipeline base) on full-field patches",
    )
    p.add_argument("--patches-per-image", type=int, default=4, help="with --upscaler: patches per image")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--stop-after", type=int, help="end this run after N steps (resume later)")
    p.add_argument(
        "--latents", nargs="*", default=[], help="latent stores of the manifests' datasets (encode-latents)"
    )
    p.add_argument(
        "--encoder",
        help="with validation_metrics: the domain encoder folder (rule domain_encoder); default: one "
        "trained on the manifests' real images",
    )
    p.set_defaults(func=_cmd_train)


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
    chosen, extra = Trainer, {}
    settings = TrainSettings.from_dict(settings)
    if settings.validation_metrics and not args.inpainting and not args.upscaler:
        from mame.evaluation.training_metrics import TrainingMetrics

        extra["metrics"] = TrainingMetrics.from_manifests(args.manifests, args.encoder, seed=settings.seed)
    if args.upscaler:
        from mame.training.upscaler import UpscalerTrainer

        chosen, key = UpscalerTrainer, "superres.base"
        extra = {"patches_per_image": args.patches_per_image}
    trainer = chosen(
        base=resolve_model(args.base, key),
        manifests=args.manifests,
        output=args.out,
        checkpoints=args.checkpoints,
        settings=settings,
        inpainting=args.inpainting,
        inpaint_prompt=args.prompt,
        widen_unet=args.widen_unet,
        model_name=args.name,
        latents=args.latents,
        **extra,
    )
    result = trainer.run(stop_after=args.stop_after)
    if trainer.accelerator.is_main_process:
        print(
            json.dumps(
                {
                    "steps": result.steps_done,
                    "interrupted": result.interrupted,
                    "best_step": result.best_step,
                    "final_loss": round(result.final_loss, 5),
                    "output": result.output,
                }
            )
        )
    return 0


def add_encode_latents(sub) -> None:
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


def add_random_base(sub) -> None:
    p = sub.add_parser("random-base", help="a true-size base with random weights (the rehearsal's)")
    p.add_argument("--family", choices=["sd15", "sd2", "sdxl", "sana", "x4-upscaler"], default="sd15")
    p.add_argument("--out", default="sd15-random")
    p.add_argument("--inpainting-out", default="sd15-random-inpainting", help="(not for x4-upscaler)")
    p.add_argument("--vendors", nargs="+", default=["hologic", "siemens"])
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_random_base)


def _cmd_random_base(args: argparse.Namespace) -> int:
    from mame.models.random_sd import build_random_base, build_random_upscaler

    if args.family == "x4-upscaler":
        summary = build_random_upscaler(args.out, args.vendors, args.seed)
    else:
        summary = build_random_base(args.family, args.out, args.inpainting_out, args.vendors, args.seed)
    print(json.dumps(summary))
    return 0


def register(sub) -> None:
    add_prompt(sub)
    add_tiny_base(sub)
    add_train(sub)
    add_encode_latents(sub)
    add_random_base(sub)
