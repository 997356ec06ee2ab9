"""Experiment trackers beside the CSV log, through accelerate: TensorBoard, Weights & Biases (the study's)
and MLflow, each optional and named by `models.train.trackers`.

Every run logs its settings, the loss and learning rate of each step, and the validation grids. Files
stay under the model's folder, so a run needs no server and no network:
- tensorboard: `results/models/<model>/tensorboard/mame/`;
- wandb: offline unless WANDB_MODE says otherwise, the run under `results/models/<model>/wandb/`
  (`wandb sync` uploads it later);
- mlflow: a local file store, `results/models/<model>/mlruns/`, unless MLFLOW_TRACKING_URI is set.
A tracker whose package is missing is skipped with one warning; the CSV log is always written.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
TRACKERS = ("tensorboard", "wandb", "mlflow")
PROJECT = "mame"
PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}


def installed(name: str) -> bool:
    return importlib.util.find_spec(PACKAGES[name]) is not None


def chosen(names: list[str]) -> list[str]:
    """The named trackers whose package is installed, in TRACKERS order; one warning per missing one."""
    unknown = sorted(set(names) - set(TRACKERS))
    if unknown:
        raise ValueError(f"models.train.trackers names {unknown}; known: {', '.join(TRACKERS)}")
    kept = []
    for name in TRACKERS:
        if name not in names:
            continue
        if installed(name):
            kept.append(name)
        else:
            warnings.warn(
                f"{name} is not installed (pip install {name}): not tracked there; the CSV log is",
                stacklevel=2,
            )
    return kept


_SET_HERE: dict[str, str] = {}  # environment values this module set (a later run may replace them)


def _default(name: str, value: str) -> None:
    """Set an environment variable unless the user did: one this module set for an earlier run in the
    same process (another model's folder) is replaced."""
    if name not in os.environ or os.environ[name] == _SET_HERE.get(name):
        os.environ[name] = _SET_HERE[name] = value


def prepare(names: list[str], folder: Path) -> None:
    """Point each tracker at `folder` (the model's) before accelerate starts it; a user's own setting
    (WANDB_MODE, WANDB_DIR, MLFLOW_TRACKING_URI) wins."""
    folder.mkdir(parents=True, exist_ok=True)
    if "wandb" in names:
        _default("WANDB_MODE", "offline")
        _default("WANDB_DIR", str(folder.resolve()))
        _default("WANDB_SILENT", "true")
    if "mlflow" in names:
        _default("MLFLOW_TRACKING_URI", (folder.resolve() / "mlruns").as_uri())
        if os.environ["MLFLOW_TRACKING_URI"].startswith("file:"):
            _default("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store, in maintenance


def init_kwargs(names: list[str], run_name: str) -> dict:
    kwargs = {}
    if "wandb" in names:
        kwargs["wandb"] = {"name": run_name}
    if "mlflow" in names:
        kwargs["mlflow"] = {"run_name": run_name}
    return kwargs


def flat_config(settings) -> dict:
    """The run's settings as scalars (TensorBoard's hyperparameters take no lists or None)."""
    values = dataclasses.asdict(settings) if dataclasses.is_dataclass(settings) else dict(settings)
    return {
        key: value if isinstance(value, (int, float, str, bool)) else str(value)
        for key, value in values.items()
    }


def log_grid(accelerator, names: list[str], grid: np.ndarray, step: int, key: str = "validation") -> None:
    """The validation grid (uint8 H x W or H x W x 3) in every tracker that takes images."""
    image = grid if grid.ndim == 3 else np.repeat(grid[..., None], 3, axis=2)
    for name in names:
        tracker = accelerator.get_tracker(name, unwrap=False)
        if name == "mlflow":
            import mlflow

            mlflow.log_image(image, key=key, step=step)
        elif name == "tensorboard":
            tracker.log_images({key: image[None]}, step=step, dataformats="NHWC")
        else:
            tracker.log_images({key: [image]}, step=step)
