"""All-pairs MS-SSIM: 50 images of 512 x 512, all 1,225 pairs, side by side in one run.

  ours         - mame.evaluation.msssim.ms_ssim_all_pairs (per-image means/variances filtered once per scale)
  pytorch-msssim - its ms_ssim, one pair per call (the original definition, float64)
  torchmetrics - MultiScaleStructuralSimilarityIndexMeasure, one pair per call, data_range=255
The score columns show that ours equals pytorch-msssim and how far torchmetrics reads above it.
Usage: python bench/bench_msssim.py [--images 50] [--side 512] [--threads 1]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np
import torch

from mame.evaluation.msssim import ms_ssim_all_pairs, pair_values


def phantom_like(count: int, side: int, seed: int = 0) -> list[np.ndarray]:
    """Smooth random textures with a dark background: mammogram-like statistics, no files needed."""
    rng = np.random.default_rng(seed)
    images = []
    yy, xx = np.mgrid[0:side, 0:side]
    for _ in range(count):
        noise = np.fft.irfft2(
            np.fft.rfft2(rng.standard_normal((side, side)))
            / (1 + np.hypot(*np.meshgrid(np.fft.rfftfreq(side), np.fft.fftfreq(side))) * side / 8)
        )
        noise = (noise - noise.min()) / (noise.max() - noise.min())
        breast = (xx / (side * rng.uniform(0.6, 0.95))) ** 2 + ((yy - side / 2) / (side * 0.45)) ** 2 <= 1
        images.append(np.where(breast, 60 + 180 * noise, 0).round())
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="bench/results/msssim.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = phantom_like(args.images, args.side)
    pairs = list(itertools.combinations(range(len(images)), 2))
    started = time.perf_counter()
    matrix, scales = ms_ssim_all_pairs(images)
    ours_s = time.perf_counter() - started
    ours = pair_values(matrix)

    from pytorch_msssim import ms_ssim as reference

    tensors = [torch.tensor(i)[None, None] for i in images]
    started = time.perf_counter()
    ref = np.array([float(reference(tensors[i], tensors[j], data_range=255)) for i, j in pairs])
    ref_s = time.perf_counter() - started

    from torchmetrics.image import MultiScaleStructuralSimilarityIndexMeasure

    metric = MultiScaleStructuralSimilarityIndexMeasure(data_range=255.0)
    floats = [t.float() for t in tensors]
    started = time.perf_counter()
    tm = np.array([float(metric(floats[i], floats[j])) for i, j in pairs])
    tm_s = time.perf_counter() - started
    result = {
        "images": len(images),
        "side": args.side,
        "pairs": len(pairs),
        "scales": scales,
        "threads": args.threads,
        "ours_s": round(ours_s, 2),
        "pytorch_msssim_s": round(ref_s, 2),
        "torchmetrics_s": round(tm_s, 2),
        "speedup_vs_pytorch_msssim": round(ref_s / ours_s, 2),
        "speedup_vs_torchmetrics": round(tm_s / ours_s, 2),
        "max_abs_diff_vs_pytorch_msssim": float(np.abs(ours - ref).max()),
        "torchmetrics_minus_ours_mean": round(float((tm - ours).mean()), 4),
        "mean_ours": round(float(ours.mean()), 4),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
