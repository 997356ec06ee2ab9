"""The downstream classifier of the utility experiments: the domain encoder's small CNN with one head.

Plain torch (torchvision does not install beside this torch). Same architecture as the domain encoder
(four strided convolutions, global average pool), a fixed budget of steps, seeded batches and
horizontal flips (left and right breasts are mirror images), so every arm of an experiment gets the
same training and differs only in its data.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from mame.evaluation.encoder import Encoder

HEAD = "task"


def train_classifier(
    inputs: torch.Tensor,
    labels: np.ndarray,
    classes: int,
    steps: int,
    batch_size: int = 32,
    lr: float = 3e-3,
    seed: int = 0,
    start: Encoder | None = None,
) -> Encoder:
    """`steps` AdamW steps of cross-entropy on random batches (with flips); `start` is fine-tuned (copied)."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = copy.deepcopy(start) if start is not None else Encoder({HEAD: classes})
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    targets = torch.tensor(np.array(labels), dtype=torch.long)
    loss_function = nn.CrossEntropyLoss()
    model.train()
    for _ in range(steps):
        index = torch.randint(len(inputs), (min(batch_size, len(inputs)),), generator=generator)
        batch = inputs[index]
        flip = torch.rand(len(batch), generator=generator) < 0.5
        batch = torch.where(flip[:, None, None, None], batch.flip(-1), batch)
        loss = loss_function(model(batch)[HEAD], targets[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    return model


@torch.no_grad()
def class_probabilities(model: Encoder, inputs: torch.Tensor, batch: int = 256) -> np.ndarray:
    """Softmax over the classes for every input (eval mode), (n, classes)."""
    model.eval()
    logits = torch.cat([model(inputs[i : i + batch])[HEAD] for i in range(0, len(inputs), batch)])
    return torch.softmax(logits, dim=1).numpy()
