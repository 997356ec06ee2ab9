"""GPU benchmark of the sweep's sampler and of the latent stage at SD-1.5 size, side by side in one run.

An SD-1.5-size base with random weights (`mame.models.random_sd`, no download; the speed of a network
does not depend on its weights), 512 px, DPM-Solver multistep, classifier-free guidance 7:
  plain      a plain diffusers `StableDiffusionPipeline` call per image (fp16): the reference
  sweep      the project's sampler as the sweep rule runs it (`load_pipeline` + `generate`, one batch)
  bf16_cl    the same in bf16 with channels-last UNet and VAE (attention is PyTorch SDPA in every row)
  compile    bf16_cl + torch.compile of the UNet, its compilation warmed up before the timed batches
Each recipe samples one untimed warm-up batch, then `--batches` timed ones; images/s and the ratio to
`plain`. Then the study's full sweep is projected in minutes: 50 images x every prompt of the thesis
config's three models x 11 guidance scales (4 ... 14). The latent stage (`encode_base_latents`, PNG
decoding included) is timed on `--images` images and projected to the study's 56,026.

    python bench/bench_sample_gpu.py --out bench/results/sample_gpu.json      # a GPU machine
    python bench/bench_sample_gpu.py --tiny --batches 1                       # CPU smoke test
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_train_gpu import write_images  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STUDY_IMAGES = 56_026
STUDY_GUIDANCE_SCALES = 11
STUDY_IMAGES_PER_PROMPT = 50
RECIPES = ("plain", "sweep", "bf16_cl", "compile")


def study_prompts() -> int:
    """Prompts of the thesis config's three text-to-image models, as the sweep rule builds them."""
    from mame.config import check_config
    from mame.sampling.specs import prompt_specs

    config = yaml.safe_load((REPO / "config" / "thesis.yaml").read_text())
    check_config(config)
    return sum(len(prompt_specs(config, model)) for model in config["models"]["finetune"])


def sampler(recipe: str, base: str, device: str):
    """The pipeline of one recipe, and the function that samples a batch of prompts with it."""
    import torch
    from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline

    from mame.sampling.sweep import generate, load_pipeline

    half = torch.float16 if device == "cuda" else torch.float32
    if recipe == "plain":
        pipeline = StableDiffusionPipeline.from_pretrained(base, dtype=half, safety_checker=None).to(device)
        pipeline.scheduler = DPMSolverMultistepScheduler.from_config(pipeline.scheduler.config)
        pipeline.set_progress_bar_config(disable=True)

        def run(prompts, seeds, steps):
            for prompt, seed in zip(prompts, seeds, strict=True):  # one call per image, as most scripts do
                generator = torch.Generator(device).manual_seed(seed)
                pipeline(prompt, num_inference_steps=steps, guidance_scale=7.0, generator=generator)

        return run
    pipeline = load_pipeline(base, device=device)
    if recipe in ("bf16_cl", "compile"):
        pipeline.to(dtype=torch.bfloat16 if device == "cuda" else torch.float32)
        pipeline.unet.to(memory_format=torch.channels_last)
        pipeline.vae.to(memory_format=torch.channels_last)
    if recipe == "compile" and device == "cuda":
        pipeline.unet = torch.compile(pipeline.unet, mode="max-autotune-no-cudagraphs", fullgraph=True)

    def run(prompts, seeds, steps):
        generate(pipeline, prompts, seeds, guidance=7.0, steps=steps)

    return run


def time_recipe(recipe: str, base: str, device: str, batch: int, batches: int, steps: int) -> dict:
    import torch

    from mame.prompts import build_prompt

    started = time.perf_counter()
    run = sampler(recipe, base, device)
    prompts = [build_prompt("CC", vendor="hologic", area="big")] * batch
    run(prompts, list(range(batch)), steps)  # warm-up: cuDNN autotuning, compilation
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    warm = time.perf_counter()
    for number in range(batches):
        run(prompts, [1000 * (number + 1) + i for i in range(batch)], steps)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - warm
    return {
        "recipe": recipe,
        "images_per_s": round(batch * batches / seconds, 3),
        "load_and_warm_up_s": round(warm - started, 1),
        "peak_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--images", type=int, default=256, help="images for the latent stage")
    parser.add_argument("--recipes", default=",".join(RECIPES))
    parser.add_argument("--tiny", action="store_true", help="the demo's tiny model on a CPU: a smoke test")
    parser.add_argument("--out", default="bench/results/sample_gpu.json")
    args = parser.parse_args()
    import torch

    from mame.training.latents import encode_base_latents

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.tiny:
        raise SystemExit("bench_sample_gpu.py measures GPUs; use --tiny for a CPU smoke test")
    scratch = Path(tempfile.mkdtemp(prefix="bench-sample-"))
    side = 64 if args.tiny else 512
    manifest = write_images(scratch / "data", args.images, side)
    base = scratch / "base"
    if args.tiny:
        from mame.models.components import TinySpec
        from mame.models.tiny import build_tiny_base

        vendors = ["hologic", "siemens"]
        build_tiny_base([manifest], base, scratch / "inpaint", vendors, TinySpec(side), vae_steps=5)
    else:
        from mame.models.components import save_pipeline
        from mame.models.random_sd import sd15_components

        save_pipeline(sd15_components(["hologic", "siemens"]), base)
    card = torch.cuda.get_device_name() if device == "cuda" else "cpu (smoke test)"
    record = {"card": card, "torch": torch.__version__, "resolution": side}
    record |= {"batch": args.batch, "steps": args.steps}
    started = time.perf_counter()
    store = encode_base_latents(str(base), [manifest], scratch / "latents", batch_size=32)
    rate = len(store) / (time.perf_counter() - started)
    record["latent_stage"] = {
        "images": len(store),
        "images_per_s": round(rate, 2),
        "precision": store.info["precision"],
        "study_minutes": round(STUDY_IMAGES / rate / 60, 1),
    }
    print(json.dumps(record["latent_stage"]), flush=True)
    runs = []
    for recipe in args.recipes.split(","):
        try:
            runs.append(time_recipe(recipe, str(base), device, args.batch, args.batches, args.steps))
        except Exception as error:  # noqa: BLE001 - one recipe failing (e.g. compile) must not hide the rest
            runs.append({"recipe": recipe, "error": f"{type(error).__name__}: {error}"[:500]})
        print(json.dumps(runs[-1]), flush=True)
    timed = {r["recipe"]: r["images_per_s"] for r in runs if "images_per_s" in r}
    reference = timed.get("plain")
    sweep_images = STUDY_IMAGES_PER_PROMPT * study_prompts() * STUDY_GUIDANCE_SCALES
    for run in runs:
        if "images_per_s" in run:
            run["ratio_to_plain"] = round(run["images_per_s"] / reference, 3) if reference else None
            run["study_sweep_minutes"] = round(sweep_images / run["images_per_s"] / 60, 1)
    record["runs"] = runs
    record["study_sweep_images"] = sweep_images
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
