"""The super-resolution stage's training: the one Trainer, on (downsampled, original) full-field patches.

What differs from text-to-image is small, and each part overrides one step of the Trainer:
- the data: patches of the training images' full-field product (`mame.data.patches`), at fixed places.
  Each is encoded once by the frozen VAE, with its box-downsampled copy beside it;
- the denoiser's input: the noisy latents with the low-resolution patch concatenated. The patch is noised
  by the low-resolution schedule at a random level, which the UNet reads as its class label. This is
  the noise augmentation that `StableDiffusionUpscalePipeline` applies at inference;
- the validation grid: low-resolution input, upscaled, original.
The loss, caption dropout, schedule, EMA, checkpoints and resume are the Trainer's own, so a killed
run resumes bit-identically. The result is a plain `StableDiffusionUpscalePipeline` directory.
"""

from __future__ import annotations

import logging

import numpy as np
import torch

from mame.data.patches import box_downsample, patch_positions, read_patches
from mame.io import split_rows
from mame.models.families import encode_posterior
from mame.models.upscaler import IMAGE_CHANNELS, upscale_factor
from mame.training.trainer import Trainer, TrainState

log = logging.getLogger(__name__)


class PatchBank:
    """Training pairs in memory: each patch's VAE posterior (mean, std) and its low-resolution copy in
    [-1, 1] (3 channels, as the pipeline passes its image), gathered by index as the latent stores are."""

    def __init__(
        self, mean: torch.Tensor, std: torch.Tensor, low: torch.Tensor, device: torch.device
    ) -> None:
        self.mean, self.std, self.low = mean.to(device), std.to(device), low.to(device)

    def __len__(self) -> int:
        return len(self.mean)

    def gather(self, index) -> dict[str, torch.Tensor]:
        index = torch.as_tensor(index, device=self.mean.device)
        return {"mean": self.mean[index], "std": self.std[index], "low": self.low[index]}


@torch.no_grad()
def encode_patches(vae, patches: np.ndarray, factor: int, batch_size: int, device: torch.device) -> PatchBank:
    """Encode (n, h, w) patches in [0, 1] with the frozen VAE; box-downsample each by `factor`."""
    vae = vae.to(device)
    means, stds = [], []
    for start in range(0, len(patches), batch_size):
        batch = torch.from_numpy(patches[start : start + batch_size] * 2 - 1)[:, None]
        mean, std = encode_posterior(vae, batch.repeat(1, 3, 1, 1).to(device, vae.dtype))
        means.append(mean.float().cpu())
        stds.append(std.float().cpu())
    low = torch.from_numpy(box_downsample(patches, factor).astype(np.float32) * 2 - 1)[:, None]
    return PatchBank(torch.cat(means), torch.cat(stds), low.repeat(1, IMAGE_CHANNELS, 1, 1), device)


class UpscalerTrainer(Trainer):
    """Fine-tune an upscaler (`StableDiffusionUpscalePipeline` directory) on full-field patches.

    `settings.resolution` is the full-field patch side; `patches_per_image` patches are drawn per training
    image, inside the breast, at places fixed by the seed."""

    task = "super-resolution"
    upscaling = True

    def __init__(self, *args, patches_per_image: int = 4, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.patches_per_image = patches_per_image
        if not self.settings.resolution:
            raise ValueError("an upscaler trains on patches: set its patch side (superres.patch)")

    def denoiser_channels(self, latent: int) -> int:
        return latent + IMAGE_CHANNELS

    def data_settings(self) -> dict:
        return {"patches_per_image": self.patches_per_image, "task": self.task}

    def _rows(self):
        """One row per training patch (the manifest row of its image, and where the patch lies)."""
        frame = split_rows(self.manifests, "train")
        frame = frame[frame["full_image"].fillna("").astype(str) != ""].reset_index(drop=True)
        if frame.empty:
            raise ValueError(
                f"no full-field images in {', '.join(self.manifests)}: set convert.full_field.scale > 0"
            )
        patch = int(self.settings.resolution)
        positions = patch_positions(frame, patch, self.patches_per_image, self.settings.seed)
        needed = self.settings.batch_size * self.accelerator.num_processes
        if len(positions) < needed:
            raise ValueError(
                f"{len(positions)} full-field patches of {patch} px lie in the breast, fewer than the batch "
                f"of {needed}; lower superres.patch or superres.train.batch_size"
            )
        log.info("%d patches of %d px from %d full-field images", len(positions), patch, len(frame))
        return positions

    def _latents(self, components, rows, resolution) -> PatchBank:
        factor = upscale_factor(components.vae.config)
        patches = read_patches(rows)
        return encode_patches(
            components.vae, patches, factor, self.latent_batch_size, self.accelerator.device
        )

    def denoiser_input(self, state: TrainState, noisy, batch: dict, added: dict, generator: torch.Generator):
        """Noisy latents and the low-resolution patch noised at a random level (the UNet's class label)."""
        extra, device = state.components.extra, self.accelerator.device
        low = batch["low"]
        levels = torch.randint(0, extra["max_noise_level"] + 1, (len(low),), generator=generator).to(device)
        noise = torch.randn(low.shape, generator=generator).to(device)
        noisy_low = extra["low_res_scheduler"].add_noise(low, noise, levels)
        return torch.cat([noisy, noisy_low.to(noisy.dtype)], dim=1), {**added, "class_labels": levels}

    def validation_images(self, pipeline, state: TrainState, prompts: list[str], arguments: dict):
        """The first training patches: low-resolution input (enlarged), upscaled, original (decoded)."""
        batch = state.stream.gather(list(range(min(3, len(state.stream)))))
        low = (batch["low"] + 1) / 2
        upscaled = pipeline(
            prompt=[prompts[0]] * len(low),
            image=low,
            num_inference_steps=arguments["num_inference_steps"],
            guidance_scale=arguments["guidance_scale"],
            generator=arguments["generator"],
            output_type="np",
        ).images
        original = pipeline.vae.decode(batch["mean"]).sample.clamp(-1, 1)
        size = upscaled.shape[1:3]
        enlarged = torch.nn.functional.interpolate(low, size=size, mode="nearest")
        images, labels = [], []
        for i in range(len(low)):
            images += [
                enlarged[i].permute(1, 2, 0).cpu().numpy(),
                upscaled[i],
                ((original[i] + 1) / 2).permute(1, 2, 0).cpu().numpy(),
            ]
            labels += ["input", "upscaled", "original"]
        return images, labels
