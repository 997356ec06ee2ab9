"""CPU training step of the demo's tiny model: today's fp32 step against channels-last, bf16 autocast,
both, and torch's fused AdamW, side by side in one run, through the project's own Trainer (each recipe
in its own process, one thread, the same latents and seed). Also the loss each reaches, so a faster
step that learns less shows: the mean loss of the last quarter of steps per recipe. `--text-lengths`
builds one tiny base per prompt length (CLIP's 77 against the tiny twin's 32), `--unet-shapes` one per
UNet width list, and every recipe runs on each base.

    python bench/bench_cpu_step.py --steps 120 --rounds 2 --out bench/results/cpu_step.json
    python bench/bench_cpu_step.py --recipes fused_adam --text-lengths 77,32 --rounds 3
    python bench/bench_cpu_step.py --recipes fused_adam --unet-shapes 64-128-128,32-64-64 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_train_gpu import run_recipe, write_images  # noqa: E402

RECIPES = {
    "fp32": {},
    "channels_last": {"channels_last": True},
    "bf16": {"mixed_precision": "bf16"},
    "bf16_channels_last": {"mixed_precision": "bf16", "channels_last": True},
    "fused_adam": {"fused_adam": True},
    "fused_adam_channels_last": {"fused_adam": True, "channels_last": True},
}


def child(arguments: dict) -> dict:
    """One recipe in this process: steps/s from phases.csv, the loss curve from training_log.csv."""
    import torch

    torch.set_num_threads(1)
    from mame.training.settings import TrainSettings
    from mame.training.trainer import Trainer

    out = Path(arguments["out"])
    Trainer(
        arguments["base"],
        [arguments["manifest"]],
        out / "pipeline",
        out / "checkpoints",
        TrainSettings.from_dict(arguments["settings"]),
        latents=[arguments["latents"]],
        model_name=arguments["recipe"],
    ).run()
    phases = pd.read_csv(out / "phases.csv").set_index("phase")
    losses = pd.read_csv(out / "training_log.csv")[
        "loss"
    ].to_numpy()  # the Trainer writes it beside pipeline/
    tail = losses[-max(1, len(losses) // 4) :]
    return {
        "recipe": arguments["recipe"],
        "steps_per_s": float(phases.loc["steps", "steps_per_s"]),
        "late_loss": round(float(tail.mean()), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--batch", type=int, default=16, help="the demo's batch")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="every recipe once per round, interleaved")
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--text-lengths", default="32", help="tokens per prompt of each tiny base built")
    parser.add_argument(
        "--unet-shapes", default="64-128-128", help="UNet block widths of each base built (a-b-c,...)"
    )
    parser.add_argument("--out", default="bench/results/cpu_step.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(Path(args.child).read_text()))))
        return
    from mame.models.components import TinySpec
    from mame.models.tiny import build_tiny_base
    from mame.training.latents import encode_base_latents

    scratch = Path(tempfile.mkdtemp(prefix="bench-cpu-step-"))
    manifest = write_images(scratch / "data", args.images, 64)
    lengths = [int(n) for n in args.text_lengths.split(",")]
    shapes = args.unet_shapes.split(",")
    variants = [(length, shape) for length in lengths for shape in shapes]
    bases, stores = {}, {}
    for length, shape in variants:
        tag = f"{length}-{shape}"
        base = bases[tag] = scratch / f"base-{tag}"
        spec = TinySpec(64, text_length=length, unet_channels=tuple(int(c) for c in shape.split("-")))
        build_tiny_base([manifest], base, scratch / f"inpainting-{tag}", ["hologic", "siemens"], spec,
                        vae_steps=20)  # fmt: skip
        stores[tag] = encode_base_latents(str(base), [manifest], scratch / f"latents-{tag}", batch_size=32)
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    runs = []
    for round_index in range(args.rounds):
        for (length, shape), recipe in [(v, r) for v in variants for r in args.recipes.split(",")]:
            tag = f"{length}-{shape}"
            suffix = "".join(
                (f"@{length}" if len(lengths) > 1 else "", f"@unet{shape}" if len(shapes) > 1 else "")
            )
            name = recipe + suffix
            settings = {
                **RECIPES[recipe],
                "steps": args.steps,
                "batch_size": args.batch,
                "lr": 5e-4,
                "lr_schedule": "constant_with_warmup",
                "warmup_steps": 10,
                "caption_dropout": 0.1,
                "validation_every": 0,
                "checkpoint_every": 0,
                "seed": 0,
            }
            started = time.perf_counter()
            result = run_recipe(
                __file__,
                scratch / f"{name}-{round_index}.json",
                {"recipe": name, "settings": settings, "base": str(bases[tag]), "manifest": manifest,
                 "latents": str(stores[tag].folder),
                 "out": str(scratch / "runs" / f"{name}-{round_index}")},
                environment,
            )  # fmt: skip
            runs.append({**result, "round": round_index, "wall_s": round(time.perf_counter() - started, 1)})
            print(json.dumps(runs[-1]), flush=True)
    table = pd.DataFrame([r for r in runs if "steps_per_s" in r])
    summary = table.groupby("recipe", sort=False).agg(
        steps_per_s=("steps_per_s", "median"), late_loss=("late_loss", "mean")
    )
    reference = summary.index[0]  # the first recipe on the first base
    ratio = summary["steps_per_s"] / summary.loc[reference, "steps_per_s"]
    summary[f"ratio_to_{reference}"] = ratio.round(3)
    print(summary.to_string())
    record = {
        "steps": args.steps,
        "batch": args.batch,
        "threads": 1,
        "runs": runs,
        "summary": summary.reset_index().to_dict("records"),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
