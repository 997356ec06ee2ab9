"""Tiled super-resolution at two output sizes: peak memory and time of the real upscaling path
(`mame.sampling.upscale.upscale_image` through a `StableDiffusionUpscalePipeline`), the demo's tiny x4
twin with random weights, each size in its own process, one thread, side by side in one run.

Peak RSS above the process's state after building the pipeline is what the upscaling holds: the output,
its weight sum and back-projection's copies grow with the pixels (a few float32 images), a tile's
pipeline call does not. The ratio of that growth to the output's own float32 size should stay flat
when the side grows 4x (16x the pixels).

    python bench/bench_upscale.py --sides 64 256 --out bench/results/upscale.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def child(side: int, steps: int, tile: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from mame.models.components import (
        Components,
        TinySpec,
        build_pipeline,
        tiny_text_encoder,
        tiny_unet,
        tiny_vae,
    )
    from mame.models.tokenizer import build_tokenizer, prompt_corpus
    from mame.models.upscaler import (
        IMAGE_CHANNELS,
        NOISE_CLASSES,
        UPSCALER_SCALING,
        tiny_upscaler_spec,
        twin_latent_channels,
        upscaler_schedulers,
    )
    from mame.sampling.upscale import UpscaleSettings, upscale_image

    torch.manual_seed(0)
    spec = tiny_upscaler_spec(TinySpec(), 4, 32)
    vae = tiny_vae(spec, twin_latent_channels(4))
    vae.register_to_config(scaling_factor=UPSCALER_SCALING)
    tokenizer = build_tokenizer(prompt_corpus(["hologic"]))
    latent = vae.config.latent_channels
    unet = tiny_unet(spec, latent + IMAGE_CHANNELS, NOISE_CLASSES, 4, out_channels=latent)
    scheduler, extra = upscaler_schedulers()
    components = Components(tokenizer, tiny_text_encoder(spec, tokenizer), vae, unet, scheduler, extra=extra)
    pipeline = build_pipeline(components, upscaling=True)
    pipeline.set_progress_bar_config(disable=True)
    image = (np.random.default_rng(0).random((side, side)) * 65535).astype(np.uint16)
    settings = UpscaleSettings(steps=steps, tile=tile)
    upscale_image(pipeline, image[:tile, :tile], "a mammogram", settings, 0)  # warm the kernels
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.perf_counter()
    result = upscale_image(pipeline, image, "a mammogram", settings, 0)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    output_bytes = result.size * 4
    return {
        "side": side,
        "output": list(result.shape),
        "seconds": round(seconds, 2),
        "seconds_per_mpx": round(seconds / (result.size / 1e6), 2),
        "rss_growth_mb": round((peak - before) / 1e6, 1),
        "output_mb": round(output_bytes / 1e6, 1),
        "growth_per_output": round((peak - before) / output_bytes, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--tile", type=int, default=32)
    parser.add_argument("--out", default="bench/results/upscale.json")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.steps, args.tile)))
        return 0
    rows = []
    for side in args.sides:
        command = [
            sys.executable,
            __file__,
            "--child",
            str(side),
            "--steps",
            str(args.steps),
            "--tile",
            str(args.tile),
        ]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]))
    first = rows[0]
    for row in rows[1:]:
        row["pixels_ratio"] = round((row["side"] / first["side"]) ** 2, 1)
        row["time_ratio"] = round(row["seconds"] / first["seconds"], 2)
        row["growth_per_output_ratio"] = round(
            row["growth_per_output"] / max(first["growth_per_output"], 1e-9), 2
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    print(json.dumps(rows[1:], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
