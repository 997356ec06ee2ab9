"""Metrics during training: at each validation step, the validation prompts' images measured as the
evaluation stage measures a sweep, so a run can be compared with itself over steps.

The Trainer samples each validation prompt `validation_metric_images` times with fixed seeds and hands
the images here (the training stage stays below evaluation: it only calls what it is given). They are
written as PNGs and read back by the evaluation's own functions:
- FD in the domain feature space against the model's real training images, one n per run, with the
  central 95 % of redraws of the real images (`distribution_table`, as rule distribution);
- condition fidelity per attribute the prompts ask for, with its Wilson interval (`classify_attributes`,
  as rule fidelity reads a sweep: classifiers trained on the real images, read among the asked values);
- mean pairwise MS-SSIM per prompt (`diversity_table`), pooled over prompts as the grid comparison
  pools it.
Rows go to `validation_metrics.csv` beside the training log, and to the trackers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from mame.evaluation.distribution import distribution_table
from mame.evaluation.diversity import diversity_table
from mame.evaluation.encoder import TrainedEncoder, train_encoder
from mame.evaluation.experiments import point_metrics
from mame.evaluation.fidelity import classify_attributes, fidelity_by_guidance
from mame.io import in_split, read_manifests
from mame.prompts import parse_prompt
from mame.sampling.sweep import quantise

log = logging.getLogger(__name__)


class TrainingMetrics:
    """Fitted once per run on the model's real training images; called at every validation step."""

    def __init__(self, real: pd.DataFrame, encoder: TrainedEncoder, draws: int = 20, seed: int = 0):
        self.real = real.reset_index(drop=True)
        self.encoder, self.draws, self.seed = encoder, draws, seed
        train = in_split(self.real).drop_duplicates("image")
        holdout = in_split(self.real, "holdout").drop_duplicates("image")
        self.train_features = encoder.embed_paths(train["image"].tolist())
        self.holdout_features = encoder.embed_paths(holdout["image"].tolist())

    @classmethod
    def from_manifests(
        cls, manifests: list[str], encoder: str | Path | None = None, seed: int = 0
    ) -> TrainingMetrics:
        """The model's manifests, and the pipeline's domain encoder (rule domain_encoder) when given;
        else one trained on these real images."""
        real = read_manifests(manifests)
        trained = (
            TrainedEncoder.load(encoder)
            if encoder
            else train_encoder(in_split(real).drop_duplicates("image"), seed=seed)
        )
        return cls(real, trained, seed=seed)

    def samples(
        self, images: list[np.ndarray], prompts: list[str], guidance: float, folder: Path
    ) -> pd.DataFrame:
        """The images as a sweep's samples table (file, prompt, guidance, seed and the asked attributes),
        written as 8-bit grey PNGs into `folder`."""
        folder.mkdir(parents=True, exist_ok=True)
        rows, counts = [], {}
        for image, prompt in zip(images, prompts, strict=True):
            number = counts[prompt] = counts.get(prompt, -1) + 1
            index = list(dict.fromkeys(prompts)).index(prompt)
            path = folder / f"p{index:02d}_s{number:02d}.png"
            grey = np.asarray(image, np.float32)
            Image.fromarray(quantise(grey.mean(axis=2) if grey.ndim == 3 else grey, 8)).save(path)
            asked = parse_prompt(prompt)
            rows.append({"model": "validation", "file": str(path), "prompt": prompt, "prompt_index": index,
                         "seed": number, "guidance": guidance,
                         **{key: asked.get(key, "") for key in ("view", "area", "density")}})  # fmt: skip
        return pd.DataFrame(rows)

    def measure(self, samples: pd.DataFrame, guidance: float) -> list[dict]:
        """(metric, value, low, high, n) rows of one validation step's samples."""
        features = self.encoder.embed_paths(samples["file"].tolist())
        try:
            distribution = distribution_table(
                {guidance: features}, self.train_features, self.holdout_features, self.draws, self.seed
            )
        except ValueError as error:  # too few images for PRDC's neighbours: no FD row, said once
            log.warning("validation metrics: no FD (%s)", error)
            distribution = pd.DataFrame(columns=["guidance", "compared"])
        fidelity = fidelity_by_guidance(classify_attributes(samples, self.real, seed=self.seed))
        diversity = diversity_table(samples, pd.DataFrame(columns=["prompt", "image"]), 0, seed=self.seed)
        separability = pd.DataFrame(columns=["guidance"])
        return point_metrics(distribution, fidelity, diversity, separability, guidance)

    def __call__(
        self, images: list[np.ndarray], prompts: list[str], step: int, guidance: float, folder: Path
    ) -> list[dict]:
        samples = self.samples(images, prompts, guidance, Path(folder) / f"step_{step:06d}")
        return [{"step": step, **row} for row in self.measure(samples, guidance)]
