"""Resumable checkpoints: what a checkpoint belongs to (its fingerprint), saving, pruning and resuming.

A checkpoint is accelerate's state folder plus `fingerprint.txt` and a copy of the loss log, so a job
that the workflow killed (and whose outputs it deleted) resumes with its history.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
from pathlib import Path

from mame.training.settings import TrainSettings

log = logging.getLogger(__name__)

# settings that change neither the weights nor the data order: a checkpoint stays valid across them
NOT_FINGERPRINTED = (
    "checkpoint_every",
    "early_stopping",
    "keep_checkpoints",
    "resume",
    "steps",
    "tensorboard",
    "trackers",
    "validation_metrics",
    "validation_metric_images",
)


def fingerprint(
    settings: TrainSettings, base: str, manifests: list[str], inpainting: bool, data: dict | None = None
) -> str:
    """What a checkpoint belongs to; a checkpoint from other settings or data is never resumed. `data`:
    further choices of the training data (an upscaler's patches)."""
    relevant = {
        k: v
        for k, v in dataclasses.asdict(settings).items()
        if k not in NOT_FINGERPRINTED and not k.startswith("validation")
    }
    if not settings.lr_schedule.startswith("constant"):
        relevant["steps"] = settings.steps  # a decaying schedule depends on the total: no extending
    keyed = [relevant, base, inpainting] + ([data] if data else [])
    digest = hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode())
    for manifest in manifests:
        digest.update(Path(manifest).read_bytes())
    return digest.hexdigest()[:16]


def checkpoint_path(folder: Path, step: int) -> Path:
    return folder / f"checkpoint-{step:06d}"


def resume(accelerator, folder: Path, tag: str) -> int:
    """Load the latest checkpoint of `folder` if it carries `tag`; the step to continue from (0: none).

    Checkpoints of other settings or data are deleted, never resumed."""
    if not folder.is_dir():
        return 0
    found = sorted(folder.glob("checkpoint-*"))
    complete = [path for path in found if (path / "fingerprint.txt").exists()]
    if accelerator.is_main_process:  # a job killed while saving leaves a folder without its stamp
        for partial in sorted(set(found) - set(complete)):
            log.info("removing %s: its save did not finish", partial)
            shutil.rmtree(partial)
    accelerator.wait_for_everyone()
    found = complete
    if not found:
        return 0
    latest = found[-1]
    stamp = latest / "fingerprint.txt"
    if stamp.read_text().strip() != tag:
        log.warning("checkpoints in %s belong to other settings or data; starting afresh", folder)
        if accelerator.is_main_process:
            for old in found:
                shutil.rmtree(old)
        accelerator.wait_for_everyone()
        return 0
    accelerator.load_state(str(latest))
    step = int(latest.name.split("-")[1])
    log.info("resumed from %s (step %d)", latest, step)
    return step


def save_checkpoint(accelerator, folder: Path, step: int, tag: str, training_log: Path, keep: int) -> None:
    """Save the state at `step` with its fingerprint and loss log; keep the newest `keep` checkpoints."""
    path = checkpoint_path(folder, step)
    accelerator.save_state(str(path))
    if accelerator.is_main_process:
        if training_log.exists():  # the workflow deletes a failed job's outputs; the checkpoint keeps its log
            shutil.copy(training_log, path / "training_log.csv")
        (path / "fingerprint.txt").write_text(tag + "\n")  # last: it marks the save complete
        for old in sorted(folder.glob("checkpoint-*"))[:-keep]:
            shutil.rmtree(old)
    accelerator.wait_for_everyone()
