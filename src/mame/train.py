"""Fine-tuning, as the study did it: UNet + CLIP text encoder trained, VAE frozen, epsilon MSE.

One loop for the demo's tiny model on a CPU and for SD 1.5 on one or several GPUs (accelerate).
It reads top to bottom: settings -> components -> data (VAE latents cached once, the VAE is
frozen) -> optimizer and schedule -> resume -> the loop (noise, timesteps, caption dropout, loss,
accumulation, clipping, EMA) -> validation grids -> checkpoints -> a diffusers pipeline directory.

Randomness is drawn from generators seeded by (seed, micro-step, process), never from a global
stream, so a run killed and resumed from a checkpoint ends with the same weights as a run that
was never interrupted.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from mame.conditions import write_conditions
from mame.models import (
    Components,
    build_pipeline,
    latent_scale,
    load_components,
    save_pipeline,
    widen_conv_in,
)
from mame.training_data import Examples, load_examples

log = logging.getLogger(__name__)

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
    train_text_encoder: bool = True
    caption_dropout: float = 0.1
    ema: bool = False
    ema_decay: float = 0.999
    snr_gamma: float | None = None
    offset_noise: float = 0.0
    lora_rank: int = 0  # 0: full fine-tuning
    resolution: int | None = None  # None: the base UNet's sample size x the VAE factor
    validation_every: int = 250
    validation_prompts: list[str] = field(default_factory=list)
    validation_guidance: float = 7.0
    validation_sampling_steps: int = 20
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    resume: str = "latest"  # "latest" or "none"
    seed: int = 0
    tensorboard: bool = False  # also log loss and lr to results/models/<model>/tensorboard

    def __post_init__(self) -> None:
        checks = {
            "steps": self.steps >= 1,
            "batch_size": self.batch_size >= 1,
            "gradient_accumulation": self.gradient_accumulation >= 1,
            "lr": self.lr > 0,
            "lr_schedule": self.lr_schedule in LR_SCHEDULES,
            "mixed_precision": self.mixed_precision in MIXED_PRECISION,
            "caption_dropout": 0 <= self.caption_dropout < 1,
            "resume": self.resume in ("latest", "none"),
            "lora_rank": self.lora_rank >= 0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            raise ValueError(f"bad training setting(s): {values}")

    @classmethod
    def from_dict(cls, values: dict) -> TrainSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown training setting(s) {unknown}; known: {sorted(known)}")
        return cls(**values)


def step_generator(seed: int, micro_step: int, process: int, stream: int = 0) -> torch.Generator:
    """Randomness of one micro-step: independent of history, so resuming reproduces it."""
    return torch.Generator().manual_seed((seed * 1_000_003 + micro_step) * 64 + process * 4 + stream)


def batch_indices(
    count: int, batch: int, micro_step: int, process: int, processes: int, seed: int
) -> torch.Tensor:
    """This process's share of the micro-batch: a per-epoch permutation, sharded across processes."""
    per_epoch = count // (batch * processes)
    epoch, position = divmod(micro_step, per_epoch)
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed * 7919 + epoch))
    start = (position * processes + process) * batch
    return order[start : start + batch]


