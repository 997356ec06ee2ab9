"""Early stopping on a validation metric: keep the best weights seen, stop after `patience` validations
without improvement.

The metric is one of the rows that metrics during training write (mame.evaluation.training_metrics):
`fd`, `msssim`, `fidelity_<attribute>`, or `fidelity` (the mean over the attributes the prompts ask).
Improvement is judged on the point value, by more than `min_delta`; the intervals beside it are for the
reader, as a validation step's few images give wide ones.

The best weights (EMA and LoRA as they stand, what sampling at that step would use) are saved to
`<checkpoints>/best/` with `best.json` (step, value, checkpoint fingerprint), so a run killed and resumed
keeps its best so far: a best newer than the resumed step, or of other settings, is dropped and found
again by the resumed run, whose validation images are the same.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # the workflow checks settings at every parse: no torch import for that
    import torch

log = logging.getLogger(__name__)

ATTRIBUTES = ("view", "area", "density")
LOWER_IS_BETTER = {"fd": True, "msssim": True, "fidelity": False} | {
    f"fidelity_{attribute}": False for attribute in ATTRIBUTES
}
STATE = "best.json"


def check_early_stopping(values: dict | None) -> list[str]:
    """What is wrong with an `early_stopping` setting ([] when it is fine, or off)."""
    if values is None:
        return []
    problems = []
    unknown = sorted(set(values) - {"metric", "patience", "min_delta"})
    if unknown:
        problems.append(f"unknown key(s) {unknown}")
    if values.get("metric") not in LOWER_IS_BETTER:
        problems.append(f"metric {values.get('metric')!r} is not one of {sorted(LOWER_IS_BETTER)}")
    patience = values.get("patience", 1)
    if not isinstance(patience, int) or patience < 1:
        problems.append(f"patience {patience!r} is not a whole number of validations >= 1")
    delta = values.get("min_delta", 0.0)
    if not isinstance(delta, int | float) or delta < 0:
        problems.append(f"min_delta {delta!r} is negative")
    return problems


def metric_value(rows: list[dict] | pd.DataFrame, metric: str) -> float | None:
    """The metric's value among one validation step's rows; None when that step could not measure it."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        return None
    if metric == "fidelity":
        chosen = frame[frame["metric"].astype(str).str.startswith("fidelity_")]
    else:
        chosen = frame[frame["metric"] == metric]
    values = pd.to_numeric(chosen["value"], errors="coerce").dropna()
    return float(values.mean()) if len(values) else None


@dataclass
class EarlyStopping:
    """The best validation value so far, its step, and validations since it improved."""

    metric: str
    patience: int
    min_delta: float = 0.0
    best_value: float | None = None
    best_step: int | None = None
    stale: int = 0

    @classmethod
    def from_settings(cls, values: dict) -> EarlyStopping:
        return cls(values["metric"], int(values.get("patience", 1)), float(values.get("min_delta", 0.0)))

    @property
    def lower_is_better(self) -> bool:
        return LOWER_IS_BETTER[self.metric]

    def improves(self, value: float) -> bool:
        if self.best_value is None:
            return True
        if self.lower_is_better:
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def update(self, step: int, rows: list[dict] | pd.DataFrame) -> bool:
        """Record one validation step; True when it is the new best (its weights should be kept)."""
        value = metric_value(rows, self.metric)
        if value is None or math.isnan(value):
            log.warning("early stopping: step %d has no %s; counted as no improvement", step, self.metric)
            self.stale += 1
            return False
        if self.improves(value):
            self.best_value, self.best_step, self.stale = value, step, 0
            return True
        self.stale += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.stale >= self.patience

    def summary(self) -> str:
        """One line for the model card and the log."""
        better = "lower" if self.lower_is_better else "higher"
        if self.best_step is None:
            return f"early stopping on {self.metric} ({better} is better): never measured"
        return (
            f"early stopping on {self.metric} ({better} is better, patience {self.patience} validations, "
            f"min_delta {self.min_delta:g}): best {self.best_value:.4f} at step {self.best_step}"
        )

    # --- the best weights, on disk ----------------------------------------------------------------

    def save_best(self, folder: Path, models: dict[str, torch.nn.Module], tag: str) -> None:
        """Write the best step's weights of each model, then best.json (last: it marks a finished save)."""
        from safetensors.torch import save_model

        folder.mkdir(parents=True, exist_ok=True)
        (folder / STATE).unlink(missing_ok=True)
        for name, model in models.items():
            save_model(model, str(folder / f"{name}.safetensors"))
        state = {"step": self.best_step, "value": self.best_value, "metric": self.metric, "tag": tag}
        (folder / STATE).write_text(json.dumps(state) + "\n")

    @staticmethod
    def load_best(folder: Path, models: dict[str, torch.nn.Module]) -> None:
        """Put the saved best weights into `models` (the same architectures that were saved)."""
        from safetensors.torch import load_model

        for name, model in models.items():
            load_model(model, str(folder / f"{name}.safetensors"))

    def restore(self, folder: Path, metrics_csv: Path, resumed_at: int, tag: str) -> None:
        """A resumed run's best so far: the saved best when it is of these settings and not newer than
        the resumed step, with the validations after it (in the trimmed metrics file) counted as stale.
        Anything else is removed: a fresh run starts with no best."""
        state = json.loads((folder / STATE).read_text()) if (folder / STATE).exists() else None
        usable = (
            resumed_at > 0
            and state is not None
            and state.get("tag") == tag
            and state.get("metric") == self.metric
            and state["step"] <= resumed_at
        )
        if not usable:
            if folder.exists():
                shutil.rmtree(folder)
            return
        self.best_value, self.best_step = float(state["value"]), int(state["step"])
        if metrics_csv.exists():
            steps = pd.read_csv(metrics_csv)["step"]
            self.stale = int(steps[(steps > self.best_step) & (steps <= resumed_at)].nunique())
        log.info("early stopping resumed: %s, %d validation(s) since", self.summary(), self.stale)
