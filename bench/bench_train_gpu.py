"""GPU benchmark of the project's own trainer (not a copy) at true size, several recipes side by side.

One run on one card: synthetic mammogram-like images (512 px; SDXL 1024 px) and their captions, a base of
the family (`--family sd15|sd2|sdxl`) at true size with random weights (`mame.models.random_sd`, no
download), the latent stage on the GPU once
(`encode_base_latents`), then `mame.training.trainer.Trainer` per recipe, each in its own process so
that peaks and compile caches do not mix. From each run's phases.csv: load seconds, training steps/s and
the peak device memory of a step (reset per phase), validation's peak, and a checkpoint's seconds. The
hand-written step of `bench_gpu_step.py` runs in the same call as the lower bound; the ratio to it and
the share of the card's bf16 peak (FLOPs of one step counted by torch.utils.flop_counter) are reported.

Recipes (batch 16, 512 px, UNet + text encoder trained):
  thesis   fp16 autocast, 8-bit AdamW, gradient checkpointing (the study's; fits a 24 GB card)
  bf16     bf16 autocast, fused AdamW, no checkpointing
  fastest  bf16, fused AdamW, channels-last, torch.compile, no checkpointing

    python bench/bench_train_gpu.py --steps 40 --out bench/results/train_gpu.json      # a GPU machine
    python bench/bench_train_gpu.py --family sdxl --batch 4 --recipes thesis          # SDXL's 24 GB recipe
    python bench/bench_train_gpu.py --tiny --steps 4 --recipes thesis                  # CPU smoke test
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

RECIPES = {
    "thesis": {"mixed_precision": "fp16", "adam_8bit": True, "gradient_checkpointing": True},
    "bf16": {"mixed_precision": "bf16", "fused_adam": True},
    "fastest": {"mixed_precision": "bf16", "fused_adam": True, "channels_last": True, "compile": True},
}
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16 from the vendors' sheets


def write_images(folder: Path, count: int, side: int) -> str:
    """Breast-like grey images with captions from the one prompt builder, and their manifest."""
    from mame.prompts import build_prompt

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    yy, xx = np.mgrid[0:side, 0:side] / side
    for i in range(count):
        radius = 0.55 + 0.3 * rng.random()
        breast = ((xx / radius) ** 2 + ((yy - 0.5) / 0.6) ** 2) < 1
        image = breast * (120 + 60 * rng.random()) + rng.normal(0, 12, (side, side)) * breast
        path = folder / f"{i:04d}.png"
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(path)
        area = ("small", "big")[i % 2]
        rows.append(
            {
                "key": f"k{i:04d}",
                "image": str(path),
                "split": "train",
                "prompt": build_prompt(("CC", "MLO")[i // 2 % 2], area=area),
            }
        )
    manifest = folder / "healthy.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return str(manifest)


def run_recipe(script: str, job: Path, arguments: dict, environment: dict | None = None) -> dict:
    """`script --child job` in its own process (so peaks and caches never mix): its last JSON line, or
    the error it ended with."""
    job.write_text(json.dumps(arguments))
    done = subprocess.run(
        [sys.executable, script, "--child", str(job)], capture_output=True, text=True, env=environment
    )
    if done.returncode:
        return {"recipe": arguments["recipe"], "error": done.stderr.strip().splitlines()[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def train_child(arguments: dict) -> dict:
    """One recipe in this process: the Trainer over the stored latents; its phases.csv as a dict."""
    import torch

    from mame.training.settings import TrainSettings
    from mame.training.trainer import Trainer

    settings = TrainSettings.from_dict(arguments["settings"])
    out = Path(arguments["out"])
    started = time.perf_counter()
    Trainer(
        arguments["base"],
        [arguments["manifest"]],
        out / "pipeline",
        out / "checkpoints",
        settings,
        latents=[arguments["latents"]],
        model_name=arguments["recipe"],
    ).run()
    phases = pd.read_csv(out / "phases.csv").set_index("phase")
    steps = phases.loc["steps"]
    return {
        "recipe": arguments["recipe"],
        "settings": {k: v for k, v in arguments["settings"].items() if k not in ("validation_prompts",)},
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "load_s": float(phases.loc["load", "seconds"]),
        "first_steps_s": float(phases.loc["first_steps", "seconds"]),
        "steps_per_s": float(steps["steps_per_s"]),
        "step_peak_gb": round(float(phases.loc[["first_steps", "steps"], "peak_device_mb"].max()) / 1024, 2)
        if torch.cuda.is_available()
        else None,
        "validation_peak_gb": (
            round(float(phases.loc["validation", "peak_device_mb"]) / 1024, 2)
            if torch.cuda.is_available() and "validation" in phases.index
            else None
        ),
        "checkpoint_s": float(phases.loc["checkpoint", "seconds"]) if "checkpoint" in phases.index else None,
        "wall_s": round(time.perf_counter() - started, 1),
    }


def step_flops(base: str, batch: int) -> float:
    """FLOPs of one forward + backward of UNet and text encoder(s) at this batch (torch.utils.flop_counter),
    conditioned through the family adapter as the trainer conditions."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from mame.models.components import config_shape, load_components
    from mame.models.families import condition, denoise, latent_factor, time_ids, tokenize

    parts = load_components(base)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    parts.unet.to(device)
    parts.text_encoder.to(device)
    shape = config_shape(parts.unet.config, parts.vae.config)
    factor, channels = latent_factor(parts.vae.config), parts.vae.config.latent_channels
    latents = torch.randn(batch, channels, shape[0] // factor, shape[1] // factor, device=device)
    tokens = tokenize(parts.tokenizer, ["a mammogram in CC view with big area"] * batch, parts.family)
    tokens["time_ids"] = time_ids(pd.DataFrame(index=range(batch)), shape)
    tokens = {k: v.to(device) for k, v in tokens.items()}
    index = torch.arange(batch, device=device)
    with FlopCounterMode(display=False) as counter:
        hidden, added = condition(
            parts, parts.text_encoder, tokens, index, torch.zeros(batch, dtype=bool, device=device)
        )
        timesteps = torch.randint(0, 1000, (batch,), device=device)
        prediction = denoise(parts, parts.unet, latents, timesteps, hidden, added)
        prediction.float().pow(2).mean().backward()
    return float(counter.get_total_flops())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--vae-steps", type=int, default=20, help="--tiny: the tiny base's VAE pre-training")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--recipes", default="thesis,bf16,fastest")
    parser.add_argument("--family", choices=["sd15", "sd2", "sdxl", "sana"], default="sd15")
    parser.add_argument("--tiny", action="store_true", help="the demo's tiny model on a CPU: a smoke test")
    parser.add_argument("--no-reference", action="store_true", help="skip bench_gpu_step.py")
    parser.add_argument("--scratch", help="folder for the base, images and runs (default: a temp dir)")
    parser.add_argument("--out", default="bench/results/train_gpu.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(train_child(json.loads(Path(args.child).read_text()))))
        return
    import torch

    from mame.training.latents import encode_base_latents

    gpu = torch.cuda.is_available()
    if not gpu and not args.tiny:
        raise SystemExit("bench_train_gpu.py measures GPUs; use --tiny for a CPU smoke test")
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="bench-train-"))
    side = 64 if args.tiny else 1024 if args.family in ("sdxl", "sana") else 512
    manifest = write_images(scratch / "data", args.images, side)
    base = scratch / "base"
    started = time.perf_counter()
    if args.tiny:
        from mame.models.components import TinySpec
        from mame.models.tiny import build_tiny_base

        spec = TinySpec(resolution=side, family={"sd15": "sd1"}.get(args.family, args.family))
        build_tiny_base(
            [manifest],
            base,
            scratch / "base-inpainting",
            ["hologic", "siemens"],
            spec,
            vae_steps=args.vae_steps,
        )
    else:
        from mame.models.components import save_pipeline
        from mame.models.random_sd import random_components

        save_pipeline(random_components(args.family, ["hologic", "siemens"]), base)
    record = {
        "card": torch.cuda.get_device_name() if gpu else "cpu (smoke test)",
        "family": args.family,
        "torch": torch.__version__,
        "batch": args.batch,
        "resolution": side,
        "base_build_s": round(time.perf_counter() - started, 1),
    }
    started = time.perf_counter()
    store = encode_base_latents(str(base), [manifest], scratch / "latents", batch_size=32)
    record["encode"] = {
        "images": len(store),
        "seconds": round(time.perf_counter() - started, 2),
        "device": store.info["device"],
        "precision": store.info["precision"],
    }
    runs = []
    for recipe in args.recipes.split(","):
        settings = {
            **RECIPES[recipe],
            "steps": args.steps,
            "batch_size": args.batch,
            "lr": 1e-6,
            "lr_schedule": "constant",
            "caption_dropout": 0.1,
            "validation_every": args.steps,
            "validation_prompts": ["a mammogram in CC view with big area"] * 4,
            "checkpoint_every": args.steps // 2,
            "keep_checkpoints": 1,
        }
        if not gpu:
            settings = {
                **settings,
                "mixed_precision": "no",
                "adam_8bit": False,
                "fused_adam": False,
                "compile": False,
            }
        runs.append(
            run_recipe(
                __file__,
                scratch / f"{recipe}.json",
                {"recipe": recipe, "settings": settings, "base": str(base), "manifest": manifest,
                 "latents": str(store.folder), "out": str(scratch / "runs" / recipe)},
            )
        )  # fmt: skip
        print(json.dumps(runs[-1]), flush=True)
    record["runs"] = runs
    flops = step_flops(str(base), args.batch)
    record["tflop_per_step"] = round(flops / 1e12, 2)
    peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in record["card"]), None)
    for run in runs:
        if "steps_per_s" in run and peak:
            run["share_of_bf16_peak"] = round(run["steps_per_s"] * flops / 1e12 / peak, 3)
            run["ceiling_steps_per_s"] = round(peak * 1e12 / flops, 1)
    if gpu and not args.no_reference:
        reference = Path(__file__).with_name("bench_gpu_step.py")
        out = scratch / "gpu_step.json"
        subprocess.run(
            [sys.executable, str(reference), "--batch", str(args.batch), "--out", str(out)], check=True
        )
        hand = {r["recipe"]: r for r in json.loads(out.read_text())["runs"]}
        record["hand_loop"] = list(hand.values())
        pairs = {"thesis": "study", "bf16": "ours", "fastest": "ours"}
        for run in runs:
            if "steps_per_s" in run and pairs.get(run["recipe"]) in hand:
                run["ratio_to_hand_loop"] = round(
                    run["steps_per_s"] / hand[pairs[run["recipe"]]]["steps_per_s"], 3
                )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
