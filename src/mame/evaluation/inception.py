"""Standard Inception FID, when its weights are on disk.

Peers report FID with the 2015 Inception network; its weights cannot be downloaded in an offline run,
so this is computed only when the TorchScript detector that StyleGAN2-ADA and clean-fid use
(`inception-2015-12-05.pt`: uint8 NCHW RGB images of any size in, resized inside, 2048 pool features
out with `return_features=True`) is found: `evaluation.inception_weights`, else $MAME_INCEPTION, else
torch's hub cache. Otherwise the table says why there is no number, and the domain feature space's FD
stands in. Grey images are repeated over three channels, 16-bit images rendered to 8 bits first.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mame.evaluation.distribution import frechet_distance
from mame.io import read_pixels, to_display

log = logging.getLogger(__name__)

FILE_NAME = "inception-2015-12-05.pt"


def find_weights(configured: str | None = None) -> Path | None:
    """The detector file: the configured path, $MAME_INCEPTION, or torch's hub checkpoint cache."""
    candidates = [configured, os.environ.get("MAME_INCEPTION")]
    candidates.append(str(Path(torch.hub.get_dir()) / "checkpoints" / FILE_NAME))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def inception_features(model: torch.jit.ScriptModule, paths: list[str], batch: int = 32) -> np.ndarray:
    """2048 pool features per image (uint8 RGB NCHW at the image's own size)."""
    features = []
    for start in range(0, len(paths), batch):
        images = [to_display(read_pixels(p)) for p in paths[start : start + batch]]
        grey = torch.from_numpy(np.stack(images))[:, None]
        with torch.no_grad():
            features.append(model(grey.repeat(1, 3, 1, 1), return_features=True).double().numpy())
    return np.concatenate(features) if features else np.zeros((0, 2048))


def inception_fid(
    samples: dict[float, list[str]], train: list[str], holdout: list[str], weights: str | None = None
) -> pd.DataFrame:
    """FID of every guidance's samples against all real training images, and of the held-out real images
    (the floor), with the counts; one row saying why when no weights are available."""
    found = find_weights(weights)
    if found is None:
        reason = (
            f"no {FILE_NAME} offline (set evaluation.inception_weights or $MAME_INCEPTION); "
            "the domain-space FD stands in"
        )
        log.warning("Inception FID: %s", reason)
        return pd.DataFrame(
            [{"guidance": "", "compared": "", "n": 0, "reference": 0, "fid": None, "note": reason}]
        )
    model = torch.jit.load(str(found), map_location="cpu").eval()
    reference = inception_features(model, train)
    rows = []
    if len(holdout) >= 2:
        rows.append(
            {
                "guidance": "real",
                "compared": "held-out real",
                "n": len(holdout),
                "reference": len(train),
                "fid": frechet_distance(reference, inception_features(model, holdout)),
                "note": f"weights {found.name}",
            }
        )
    for guidance, paths in sorted(samples.items()):
        rows.append(
            {
                "guidance": guidance,
                "compared": "samples",
                "n": len(paths),
                "reference": len(train),
                "fid": frechet_distance(reference, inception_features(model, paths)),
                "note": f"weights {found.name}",
            }
        )
    return pd.DataFrame(rows)