def fingerprint(settings: TrainSettings, base: str, manifests: list[str], inpainting: bool) -> str:
    """What a checkpoint belongs to; a checkpoint from other settings or data is never resumed."""
    relevant = {
        k: v
        for k, v in dataclasses.asdict(settings).items()
        if k not in ("checkpoint_every", "keep_checkpoints", "resume", "steps", "tensorboard")
        and not k.startswith("validation")
    }
    if not settings.lr_schedule.startswith("constant"):
        relevant["steps"] = settings.steps  # a decaying schedule depends on the total: no extending
    digest = hashlib.sha256(json.dumps([relevant, base, inpainting], sort_keys=True, default=str).encode())
    for manifest in manifests:
        digest.update(Path(manifest).read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class TrainResult:
    steps_done: int
    stopped_early: bool
    final_loss: float
    seconds: float
    images: int
    output: str


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
    ) -> None:
        from accelerate import Accelerator

        self.settings = settings
        self.base, self.manifests = base, list(manifests)
        self.output, self.checkpoints = Path(output), Path(checkpoints)
        self.inpainting, self.inpaint_prompt, self.widen_unet = inpainting, inpaint_prompt, widen_unet
        self.model_name = model_name
        precision = settings.mixed_precision
        if precision == "fp16" and not torch.cuda.is_available():
            warnings.warn("mixed_precision fp16 needs a GPU; training in fp32", stacklevel=2)
            precision = "no"
        trackers = None
        if settings.tensorboard:
            try:
                import tensorboard  # noqa: F401

                trackers = "tensorboard"
            except ImportError:
                warnings.warn(
                    "tensorboard is not installed (pip install tensorboard); CSV log only", stacklevel=2
                )
        self.accelerator = Accelerator(
            mixed_precision=precision,
            gradient_accumulation_steps=settings.gradient_accumulation,
            log_with=trackers,
            project_dir=str(self.output.parent),
        )
        if trackers:
            self.accelerator.init_trackers("tensorboard")
        torch.manual_seed(settings.seed)

    # --- setup ---------------------------------------------------------------------------------

    def _components(self) -> Components:
        components = load_components(self.base)
        unet = components.unet
        if self.inpainting and unet.config.in_channels == 4:
            if not self.widen_unet:
                raise ValueError(
                    f"{self.base} has a 4-channel (text-to-image) UNet; use an inpainting checkpoint "
                    "or set widen_unet: true to add zero-initialised mask and masked-image channels"
                )
            components.unet = widen_conv_in(unet, 9)
        if not self.inpainting and components.unet.config.in_channels != 4:
            raise ValueError(
                f"{self.base} has a {unet.config.in_channels}-channel UNet; text-to-image needs 4"
            )
        components.vae.requires_grad_(False)
        components.vae.eval()
        components.text_encoder.requires_grad_(
            self.settings.train_text_encoder and not self.settings.lora_rank
        )
        components.unet.requires_grad_(not self.settings.lora_rank)
        if self.settings.lora_rank:
            self._add_lora(components)
        if self.settings.gradient_checkpointing:
            components.unet.enable_gradient_checkpointing()
            if self.settings.train_text_encoder:
                components.text_encoder.gradient_checkpointing_enable()
        if self.settings.xformers:
            try:
                components.unet.enable_xformers_memory_efficient_attention()
            except Exception as err:  # noqa: BLE001 - missing package or no GPU: SDPA stays
                warnings.warn(f"xformers unavailable ({err}); using PyTorch SDPA attention", stacklevel=2)
        return components

    def _add_lora(self, components: Components) -> None:
        """LoRA adapters on the attention projections (peft); the base weights stay frozen."""
        from peft import LoraConfig, inject_adapter_in_model

        rank = self.settings.lora_rank
        unet_lora = LoraConfig(
            r=rank,
            lora_alpha=rank,
            init_lora_weights="gaussian",
            target_modules=["to_k", "to_q", "to_v", "to_out.0"],
        )
        inject_adapter_in_model(unet_lora, components.unet)
        if self.settings.train_text_encoder:
            text_lora = LoraConfig(
                r=rank,
                lora_alpha=rank,
                init_lora_weights="gaussian",
                target_modules=["q_proj", "k_proj", "v_proj", "out_proj"],
            )
            inject_adapter_in_model(text_lora, components.text_encoder)

    def _resolution(self, components: Components) -> int:
        if self.settings.resolution:
            return self.settings.resolution
        return int(components.unet.config.sample_size) * latent_scale(components.vae)

    def _examples(self, resolution: int) -> Examples:
        prompt = self.inpaint_prompt if self.inpainting else None
        examples = load_examples(
            self.manifests, resolution, split="train", prompt=prompt, masks=self.inpainting
        )
        needed = self.settings.batch_size * self.accelerator.num_processes
        if len(examples.captions) < needed:
            raise ValueError(
                f"batch_size {self.settings.batch_size} x {self.accelerator.num_processes} process(es) = "
                f"{needed} "
                f"is larger than the {len(examples.captions)} training images of {', '.join(self.manifests)}"
            )
        return examples

    @torch.no_grad()
    def _cache(self, components: Components, examples: Examples) -> dict[str, torch.Tensor]:
        """Encode every image once: the VAE is frozen, so its posterior never changes."""
        vae = components.vae
        means, stds, masked = [], [], []
        for start in range(0, len(examples.images), 32):
            batch = torch.from_numpy(examples.images[start : start + 32])
            posterior = vae.encode(batch).latent_dist
            means.append(posterior.mean)
            stds.append(posterior.std)
            if examples.masks is not None:
                keep = torch.from_numpy(examples.masks[start : start + 32]) < 0.5
                masked.append(vae.encode(batch * keep).latent_dist.mean * vae.config.scaling_factor)
        cache = {"mean": torch.cat(means), "std": torch.cat(stds)}
        if examples.masks is not None:
            size = cache["mean"].shape[-2:]  # the latent size the VAE produced, whatever its depth
            cache["mask"] = F.interpolate(torch.from_numpy(examples.masks), size=size)
            cache["masked"] = torch.cat(masked)
        tokenizer = components.tokenizer
        cache["ids"] = tokenizer(
            examples.captions,
            padding="max_length",
            max_length=tokenizer.model_max_length,
            truncation=True,
            return_tensors="pt",
        ).input_ids
        cache["empty"] = tokenizer(
            [""], padding="max_length", max_length=tokenizer.model_max_length, return_tensors="pt"
        ).input_ids[0]
        return cache

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
        return torch.optim.AdamW(groups, weight_decay=s.weight_decay)

    # --- the loop ------------------------------------------------------------------------------

    def run(self, stop_after: int | None = None) -> TrainResult:
        """Train to `settings.steps`; `stop_after` ends this run early (as a time limit would)."""
        from diffusers.optimization import get_scheduler
        from diffusers.training_utils import EMAModel, compute_snr
        from tqdm import tqdm

        s, accelerator = self.settings, self.accelerator
        components = self._components()
        resolution = self._resolution(components)
        examples = self._examples(resolution)
        cache = self._cache(components, examples)
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
        device = accelerator.device
        components.vae.to(device)
        cache = {k: v.to(device) for k, v in cache.items()}
        scaling = components.vae.config.scaling_factor
        noise_scheduler = components.noise_scheduler
        tag = fingerprint(s, self.base, self.manifests, self.inpainting)
        step = self._resume(tag)
        started, losses, done_here = time.perf_counter(), [], 0
        log_path = self.output.parent / "training_log.csv"
        if accelerator.is_main_process:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            self._open_log(log_path, resumed_at=step)
        progress = tqdm(
            total=s.steps,
            initial=step,
            desc=f"train {self.model_name}",
            unit="step",
            disable=not accelerator.is_main_process,
            mininterval=5,
        )
        unet.train()
        text_encoder.train(s.train_text_encoder)
        count = len(examples.captions)
        while step < s.steps:
            step_losses = []
            for micro in range(s.gradient_accumulation):
                micro_step = step * s.gradient_accumulation + micro
                process = accelerator.process_index
                index = batch_indices(count, s.batch_size, micro_step, process, processes, s.seed).to(device)
                generator = step_generator(s.seed, micro_step, process)
                with accelerator.accumulate(unet, text_encoder):
                    loss = self._loss(
                        unet, text_encoder, noise_scheduler, cache, index, generator, scaling, compute_snr
                    )
                    accelerator.backward(loss)
                    if accelerator.sync_gradients and s.max_grad_norm > 0:
                        params = [
                            p
                            for p in list(unet.parameters()) + list(text_encoder.parameters())
                            if p.requires_grad
                        ]
                        accelerator.clip_grad_norm_(params, s.max_grad_norm)
                    optimizer.step()
                    lr_scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                step_losses.append(float(accelerator.gather(loss.detach()[None]).mean()))
            step += 1
            done_here += 1
            if ema is not None:
                ema.step(accelerator.unwrap_model(unet).parameters())
            losses.append(float(np.mean(step_losses)))
            progress.update(1)
            progress.set_postfix(loss=f"{losses[-1]:.4f}")
            if accelerator.is_main_process:
                self._log_row(
                    log_path, step, losses[-1], lr_scheduler.get_last_lr()[0], time.perf_counter() - started
                )
            if s.tensorboard:
                accelerator.log({"loss": losses[-1], "lr": lr_scheduler.get_last_lr()[0]}, step=step)
            if s.validation_every and (step % s.validation_every == 0 or step == s.steps):
                self._validate(components, unet, text_encoder, ema, cache, step, resolution)
            if s.checkpoint_every and step % s.checkpoint_every == 0 and step < s.steps:
                self._checkpoint(step, tag)
            if stop_after is not None and done_here >= stop_after and step < s.steps:
                self._checkpoint(step, tag)
                progress.close()
                return TrainResult(step, True, losses[-1], time.perf_counter() - started, count, "")
        progress.close()
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            self._save(components, unet, text_encoder, ema, count, losses, time.perf_counter() - started)
        accelerator.wait_for_everyone()
        accelerator.end_training()
        return TrainResult(
            step,
            False,
            losses[-1] if losses else float("nan"),
            time.perf_counter() - started,
            count,
            str(self.output),
        )

    def _loss(self, unet, text_encoder, noise_scheduler, cache, index, generator, scaling, compute_snr):
        s = self.settings
        device = cache["mean"].device
        mean, std = cache["mean"][index], cache["std"][index]
        latents = (mean + std * torch.randn(mean.shape, generator=generator).to(device)) * scaling
        noise = torch.randn(latents.shape, generator=generator).to(device)
        if s.offset_noise:
            noise = noise + s.offset_noise * torch.randn(latents.shape[:2] + (1, 1), generator=generator).to(
                device
            )
        timesteps = torch.randint(
            0, noise_scheduler.config.num_train_timesteps, (len(index),), generator=generator
        ).to(device)
        noisy = noise_scheduler.add_noise(latents, noise, timesteps)
        ids = cache["ids"][index].clone()
        dropped = (torch.rand(len(index), generator=generator) < s.caption_dropout).to(device)
        ids[dropped] = cache["empty"]
        hidden = text_encoder(ids)[0]
        model_input = noisy
        if self.inpainting:
            model_input = torch.cat([noisy, cache["mask"][index], cache["masked"][index]], dim=1)
        prediction = unet(model_input, timesteps, hidden).sample
        if noise_scheduler.config.prediction_type == "v_prediction":
            target = noise_scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        per_sample = F.mse_loss(prediction.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
        if s.snr_gamma:
            snr = compute_snr(noise_scheduler, timesteps)
            weights = torch.clamp(snr, max=s.snr_gamma) / snr
            if noise_scheduler.config.prediction_type == "v_prediction":
                weights = weights * snr / (snr + 1)
            per_sample = per_sample * weights
        return per_sample.mean()

    # --- resume and checkpoints ----------------------------------------------------------------

    def _resume(self, tag: str) -> int:
        if self.settings.resume == "none" or not self.checkpoints.is_dir():
            return 0
        found = sorted(self.checkpoints.glob("checkpoint-*"))
        if not found:
            return 0
        latest = found[-1]
        stamp = latest / "fingerprint.txt"
        if not stamp.exists() or stamp.read_text().strip() != tag:
            log.warning(
                "checkpoints in %s belong to other settings or data; starting afresh", self.checkpoints
            )
            if self.accelerator.is_main_process:
                for old in found:
                    shutil.rmtree(old)
            self.accelerator.wait_for_everyone()
            return 0
        self.accelerator.load_state(str(latest))
        step = int(latest.name.split("-")[1])
        log.info("resumed from %s (step %d)", latest, step)
        return step

    def _checkpoint(self, step: int, tag: str) -> None:
        path = self.checkpoints / f"checkpoint-{step:06d}"
        self.accelerator.save_state(str(path))
        if self.accelerator.is_main_process:
            (path / "fingerprint.txt").write_text(tag + "\n")
            log_path = self.output.parent / "training_log.csv"
            if log_path.exists():  # the workflow deletes a failed job's outputs; the checkpoint keeps its log
                shutil.copy(log_path, path / "training_log.csv")
            for old in sorted(self.checkpoints.glob("checkpoint-*"))[: -self.settings.keep_checkpoints]:
                shutil.rmtree(old)
        self.accelerator.wait_for_everyone()

    # --- logging, validation, output -----------------------------------------------------------

    def _open_log(self, path: Path, resumed_at: int) -> None:
        """Start the loss log, or continue the resumed checkpoint's copy up to its step."""
        saved = self.checkpoints / f"checkpoint-{resumed_at:06d}" / "training_log.csv"
        source = saved if saved.exists() else path
        rows = list(csv.reader(source.open())) if resumed_at and source.exists() else []
        kept = [row for row in rows[1:] if row and int(row[0]) <= resumed_at]
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["step", "loss", "lr", "seconds"])
            writer.writerows(kept)

    def _log_row(self, path: Path, step: int, loss: float, lr: float, seconds: float) -> None:
        with path.open("a", newline="") as handle:
            csv.writer(handle).writerow([step, f"{loss:.6f}", f"{lr:.3e}", f"{seconds:.1f}"])

    def _pipeline(self, components: Components, unet, text_encoder):
        current = dataclasses.replace(
            components,
            unet=self.accelerator.unwrap_model(unet),
            text_encoder=self.accelerator.unwrap_model(text_encoder),
        )
        pipeline = build_pipeline(current, self.inpainting)
        pipeline.set_progress_bar_config(disable=True)
        return pipeline

    @torch.no_grad()
    def _validate(self, components, unet, text_encoder, ema, cache, step: int, resolution: int) -> None:
        """Images for the validation prompts from one fixed seed: the 'denoising over training' figure."""
        if not self.accelerator.is_main_process:
            return
        s = self.settings
        prompts = s.validation_prompts or [
            self.inpaint_prompt if self.inpainting else "a mammogram in CC view"
        ]
        raw_unet = self.accelerator.unwrap_model(unet)
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
            "height": resolution,
            "width": resolution,
            "output_type": "np",
        }
        if self.inpainting:
            images = self._validation_inpaint(pipeline, cache, prompts, arguments)
        else:
            images = pipeline(prompts, **arguments).images
        if ema is not None:
            ema.restore(raw_unet.parameters())
        unet.train()
        text_encoder.train(s.train_text_encoder)
        folder = self.output.parent / "validation"
        folder.mkdir(parents=True, exist_ok=True)
        labelled_grid(images, prompts, f"step {step}").save(folder / f"step_{step:06d}.png")

    def _validation_inpaint(self, pipeline, cache, prompts, arguments):
        """Inpaint the first few training images' lesion regions (fixed examples)."""
        picks = range(min(4, len(cache["mean"])))
        vae = pipeline.vae
        images, masks = [], []
        for i in picks:
            decoded = vae.decode(cache["mean"][i : i + 1]).sample[0].clamp(-1, 1)
            images.append(
                Image.fromarray(((decoded.permute(1, 2, 0).cpu().numpy() + 1) * 127.5).astype(np.uint8))
            )
            size = images[-1].size
            mask = F.interpolate(cache["mask"][i : i + 1], size=size[::-1])[0, 0].cpu().numpy()
            masks.append(Image.fromarray((mask * 255).astype(np.uint8)))
        return pipeline([prompts[0]] * len(images), image=images, mask_image=masks, **arguments).images

    def _save(
        self, components, unet, text_encoder, ema, images: int, losses: list[float], seconds: float
    ) -> None:
        raw_unet = self.accelerator.unwrap_model(unet)
        raw_text = self.accelerator.unwrap_model(text_encoder)
        if ema is not None:
            ema.copy_to(raw_unet.parameters())
        if self.settings.lora_rank:
            raw_unet = merge_lora(raw_unet)
            if self.settings.train_text_encoder:
                raw_text = merge_lora(raw_text)
        trained = dataclasses.replace(components, unet=raw_unet, text_encoder=raw_text)
        if self.output.exists():
            shutil.rmtree(self.output)
        save_pipeline(trained, self.output, inpainting=self.inpainting)
        (self.output / "README.md").write_text(self._model_card(images, losses, seconds))
        if not self.inpainting:
            write_conditions(self.output, self.manifests)

    def _model_card(self, images: int, losses: list[float], seconds: float) -> str:
        s = self.settings
        kind = "lesion inpainting (StableDiffusionInpaintPipeline)" if self.inpainting else "text-to-image"
        settings = "\n".join(
            f"| {k} | {v} |" for k, v in dataclasses.asdict(s).items() if k != "validation_prompts"
        )
        return (
            f"---\nlibrary_name: diffusers\ntags: [mammography, stable-diffusion, mam-e]\n---\n\n"
            f"# MAM-E {self.model_name}\n\n"
            f"A {kind} model fine-tuned by the MAM-E pipeline: UNet"
            f"{' and CLIP text encoder' if s.train_text_encoder else ''} trained, VAE frozen"
            f"{f', LoRA rank {s.lora_rank} merged into the weights' if s.lora_rank else ''}.\n\n"
            f"- base: `{self.base}`\n- training images: {images} (manifests: {', '.join(self.manifests)})\n"
            f"- steps: {s.steps}, final loss {losses[-1] if losses else float('nan'):.4f}, "
            f"{seconds / 60:.1f} min in this run\n- date: {dt.date.today().isoformat()}\n\n"
            "Load with `StableDiffusionPipeline.from_pretrained(path)` (or the inpainting pipeline).\n\n"
            f"| setting | value |\n|---|---|\n{settings}\n"
        )


