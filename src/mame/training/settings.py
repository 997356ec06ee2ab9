"""Every knob of a fine-tuning run, checked when it is made."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

LR_SCHEDULES = ("constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts", "polynomial")
MIXED_PRECISION = ("no", "fp16", "bf16")


@dataclass
class TrainSettings:
    """Every knob of a fine-tuning run; config/config.yaml documents each (models.train)."""

    steps: int = 1000
    batch_size: int = 8
    gradient_accumulation: int = 1
    lr: float = 1e-4
    text_encoder_lr: float | None = None  # None: same as lr
    lr_schedule: str = "constant_with_warmup"
    warmup_steps: int = 0
    weight_decay: float = 1e-2
    max_grad_norm: float = 1.0
    mixed_precision: str = "no"
    adam_8bit: bool = False
    gradient_checkpointing: bool = False
    xformers: bool = False
    fused_adam: bool = False  # torch's fused AdamW kernel (GPUs and CPUs)
    channels_last: bool = False  # UNet in channels-last memory format (faster convolutions on GPUs)
    compile: bool = False  # torch.compile the UNet (GPU only; pays off over long runs)
    train_text_encoder: bool | None = (
        None  # None: the base family's (SD, SDXL: trained, as the study; Sana: frozen)
    )
    caption_dropout: float = 0.1
    # draw each image with weight (images sharing its caption)^-caption_balance: 0 = every image once per
    # epoch (the study); 1 = every caption equally often, so rare prompts ("very high density") are learned
    caption_balance: float = 0.0
    ema: bool = False
    ema_decay: float = 0.999
    snr_gamma: float | None = None
    offset_noise: float = 0.0
    lora_rank: int = 0  # 0: full fine-tuning
    resolution: int | list[int] | None = (
        None  # a side or [h, w]; None: the base UNet's sample size x VAE factor
    )
    validation_every: int = 250
    validation_prompts: list[str] = field(default_factory=list)
    validation_guidance: float = 7.0
    validation_sampling_steps: int = 20
    # FD, fidelity and MS-SSIM of each validation step (mame.evaluation.training_metrics), each prompt
    # sampled validation_metric_images times with seeds fixed for the run
    validation_metrics: bool = False
    validation_metric_images: int = 3
    # {metric, patience, min_delta}: keep the best validation step's weights by that metric, stop after
    # `patience` validations without improvement (mame.training.early_stopping); needs validation_metrics
    early_stopping: dict | None = None
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    resume: str = "latest"  # "latest" or "none"
    seed: int = 0
    tensorboard: bool = False  # the same as "tensorboard" in trackers (kept for older configs)
    # experiment trackers beside the CSV log (mame.training.trackers): tensorboard, wandb, mlflow
    trackers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        checks = {
            "steps": self.steps >= 1,
            "batch_size": self.batch_size >= 1,
            "gradient_accumulation": self.gradient_accumulation >= 1,
            "lr": self.lr > 0,
            "lr_schedule": self.lr_schedule in LR_SCHEDULES,
            "mixed_precision": self.mixed_precision in MIXED_PRECISION,
            "caption_dropout": 0 <= self.caption_dropout < 1,
            "caption_balance": 0 <= self.caption_balance <= 1,
            "resume": self.resume in ("latest", "none"),
            "lora_rank": self.lora_rank >= 0,
            "validation_metric_images": self.validation_metric_images >= 2,
            "trackers": set(self.trackers) <= {"tensorboard", "wandb", "mlflow"},
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"bad training setting(s): {values}")
        self._check_early_stopping()

    def _check_early_stopping(self) -> None:
        from mame.training.early_stopping import check_early_stopping

        problems = check_early_stopping(self.early_stopping)
        if self.early_stopping is not None and not (self.validation_metrics and self.validation_every):
            problems.append("it needs validation_metrics: true and validation_every > 0 (what it reads)")
        if problems:
            reasons = "; ".join(problems)
            raise ValueError(f"bad training setting early_stopping={self.early_stopping!r}: {reasons}")

    @classmethod
    def from_dict(cls, values: dict) -> TrainSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {unknown}; known: {sorted(known)}")
        return cls(**values)

    def tracker_names(self) -> list[str]:
        """The trackers asked for, `tensorboard: true` included."""
        return list(dict.fromkeys([*self.trackers, *(["tensorboard"] if self.tensorboard else [])]))
