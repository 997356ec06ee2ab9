"""GPU benchmark: one 512 px fine-tuning step of an SD-1.5-size UNet + CLIP-L text encoder, batch 16.

Builds both models from their configs (random weights: no download) and times a training step on
cached latents (the VAE is frozen, so training never runs it) for two recipes:
  study - fp16 autocast + GradScaler, 8-bit AdamW (bitsandbytes), gradient checkpointing, SDPA
  ours  - bf16 autocast, fused torch AdamW, TF32 matmuls, SDPA, no checkpointing when memory allows
Reports peak GPU memory and steps/s for each, measured in one run on one card.
Usage (GPU machine): python bench/bench_gpu_step.py [--steps 10] [--out bench/results/gpu_step.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from mame.models.random_sd import CLIP_L, SD15_UNET

CLIP_VOCAB = 49408  # CLIP-L's own vocabulary (the pipeline's tokenizer is smaller)


def build(checkpointing: bool):
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    unet = UNet2DConditionModel(in_channels=4, **SD15_UNET).cuda()
    config = CLIPTextConfig(
        vocab_size=CLIP_VOCAB, max_position_embeddings=77, hidden_act="quick_gelu", **CLIP_L
    )
    text = CLIPTextModel(config).cuda()
    if checkpointing:
        unet.enable_gradient_checkpointing()
        text.gradient_checkpointing_enable()
    return unet, text


def optimizer_for(params, eight_bit: bool):
    if eight_bit:
        try:
            import bitsandbytes

            return bitsandbytes.optim.AdamW8bit(params, lr=1e-6), "AdamW8bit"
        except ImportError:
            pass
    return torch.optim.AdamW(params, lr=1e-6, fused=True), "AdamW (fused)"


def run(recipe: str, steps: int, batch: int) -> dict:
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    study = recipe == "study"
    torch.backends.cuda.matmul.allow_tf32 = not study
    torch.backends.cudnn.allow_tf32 = not study
    unet, text = build(checkpointing=study)
    optimizer, optimizer_name = optimizer_for(
        list(unet.parameters()) + list(text.parameters()), eight_bit=study
    )
    dtype = torch.float16 if study else torch.bfloat16
    scaler = torch.amp.GradScaler("cuda", enabled=study)
    latents = torch.randn(batch, 4, 64, 64, device="cuda")
    ids = torch.randint(0, CLIP_VOCAB, (batch, 77), device="cuda")
    timings = []
    for step in range(steps + 3):
        torch.cuda.synchronize()
        started = time.perf_counter()
        with torch.autocast("cuda", dtype=dtype):
            hidden = text(ids)[0]
            noise = torch.randn_like(latents)
            timesteps = torch.randint(0, 1000, (batch,), device="cuda")
            prediction = unet(latents + noise, timesteps, hidden).sample
            loss = torch.nn.functional.mse_loss(prediction.float(), noise)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(list(unet.parameters()) + list(text.parameters()), 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if step >= 3:
            timings.append(time.perf_counter() - started)
    result = {
        "recipe": recipe,
        "optimizer": optimizer_name,
        "autocast": str(dtype).split(".")[-1],
        "gradient_checkpointing": study,
        "peak_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "steps_per_s": round(len(timings) / sum(timings), 3),
        "batch": batch,
    }
    del unet, text, optimizer
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--out", default="bench/results/gpu_step.json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("bench_gpu_step.py needs a CUDA GPU; nothing else in the project does")
    results = {
        "card": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "runs": [run(recipe, args.steps, args.batch) for recipe in ("study", "ours")],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