def merge_lora(model):
    """Fold LoRA adapters into the base weights so plain diffusers/transformers load the result."""
    from peft.tuners.lora import LoraLayer

    with torch.no_grad():
        for name, module in list(model.named_modules()):
            if isinstance(module, LoraLayer):
                module.merge()
                parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
                setattr(parent, name.rsplit(".", 1)[-1], module.get_base_layer())
    for attribute in ("peft_config", "_hf_peft_config_loaded"):
        if hasattr(model, attribute):
            try:
                delattr(model, attribute)
            except AttributeError:
                setattr(model, attribute, False)
    return model


def labelled_grid(images: list | np.ndarray, labels: list[str], title: str = "") -> Image.Image:
    """A row of grey images (mammograms: the VAE's three channels averaged) with their prompts under them."""
    arrays = [
        np.asarray(img, dtype=np.float32) / (255.0 if isinstance(img, Image.Image) else 1.0) for img in images
    ]
    tiles = [
        Image.fromarray((np.clip(a.mean(axis=-1) if a.ndim == 3 else a, 0, 1) * 255).astype(np.uint8))
        for a in arrays
    ]
    if tiles[0].width < 128:  # small demo images: enlarge so the grid and its labels stay readable
        factor = -(-128 // tiles[0].width)
        tiles = [t.resize((t.width * factor, t.height * factor), Image.Resampling.NEAREST) for t in tiles]
    width, height = tiles[0].size
    label_height = 36
    grid = Image.new("RGB", (width * len(tiles), height + label_height + 14), "white")
    draw = ImageDraw.Draw(grid)
    draw.text((4, 1), title, fill="black")
    for i, (tile, label) in enumerate(zip(tiles, labels, strict=False)):
        grid.paste(tile.convert("RGB"), (i * width, 14))
        words, lines, line = label.split(), [], ""
        for word in words:
            if len(line) + len(word) + 1 > max(8, width // 6):
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        draw.multiline_text((i * width + 2, height + 15), "\n".join(lines[-3:]), fill="black", spacing=0)
    return grid
