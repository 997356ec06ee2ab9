"""The model card (README.md) written beside a trained pipeline, as diffusers' training examples do."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from mame.training.settings import TrainSettings


def model_card(
    name: str,
    base: str,
    manifests: list[str],
    settings: TrainSettings,
    inpainting: bool,
    images: int,
    losses: list[float],
    seconds: float,
    family: str = "sd",
    upscaling: bool = False,
    trained_steps: int | None = None,
    early_stopping: str = "",
) -> str:
    """Markdown with the hub's metadata header: what was trained from what, on what, and every setting.
    `trained_steps`: where the run ended (below settings.steps when early stopping ended it);
    `early_stopping`: its summary naming the step whose weights these are ("": none chosen)."""
    from mame.models.families import FAMILIES

    pipeline = FAMILIES[family].inpaint_pipeline if inpainting else FAMILIES[family].pipeline
    kind = f"lesion inpainting ({pipeline})" if inpainting else "text-to-image"
    if upscaling:
        pipeline = FAMILIES[family].upscale_pipeline
        kind = f"super-resolution ({pipeline}, trained on full-field patches)"
    tag = "stable-diffusion-xl" if family == "sdxl" else "stable-diffusion"
    encoders = " and CLIP text encoders" if family == "sdxl" else " and CLIP text encoder"
    unit = "patches" if upscaling else "images"
    rows = "\n".join(
        f"| {k} | {v} |" for k, v in dataclasses.asdict(settings).items() if k != "validation_prompts"
    )
    trained = settings.steps if trained_steps is None else trained_steps
    steps = f"{settings.steps}" if trained == settings.steps else f"{trained} of {settings.steps}"
    stopping = f"- {early_stopping}; these weights are that step's\n" if early_stopping else ""
    return (
        f"---\nlibrary_name: diffusers\ntags: [mammography, {tag}, mam-e]\n---\n\n"
        f"# MAM-E {name}\n\n"
        f"A {kind} model fine-tuned by the MAM-E pipeline: UNet"
        f"{encoders if settings.train_text_encoder else ''} trained, VAE frozen"
        f"{f', LoRA rank {settings.lora_rank} merged into the weights' if settings.lora_rank else ''}.\n\n"
        f"- base: `{base}`\n- training {unit}: {images} (manifests: {', '.join(manifests)})\n"
        f"- steps: {steps}, final loss {losses[-1] if losses else float('nan'):.4f}, "
        f"{seconds / 60:.1f} min in this run\n{stopping}- date: {dt.date.today().isoformat()}\n\n"
        f"Load with `{pipeline}.from_pretrained(path)`.\n\n"
        f"| setting | value |\n|---|---|\n{rows}\n"
    )


def save_model_card(output: str | Path, **card) -> None:
    """Write `output`/README.md (the arguments of `model_card`)."""
    (Path(output) / "README.md").write_text(model_card(**card))
