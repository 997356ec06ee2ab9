"""The domain feature space: a small CNN trained by the pipeline on the real training images only.

Distribution metrics (Frechet distance, KID, precision / recall / density / coverage) and the
feature-space memorization check need features in which mammograms differ the way mammograms differ;
ImageNet features are not that, and downloading them is not possible offline. The encoder learns the
real images' own labels (view, vendor and each vendor's attribute: area or density) with one linear
head each; its penultimate layer (global average of the last convolution, `FEATURES` values) is the
feature space. It never sees a sample, so it cannot be tuned to the generator.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from mame.io import read_pixels, to_unit

log = logging.getLogger(__name__)

SIDE = 64  # every image is seen at 64 x 64: the features compare images of any size or shape
FEATURES = 64
LABELS = ("view", "vendor", "area", "density")


def as_input(pixels: np.ndarray, side: int = SIDE) -> np.ndarray:
    """A grey uint8/uint16 image -> float32 (1, side, side) in [0, 1], box-resized."""
    return to_unit(pixels, side)[None]


def load_inputs(paths: list[str], side: int = SIDE) -> torch.Tensor:
    """Grey PNGs (8 or 16 bit, any shape) as float (n, 1, side, side) in [0, 1]."""
    if not paths:
        return torch.zeros((0, 1, side, side))
    return torch.from_numpy(np.stack([as_input(read_pixels(p), side) for p in paths]))


class Encoder(nn.Module):
    """Four strided 3x3 convolutions (16-32-64-64 channels), batch norm and ReLU, global average pool."""

    def __init__(self, heads: dict[str, int]):
        super().__init__()
        layers, channels = [], 1
        for width in (16, 32, 64, FEATURES):
            layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
            channels = width
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.heads = nn.ModuleDict({name: nn.Linear(FEATURES, count) for name, count in heads.items()})

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.body(x)
        return {name: head(features) for name, head in self.heads.items()}

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch: int = 256) -> np.ndarray:
        """Penultimate-layer features of a batch of inputs (eval mode)."""
        self.eval()
        if len(x) == 0:
            return np.zeros((0, FEATURES), np.float32)
        return torch.cat([self.body(x[i : i + batch]) for i in range(0, len(x), batch)]).numpy()


@dataclass
class TrainedEncoder:
    model: Encoder
    classes: dict[str, list[str]]
    accuracy: dict[str, float]  # training accuracy per head, a sanity check that it learned
    side: int = SIDE  # the input side it was trained at (full-field patches: their own side)

    def embed_paths(self, paths: list[str]) -> np.ndarray:
        return self.model.embed(load_inputs(paths, self.side))

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        """Features of grey images already in memory (uint8 or uint16, any shape)."""
        if not images:
            return np.zeros((0, FEATURES), np.float32)
        return self.model.embed(torch.from_numpy(np.stack([as_input(i, self.side) for i in images])))

    def embed_unit(self, patches: np.ndarray) -> np.ndarray:
        """Features of float patches in [0, 1] (n, side, side), as they are: no resizing."""
        if len(patches) and patches.shape[1:] != (self.side, self.side):
            raise ValueError(f"the encoder takes {self.side} px patches, got {patches.shape[1:]}")
        return self.model.embed(torch.from_numpy(np.asarray(patches, np.float32)[:, None]))

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(self.model.state_dict(), folder / "encoder.pt")
        info = {"classes": self.classes, "accuracy": self.accuracy, "side": self.side}
        (folder / "encoder.json").write_text(json.dumps(info, indent=1) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> TrainedEncoder:
        folder = Path(folder)
        info = json.loads((folder / "encoder.json").read_text())
        model = Encoder({name: len(values) for name, values in info["classes"].items()})
        model.load_state_dict(torch.load(folder / "encoder.pt", weights_only=True))
        model.eval()
        return cls(model, info["classes"], info["accuracy"], int(info.get("side", SIDE)))


def train_encoder(
    real: pd.DataFrame, steps: int = 300, batch_size: int = 32, seed: int = 0
) -> TrainedEncoder:
    """Train on real images (rows: image and the LABELS they have; empty = unknown, not a class)."""
    return fit_encoder(load_inputs(real["image"].tolist()), real, steps, batch_size, seed)


def fit_encoder(
    inputs: torch.Tensor, labels: pd.DataFrame, steps: int = 300, batch_size: int = 32, seed: int = 0
) -> TrainedEncoder:
    """Train on float inputs (n, 1, side, side) whose rows of `labels` hold the LABELS they have."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    classes, targets = {}, {}
    for name in LABELS:
        if name not in labels.columns:
            continue
        values = labels[name].fillna("").astype(str)
        known = sorted(v for v in values.unique() if v)
        if len(known) < 2:
            continue
        classes[name] = known
        targets[name] = torch.tensor([known.index(v) if v else -100 for v in values])
    if not classes:
        raise ValueError("the encoder needs at least one label with two values among the real images")
    model = Encoder({name: len(values) for name, values in classes.items()})
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    loss_function = nn.CrossEntropyLoss(ignore_index=-100)
    started = time.perf_counter()
    model.train()
    for _ in range(steps):
        index = torch.randint(len(inputs), (min(batch_size, len(inputs)),), generator=generator)
        batch = inputs[index]
        outputs = model(batch)
        loss = sum(loss_function(outputs[name], targets[name][index]) for name in classes)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        outputs = {
            name: torch.cat([model(inputs[i : i + 256])[name] for i in range(0, len(inputs), 256)])
            for name in classes
        }
    accuracy = {}
    for name in classes:
        known = targets[name] != -100
        accuracy[name] = float((outputs[name].argmax(1)[known] == targets[name][known]).float().mean())
    log.info(
        "domain encoder: %d real images, %d steps in %.1f s; training accuracy %s",
        len(inputs),
        steps,
        time.perf_counter() - started,
        {k: round(v, 3) for k, v in accuracy.items()},
    )
    return TrainedEncoder(model, classes, accuracy, int(inputs.shape[-1]))
