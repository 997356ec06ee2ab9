"""Fine-tuning, as the study did it: UNet + CLIP text encoder trained, VAE frozen, epsilon MSE.

One loop for the demo's tiny model on a CPU and for SD 1.5 on one or several GPUs (accelerate).
`Trainer.run` reads as its named steps: `prepare` (components, data with VAE latents cached once since
the VAE is frozen, optimizer and schedule, resume), then per step `train_step` (noise, timesteps,
caption dropout, loss, accumulation, clipping, EMA), `validate` (grids from a fixed seed) and
`checkpoint`, and `finish` (a diffusers pipeline directory with its model card). A subclass changes
one step without copying the loop.

Randomness is drawn from generators seeded by (seed, micro-step, process), never from a global
stream, so a run killed and resumed from a checkpoint ends with the same weights as a run that
was never interrupted.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image

from mame.io import split_rows
from mame.models.components import (
    Components,
    build_pipeline,
    config_shape,
    load_components,
    record_shape,
    save_pipeline,
    widen_conv_in,
)
from mame.models.conditions import write_conditions
from mame.models.families import (
    FAMILIES,
    MICRO_CONDITIONING,
    call_arguments,
    condition,
    denoise,
    sampling_conditioning,
    text_encoder_list,
    time_ids,
    tokenize,
)
from mame.shapes import as_shape, compact
from mame.training import trackers
from mame.training.checkpoints import checkpoint_path, fingerprint, resume, save_checkpoint
from mame.training.early_stopping import EarlyStopping
from mame.training.latents import (
    LatentStore,
    StreamedLatents,
    check_store,
    encode_manifest,
    image_keys,
    vae_fingerprint,
)
from mame.training.lora import inject_lora, merge_lora
from mame.training.model_card import save_model_card
from mame.training.objectives import FrozenText, flow_pair, min_snr_weights
from mame.training.phases import Phases
from mame.training.settings import TrainSettings
from mame.training.training_log import append_row, open_log
from mame.training.validation import labelled_grid

log = logging.getLogger(__name__)
WARM_UP_STEPS = 3  # per run; phases.csv times them as "first_steps", apart from the steady "steps"

__all__ = [
    "TrainResult",
    "TrainSettings",
    "Trainer",
    "batch_indices",
    "caption_weights",
    "fingerprint",
    "step_generator",
]


def step_generator(seed: int, micro_step: int, process: int, stream: int = 0) -> torch.Generator:
    """Randomness of one micro-step: independent of history, so resuming reproduces it."""
    return torch.Generator().manual_seed((seed * 1_000_003 + micro_step) * 64 + process * 4 + stream)


def batch_indices(
    count: int,
    batch: int,
    micro_step: int,
    process: int,
    processes: int,
    seed: int,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """This process's share of the micro-batch: a per-epoch permutation, sharded across processes; with
    `weights`, an epoch's draws are weighted with replacement instead. Either depends only on the seed and
    the epoch, so a resumed run draws what the uninterrupted one would have."""
    per_epoch = count // (batch * processes)
    epoch, position = divmod(micro_step, per_epoch)
    generator = torch.Generator().manual_seed(seed * 7919 + epoch)
    if weights is None:
        order = torch.randperm(count, generator=generator)
    else:
        draws = per_epoch * batch * processes
        order = torch.multinomial(weights, draws, replacement=True, generator=generator)
    start = (position * processes + process) * batch
    return order[start : start + batch]


def caption_weights(captions: list[str], balance: float) -> torch.Tensor | None:
    """Per-image draw weights (images sharing its caption)^-balance, or None for plain epochs."""
    if not balance:
        return None
    counts = pd.Series(captions).map(pd.Series(captions).value_counts())
    return torch.tensor(counts.to_numpy(dtype=np.float64) ** -balance)


@dataclass
class TrainResult:
    steps_done: int
    interrupted: bool  # ended by stop_after before its steps: no output yet, resume later
    final_loss: float
    seconds: float
    images: int
    output: str
    best_step: int | None = None  # with early_stopping: the step whose weights were saved


@dataclass
class TrainState:
    """What the steps of one run share: the prepared models, data and optimizer, and the progress."""

    components: Components
    unet: torch.nn.Module
    text_encoder: torch.nn.Module
    optimizer: torch.optim.Optimizer
    lr_scheduler: object
    ema: object
    cache: dict[str, torch.Tensor]  # token ids of the captions and of the empty caption
    stream: StreamedLatents
    resolution: int | tuple[int, int]
    count: int
    weights: torch.Tensor | None  # per-image draw weights (caption_balance), or None: plain epochs
    tag: str
    frozen_text: FrozenText | None  # a frozen text encoder's conditioning, computed once per caption
    log_path: Path
    progress: object
    early: EarlyStopping | None = None  # settings.early_stopping's best so far
    step: int = 0
    done_here: int = 0
    started: float = field(default_factory=time.perf_counter)
    losses: list[float] = field(default_factory=list)


def plain_model(accelerator, model):
    """The model without accelerate's or torch.compile's wrappers (what gets saved and sampled)."""
    model = accelerator.unwrap_model(model)
    return getattr(model, "_orig_mod", model)


class Trainer:
    """One fine-tuning run. `run()` trains; see the module docstring for the order of things."""

    def __init__(
        self,
        base: str,
        manifests: list[str],
        output: str | Path,
        checkpoints: str | Path,
        settings: TrainSettings,
        inpainting: bool = False,
        inpaint_prompt: str = "a mammogram with a lesion",
        widen_unet: bool = False,
        model_name: str = "model",
        latents: list[str] | None = None,
        latent_batch_size: int = 32,
        latent_precision: str = "fp16",
        metrics=None,
    ) -> None:
        """`metrics`: with settings.validation_metrics, a callable (images, prompts, step, guidance,
        folder) -> rows of (metric, value, low, high, n), e.g. mame.evaluation.training_metrics's."""
        from accelerate import Accelerator
        from accelerate.utils import ProjectConfiguration

        self.settings = settings
        self.metrics = metrics if settings.validation_metrics else None
        self.base, self.manifests = base, list(manifests)
        self.output, self.checkpoints = Path(output), Path(checkpoints)
        self.inpainting, self.inpaint_prompt, self.widen_unet = inpainting, inpaint_prompt, widen_unet
        self.model_name = model_name
        self.latents = list(latents or [])  # latent stores of the manifests' datasets (rule encode_latents)
        self.latent_batch_size, self.latent_precision = latent_batch_size, latent_precision
        precision = settings.mixed_precision
        if precision == "fp16" and not torch.cuda.is_available():
            warnings.warn("mixed_precision fp16 needs a GPU; training in fp32", stacklevel=2)
            precision = "no"
        self.trackers = trackers.chosen(settings.tracker_names())
        trackers.prepare(self.trackers, self.output.parent)
        self.accelerator = Accelerator(
            mixed_precision=precision,
            gradient_accumulation_steps=settings.gradient_accumulation,
            log_with=self.trackers or None,
            project_config=ProjectConfiguration(
                project_dir=str(self.output.parent), logging_dir=str(self.output.parent / "tensorboard")
            ),
        )
        if self.trackers:
            self.accelerator.init_trackers(
                trackers.PROJECT,
                config=trackers.flat_config(settings),
                init_kwargs=trackers.init_kwargs(self.trackers, model_name or self.output.parent.name),
            )
        torch.manual_seed(settings.seed)

    # --- prepare ------------------------------------------------------------------------------

    def _components(self) -> Components:
        components = load_components(self.base)
        family = FAMILIES[components.family]
        if self.inpainting and family.inpaint_pipeline is None:
            raise ValueError(
                f"{self.base} is a {family.name} base, and the {family.name} family has no inpainting "
                "pipeline; set models.inpaint_base to an SD or SDXL (inpainting) base"
            )
        unet = components.unet
        latent = components.vae.config.latent_channels
        if self.inpainting and unet.config.in_channels == latent:
            if not self.widen_unet:
                raise ValueError(
                    f"{self.base} has a {latent}-channel (text-to-image) UNet; use an inpainting checkpoint "
                    "or set widen_unet: true to add zero-initialised mask and masked-image channels"
                )
            components.unet = widen_conv_in(unet, 2 * latent + 1)
        expected = self.denoiser_channels(latent)
        if not self.inpainting and components.unet.config.in_channels != expected:
            raise ValueError(
                f"{self.base} has a {components.unet.config.in_channels}-channel denoiser; "
                f"{self.task} needs {expected}"
            )
        chosen = self.settings.train_text_encoder
        self.train_text = family.trains_text_encoder if chosen is None else chosen
        components.vae.requires_grad_(False)
        components.vae.eval()
        components.text_encoder.requires_grad_(self.train_text and not self.settings.lora_rank)
        components.unet.requires_grad_(not self.settings.lora_rank)
        if self.settings.lora_rank:
            inject_lora(components.unet, components.text_encoder, self.settings.lora_rank, self.train_text)
        if self.settings.gradient_checkpointing:
            components.unet.enable_gradient_checkpointing()
            if self.train_text:
                for encoder in text_encoder_list(components.text_encoder):
                    encoder.gradient_checkpointing_enable()
        if self.settings.channels_last:
            components.unet.to(memory_format=torch.channels_last)
        if self.settings.compile:
            if torch.cuda.is_available():
                components.unet = torch.compile(components.unet)
            else:
                warnings.warn("compile is for GPUs (on a CPU it costs more than it saves)", stacklevel=2)
        if self.settings.xformers:
            try:
                components.unet.enable_xformers_memory_efficient_attention()
            except Exception as err:  # noqa: BLE001 - missing package or no GPU: SDPA stays
                warnings.warn(f"xformers unavailable ({err}); using PyTorch SDPA attention", stacklevel=2)
        return components

    task = "text-to-image"  # what the model learns, as errors and the model card name it
    upscaling = False  # a super-resolution model (mame.training.upscaler)

    def denoiser_channels(self, latent: int) -> int:
        """Input channels of a text-to-image denoiser: the noisy latent's."""
        return latent

    def data_settings(self) -> dict:
        """What else decides the training data, beyond the settings and manifests (a subclass's patch
        sampling): part of the checkpoint fingerprint."""
        return {}

    def _resolution(self, components: Components) -> int | tuple[int, int]:
        """The pixels this run trains at: the settings' side or (height, width), else the base's own."""
        if self.settings.resolution:
            chosen = self.settings.resolution
            return chosen if isinstance(chosen, int) else tuple(int(v) for v in chosen)
        height, width = config_shape(components.unet.config, components.vae.config)
        return compact(height, width)

    def _rows(self) -> pd.DataFrame:
        """The training rows of the manifests (split `train`), checked against the batch size."""
        frame = split_rows(self.manifests, "train")
        needed = self.settings.batch_size * self.accelerator.num_processes
        if len(frame) < needed:
            raise ValueError(
                f"batch_size {self.settings.batch_size} x {self.accelerator.num_processes} process(es) = "
                f"{needed} is larger than the {len(frame)} training images of {', '.join(self.manifests)}"
            )
        return frame

    def _latents(self, components: Components, rows: pd.DataFrame, resolution: int) -> StreamedLatents:
        """The rows' VAE latents, streamed from the latent stage's stores; a run given none encodes its
        own rows once, on the accelerator, into its checkpoint folder (`mame train` without --latents)."""
        if self.latents:
            stores = [LatentStore.open(folder) for folder in self.latents]
            tag = vae_fingerprint(components.vae)
            for store in stores:
                check_store(store, resolution, tag, self.inpainting)
        else:
            own = self.checkpoints / "latents"
            if self.accelerator.is_main_process:  # one process encodes, the others read its store
                encode_manifest(
                    components.vae,
                    rows,
                    own,
                    resolution,
                    inpainting=self.inpainting,
                    batch_size=self.latent_batch_size,
                    precision=self.latent_precision,
                )
            self.accelerator.wait_for_everyone()
            stores = [LatentStore.open(own)]
        return StreamedLatents(stores, image_keys(rows), self.accelerator.device)

    def _tokens(self, components: Components, rows: pd.DataFrame, captions: list[str], resolution) -> dict:
        """Token ids of every caption and of the empty caption (classifier-free guidance's dropout), per
        tokenizer; for SDXL also each image's size-and-crop micro-conditioning."""
        tokens = tokenize(components.tokenizer, captions, components.family)
        if components.family == "sdxl":
            tokens["time_ids"] = time_ids(rows, as_shape(resolution))
        return tokens

    def _optimizer(self, components: Components) -> torch.optim.Optimizer:
        s = self.settings
        groups = [{"params": [p for p in components.unet.parameters() if p.requires_grad], "lr": s.lr}]
        text_params = [p for p in components.text_encoder.parameters() if p.requires_grad]
        if text_params:
            groups.append({"params": text_params, "lr": s.text_encoder_lr or s.lr})
        if s.adam_8bit:
            if torch.cuda.is_available():
                try:
                    import bitsandbytes

                    return bitsandbytes.optim.AdamW8bit(groups, weight_decay=s.weight_decay)
                except ImportError:
                    warnings.warn(
                        "adam_8bit needs bitsandbytes (pip install bitsandbytes); using AdamW", stacklevel=2
                    )
            else:
                warnings.warn(
                    "adam_8bit runs on GPUs only (slower than AdamW on a CPU); using AdamW", stacklevel=2
                )
        # torch's fused AdamW runs on CUDA and (torch >= 2.4) on CPUs, where it is 3.5x faster than the
        # per-tensor loop for the tiny model's 360 tensors (bench/bench_cpu_step.py); same update to 1e-7
        fused = {"fused": True} if s.fused_adam else {}
        return torch.optim.AdamW(groups, weight_decay=s.weight_decay, **fused)

    # --- the run ------------------------------------------------------------------------------

    def run(self, stop_after: int | None = None) -> TrainResult:
        """Train to `settings.steps`; `stop_after` ends this run early (as a time limit would)."""
        s = self.settings
        phases = self.phases = Phases(self.accelerator.device)
        with phases.phase("load"):
            state = self.prepare()
        while state.step < s.steps:
            # the first steps of a run pay for kernel autotuning, optimizer state and compilation: kept
            # apart so that "steps" reads the steady rate
            warming = state.done_here < WARM_UP_STEPS
            with phases.phase("first_steps" if warming else "steps", steps=1):
                self.train_step(state)
            if s.validation_every and (state.step % s.validation_every == 0 or state.step == s.steps):
                with phases.phase("validation"):
                    self.validate(state)
                if self._stop_early(state):
                    break
            if s.checkpoint_every and state.step % s.checkpoint_every == 0 and state.step < s.steps:
                with phases.phase("checkpoint"):
                    self.checkpoint(state)
            if stop_after is not None and state.done_here >= stop_after and state.step < s.steps:
                with phases.phase("checkpoint"):
                    self.checkpoint(state)
                state.progress.close()
                self._write_phases()
                elapsed = time.perf_counter() - state.started
                return TrainResult(state.step, True, state.losses[-1], elapsed, state.count, "")
        with phases.phase("save"):
            result = self.finish(state)
        self._write_phases()
        return result

    def _write_phases(self) -> None:
        """phases.csv beside the loss log: seconds, steps/s and peak memory of each phase of this run."""
        if self.accelerator.is_main_process:
            self.phases.write(self.output.parent / "phases.csv")
            for row in self.phases.table():
                log.info("phase %s", ", ".join(f"{k}={v}" for k, v in row.items()))

    def prepare(self) -> TrainState:
        """Components, cached data, optimizer and schedule on the accelerator; resume when a checkpoint
        of these settings and data exists; open the loss log."""
        from diffusers.optimization import get_scheduler
        from diffusers.training_utils import EMAModel
        from tqdm import tqdm

        s, accelerator = self.settings, self.accelerator
        components = self._components()
        resolution = self._resolution(components)
        rows = self._rows()
        stream = self._latents(components, rows, resolution)
        captions = [self.inpaint_prompt] * len(rows) if self.inpainting else rows["prompt"].tolist()
        cache = self._tokens(components, rows, captions, resolution)
        optimizer = self._optimizer(components)
        processes = accelerator.num_processes
        lr_scheduler = get_scheduler(
            s.lr_schedule,
            optimizer,
            num_warmup_steps=s.warmup_steps * processes,
            num_training_steps=s.steps * processes,
        )
        ema = None
        if s.ema:
            ema = EMAModel(components.unet.parameters(), decay=s.ema_decay)
            accelerator.register_for_checkpointing(ema)
        unet, text_encoder, optimizer, lr_scheduler = accelerator.prepare(
            components.unet, components.text_encoder, optimizer, lr_scheduler
        )
        components.vae.to(accelerator.device)
        cache = {k: v.to(accelerator.device) for k, v in cache.items()}
        tag = fingerprint(s, self.base, self.manifests, self.inpainting, self.data_settings())
        step = resume(accelerator, self.checkpoints, tag) if s.resume != "none" else 0
        log_path = self.output.parent / "training_log.csv"
        if accelerator.is_main_process:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            saved = checkpoint_path(self.checkpoints, step) / "training_log.csv"
            open_log(log_path, resumed_at=step, saved=saved)
            self._trim_metrics(step)
        early = None
        if s.early_stopping is not None and not self.inpainting and not self.upscaling:
            early = EarlyStopping.from_settings(s.early_stopping)
            if accelerator.is_main_process:
                metrics_csv = self.output.parent / "validation_metrics.csv"
                early.restore(self.best_folder, metrics_csv, step, tag)
        progress = tqdm(
            total=s.steps,
            initial=step,
            desc=f"train {self.model_name}",
            unit="step",
            disable=not accelerator.is_main_process,
            mininterval=5,
        )
        unet.train()
        text_encoder.train(self.train_text)
        frozen = None if self.train_text else FrozenText(components, text_encoder, cache)
        return TrainState(
            components=components,
            unet=unet,
            text_encoder=text_encoder,
            optimizer=optimizer,
            lr_scheduler=lr_scheduler,
            ema=ema,
            cache=cache,
            stream=stream,
            resolution=resolution,
            count=len(rows),
            weights=caption_weights(captions, s.caption_balance),
            tag=tag,
            frozen_text=frozen,
            log_path=log_path,
            progress=progress,
            early=early,
            step=step,
        )

    def train_step(self, state: TrainState) -> float:
        """One optimizer step (its accumulated micro-steps); logs it and returns its mean loss."""
        s, accelerator = self.settings, self.accelerator
        unet, text_encoder = state.unet, state.text_encoder
        step_losses = []
        for micro in range(s.gradient_accumulation):
            micro_step = state.step * s.gradient_accumulation + micro
            process = accelerator.process_index
            processes = accelerator.num_processes
            index = batch_indices(
                state.count, s.batch_size, micro_step, process, processes, s.seed, state.weights
            ).to(accelerator.device)
            generator = step_generator(s.seed, micro_step, process)
            with accelerator.accumulate(unet, text_encoder):
                loss = self.loss(state, index, generator)
                accelerator.backward(loss)
                if accelerator.sync_gradients and s.max_grad_norm > 0:
                    params = [
                        p
                        for p in list(unet.parameters()) + list(text_encoder.parameters())
                        if p.requires_grad
                    ]
                    accelerator.clip_grad_norm_(params, s.max_grad_norm)
                state.optimizer.step()
                state.lr_scheduler.step()
                state.optimizer.zero_grad(set_to_none=True)
            step_losses.append(float(accelerator.gather(loss.detach()[None]).mean()))
        state.step += 1
        state.done_here += 1
        if state.ema is not None:
            state.ema.step(plain_model(accelerator, unet).parameters())
        state.losses.append(float(np.mean(step_losses)))
        state.progress.update(1)
        state.progress.set_postfix(loss=f"{state.losses[-1]:.4f}")
        lr = state.lr_scheduler.get_last_lr()[0]
        if accelerator.is_main_process:
            append_row(state.log_path, state.step, state.losses[-1], lr, time.perf_counter() - state.started)
        if self.trackers:
            accelerator.log({"loss": state.losses[-1], "lr": lr}, step=state.step)
        return state.losses[-1]

    def loss(self, state: TrainState, index: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Epsilon (or v) MSE of one micro-batch, optionally min-SNR weighted; flow matching's MSE for
        flow families (Sana)."""
        s, cache = self.settings, state.cache
        components = state.components
        noise_scheduler = components.noise_scheduler
        scaling = components.vae.config.scaling_factor
        device = self.accelerator.device
        batch = state.stream.gather(index)
        mean, std = batch["mean"], batch["std"]
        latents = (mean + std * torch.randn(mean.shape, generator=generator).to(device)) * scaling
        noise = torch.randn(latents.shape, generator=generator).to(device)
        if s.offset_noise:
            noise = noise + s.offset_noise * torch.randn(latents.shape[:2] + (1, 1), generator=generator).to(
                device
            )
        flow = FAMILIES[components.family].flow
        if flow:
            noisy, timesteps, target = flow_pair(noise_scheduler, latents, noise, generator)
        else:
            timesteps = torch.randint(
                0, noise_scheduler.config.num_train_timesteps, (len(index),), generator=generator
            ).to(device)
            noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        dropped = (torch.rand(len(index), generator=generator) < s.caption_dropout).to(device)
        if state.frozen_text is not None:
            hidden, added = state.frozen_text.lookup(index, dropped)
        else:
            hidden, added = condition(components, state.text_encoder, cache, index, dropped)
        model_input, added = self.denoiser_input(state, noisy, batch, added, generator)
        prediction = denoise(components, state.unet, model_input, timesteps, hidden, added)
        if flow:
            pass
        elif noise_scheduler.config.prediction_type == "v_prediction":
            target = noise_scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        per_sample = F.mse_loss(prediction.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
        if s.snr_gamma and not flow:
            per_sample = per_sample * min_snr_weights(noise_scheduler, timesteps, s.snr_gamma)
        return per_sample.mean()

    def denoiser_input(
        self, state: TrainState, noisy: torch.Tensor, batch: dict, added: dict, generator: torch.Generator
    ) -> tuple[torch.Tensor, dict]:
        """What the denoiser reads, and its added conditioning: the noisy latents, with an inpainting
        UNet's mask and masked-image latents beside them."""
        if self.inpainting:
            return torch.cat([noisy, batch["mask"], batch["masked"]], dim=1), added
        return noisy, added

    def checkpoint(self, state: TrainState) -> None:
        save_checkpoint(
            self.accelerator,
            self.checkpoints,
            state.step,
            state.tag,
            state.log_path,
            self.settings.keep_checkpoints,
        )

    # --- validation and output ---------------------------------------------------------------

    def _pipeline(self, components: Components, unet, text_encoder):
        current = dataclasses.replace(
            components,
            unet=plain_model(self.accelerator, unet),
            text_encoder=plain_model(self.accelerator, text_encoder),
        )
        pipeline = build_pipeline(current, self.inpainting, self.upscaling)
        pipeline.set_progress_bar_config(disable=True)
        return pipeline

    @torch.no_grad()
    def validate(self, state: TrainState) -> None:
        """Images for the validation prompts from one fixed seed: the 'denoising over training' figure."""
        if not self.accelerator.is_main_process:
            return
        s = self.settings
        components, unet, text_encoder, ema = state.components, state.unet, state.text_encoder, state.ema
        step, resolution = state.step, state.resolution
        prompts = s.validation_prompts or [
            self.inpaint_prompt if self.inpainting else "a mammogram in CC view"
        ]
        raw_unet = plain_model(self.accelerator, unet)
        if ema is not None:
            ema.store(raw_unet.parameters())
            ema.copy_to(raw_unet.parameters())
        unet.eval()
        text_encoder.eval()
        pipeline = self._pipeline(components, unet, text_encoder)
        generator = torch.Generator().manual_seed(s.seed)
        arguments = {
            "num_inference_steps": s.validation_sampling_steps,
            "guidance_scale": s.validation_guidance,
            "generator": generator,
            "height": as_shape(resolution)[0],
            "width": as_shape(resolution)[1],
            "output_type": "np",
        }
        images, prompts = self.validation_images(pipeline, state, prompts, arguments)
        folder = self.output.parent / "validation"
        folder.mkdir(parents=True, exist_ok=True)
        grid = labelled_grid(images, prompts, f"step {step}")
        grid.save(folder / f"step_{step:06d}.png")
        if self.trackers and self.accelerator.is_main_process:
            trackers.log_grid(self.accelerator, self.trackers, np.asarray(grid.convert("RGB")), step)
        if self.metrics is not None and not self.inpainting and not self.upscaling:
            rows = self._measure(pipeline, prompts, arguments, step)
            if state.early is not None and state.early.update(step, rows):
                models = {"unet": raw_unet, "text_encoder": plain_model(self.accelerator, text_encoder)}
                state.early.save_best(self.best_folder, models, state.tag)  # EMA weights, as sampled
                log.info("%s: kept as the best so far", state.early.summary())
        if ema is not None:
            ema.restore(raw_unet.parameters())
        unet.train()
        text_encoder.train(self.train_text)

    def _trim_metrics(self, resumed_at: int) -> None:
        """A fresh run starts validation_metrics.csv anew; a resumed one keeps the rows up to its step
        (the file is not a workflow output, so nothing else clears an earlier run's rows)."""
        path = self.output.parent / "validation_metrics.csv"
        if path.exists():
            kept = pd.read_csv(path)
            kept = kept[kept["step"] <= resumed_at] if resumed_at else kept.iloc[0:0]
            if kept.empty:
                path.unlink()
            else:
                kept.to_csv(path, index=False)

    @property
    def best_folder(self) -> Path:
        """Where early stopping keeps its best weights (beside the checkpoints, never pruned with them)."""
        return self.checkpoints / "best"

    def _stop_early(self, state: TrainState) -> bool:
        """Whether early stopping ends the run now; the main process decides (it measured), every process
        follows."""
        if state.early is None:
            return False
        stop = state.early.should_stop
        if self.accelerator.num_processes > 1:
            from accelerate.utils import broadcast_object_list

            stop = broadcast_object_list([stop])[0]
        if stop and self.accelerator.is_main_process:
            log.info(
                "stopping at step %d of %d: %d validation(s) without improvement; %s",
                state.step, self.settings.steps, state.early.stale, state.early.summary(),
            )  # fmt: skip
        return bool(stop)

    def _measure(self, pipeline, prompts: list[str], arguments: dict, step: int) -> list[dict]:
        """Each validation prompt sampled validation_metric_images times, seeds fixed for the run, and
        measured by `self.metrics`; rows appended to validation_metrics.csv and sent to the trackers."""
        s = self.settings
        asked = [prompt for prompt in prompts for _ in range(s.validation_metric_images)]
        generator = torch.Generator().manual_seed(s.seed + 1)  # the same images' noise at every step
        images = []
        for start in range(0, len(asked), 16):
            batch = asked[start : start + 16]
            call = {**arguments, "generator": generator}
            images += list(pipeline(batch, **call_arguments(pipeline), **call).images)
        folder = self.output.parent / "validation" / "metrics"
        rows = self.metrics(images, asked, step, s.validation_guidance, folder)
        path = self.output.parent / "validation_metrics.csv"
        frame = pd.DataFrame(rows, columns=["step", "metric", "value", "low", "high", "n"])
        frame.to_csv(path, mode="a", header=not path.exists(), index=False)
        measured = dict(zip(frame["metric"], frame["value"].round(4), strict=True))
        log.info("validation metrics at step %d: %s", step, measured)
        if self.trackers:
            values = {f"validation/{r['metric']}": float(r["value"]) for r in rows}
            self.accelerator.log(values, step=step)
        return rows

    def validation_images(self, pipeline, state: TrainState, prompts: list[str], arguments: dict):
        """The validation grid's images and their labels: the prompts sampled, or training lesions
        inpainted."""
        if self.inpainting:
            return self._validation_inpaint(pipeline, state.stream, prompts, arguments), prompts
        return pipeline(prompts, **call_arguments(pipeline), **arguments).images, prompts

    def _validation_inpaint(self, pipeline, stream: StreamedLatents, prompts, arguments):
        """Inpaint the first few training images' lesion regions (fixed examples)."""
        batch = stream.gather(list(range(min(4, len(stream)))))
        vae = pipeline.vae
        images, masks = [], []
        for i in range(len(batch["mean"])):
            decoded = vae.decode(batch["mean"][i : i + 1]).sample[0].clamp(-1, 1)
            images.append(
                Image.fromarray(((decoded.permute(1, 2, 0).cpu().numpy() + 1) * 127.5).astype(np.uint8))
            )
            size = images[-1].size
            mask = F.interpolate(batch["mask"][i : i + 1], size=size[::-1])[0, 0].cpu().numpy()
            masks.append(Image.fromarray((mask * 255).astype(np.uint8)))
        return pipeline([prompts[0]] * len(images), image=images, mask_image=masks, **arguments).images

    def finish(self, state: TrainState) -> TrainResult:
        """Save the trained pipeline (EMA weights, LoRA merged) with its model card and conditions."""
        accelerator = self.accelerator
        state.progress.close()
        accelerator.wait_for_everyone()
        seconds = time.perf_counter() - state.started
        if accelerator.is_main_process:
            self._save(state, seconds)
        accelerator.wait_for_everyone()
        accelerator.end_training()
        return TrainResult(
            state.step,
            False,
            state.losses[-1] if state.losses else float("nan"),
            time.perf_counter() - state.started,
            state.count,
            str(self.output),
            state.early.best_step if state.early is not None else None,
        )

    def _save(self, state: TrainState, seconds: float) -> None:
        raw_unet = plain_model(self.accelerator, state.unet)
        raw_text = plain_model(self.accelerator, state.text_encoder)
        if state.ema is not None:
            state.ema.copy_to(raw_unet.parameters())
        early = state.early
        if early is not None and early.best_step is not None:  # the best validation step's weights
            EarlyStopping.load_best(self.best_folder, {"unet": raw_unet, "text_encoder": raw_text})
        if self.settings.lora_rank:
            raw_unet = merge_lora(raw_unet)
            if self.train_text:
                raw_text = merge_lora(raw_text)
        integer = self.inpainting or state.components.family == "sana"  # pipelines that need a side
        record_shape(raw_unet, state.components.vae, state.resolution, integer)  # sampled as trained
        trained = dataclasses.replace(state.components, unet=raw_unet, text_encoder=raw_text)
        if self.output.exists():
            shutil.rmtree(self.output)
        save_pipeline(trained, self.output, inpainting=self.inpainting, upscaling=self.upscaling)
        save_model_card(
            self.output,
            name=self.model_name,
            base=self.base,
            manifests=self.manifests,
            settings=dataclasses.replace(self.settings, train_text_encoder=self.train_text),
            inpainting=self.inpainting,
            upscaling=self.upscaling,
            images=state.count,
            losses=state.losses,
            seconds=seconds,
            family=trained.family,
            trained_steps=state.step,
            early_stopping=early.summary() if early is not None and early.best_step is not None else "",
        )
        if not self.inpainting and not self.upscaling:
            write_conditions(self.output, self.manifests)
        if trained.family == "sdxl":
            frame = split_rows(self.manifests, "train")
            shape = as_shape(state.resolution)
            values = sampling_conditioning(frame, shape)
            (self.output / MICRO_CONDITIONING).write_text(json.dumps(values) + "\n")
