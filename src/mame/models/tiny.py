"""Build the demo's tiny base model: tokenizer from the prompt vocabulary, VAE pre-trained on the
processed images, randomly initialised UNet and text encoder; text-to-image and inpainting variants.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import torch

from mame.data.examples import load_examples
from mame.models.components import (
    SANA_SCHEDULER,
    SD_SCHEDULER,
    Components,
    TinySpec,
    save_pipeline,
    tiny_dc_ae,
    tiny_sana_transformer,
    tiny_text_components,
    tiny_unet,
    tiny_vae,
)
from mame.models.families import encode_posterior
from mame.models.tokenizer import build_tokenizer, check_prompt_length, prompt_corpus

log = logging.getLogger(__name__)


def pretrain_vae(
    vae,
    images: np.ndarray,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    crop: int = 64,
    kl_weight: float = 1e-6,
) -> dict:
    """Train the VAE to reconstruct the processed images; set scaling_factor = 1 / latent std.

    `images`: float32 (n, 3, h, w) in [-1, 1]. The VAE is fully convolutional, so it trains on random
    `crop` x `crop` patches (4x cheaper at 128 px) and is measured on whole images. SD's 0.18215 is
    the latent std of SD's own VAE; diffusion expects unit-variance latents, so a VAE trained here
    gets its own factor. Returns {"psnr_db", "latent_std", "loss"}.
    """
    from tqdm import tqdm

    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(vae.parameters(), lr=lr, weight_decay=0.0)
    data = torch.from_numpy(images)
    height, width = data.shape[-2:]
    crop = min(crop, height, width)
    vae.train()
    loss = torch.tensor(float("nan"))
    for _ in tqdm(range(steps), desc="vae", unit="step", mininterval=5, disable=None):
        index = torch.randint(len(data), (batch_size,), generator=generator)
        top = int(torch.randint(height - crop + 1, (1,), generator=generator))
        left = int(torch.randint(width - crop + 1, (1,), generator=generator))
        batch = data[index, :, top : top + crop, left : left + crop]
        encoded = vae.encode(batch)
        if not hasattr(encoded, "latent_dist"):  # a DC-AE (Sana): deterministic, no KL term
            loss = torch.nn.functional.mse_loss(vae.decode(encoded.latent).sample, batch)
        else:
            posterior = encoded.latent_dist
            latents = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=generator)
            reconstruction = vae.decode(latents).sample
            loss = torch.nn.functional.mse_loss(reconstruction, batch) + kl_weight * posterior.kl().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    vae.eval()
    with torch.no_grad():
        means, errors = [], []
        for start in range(0, len(data), 32):
            batch = data[start : start + 32]
            mean = encode_posterior(vae, batch)[0]
            means.append(mean)
            errors.append(((vae.decode(mean).sample.clamp(-1, 1) - batch) ** 2).mean(dim=(1, 2, 3)))
        latent_std = float(torch.cat(means).std())
        mse = float(torch.cat(errors).mean()) / 4.0  # errors on [-1, 1] -> on [0, 1]
    vae.register_to_config(scaling_factor=1.0 / latent_std)
    return {
        "psnr_db": round(10 * math.log10(1.0 / max(mse, 1e-12)), 2),
        "latent_std": round(latent_std, 5),
        "loss": round(float(loss.detach()), 6),
    }


def build_tiny_base(
    manifests: list[str],
    output: str | Path,
    inpainting_output: str | Path,
    vendors: list[str],
    spec: TinySpec,
    vae_steps: int,
    vae_batch_size: int = 16,
    vae_lr: float = 1e-3,
    vae_crop: int = 64,
) -> dict:
    """Write the tiny text-to-image pipeline to `output` and its 9-channel twin to `inpainting_output`.

    Sana has no inpainting pipeline: its `inpainting_output` holds the text-to-image pipeline, which the
    trainer refuses for lesions with a message naming models.inpaint_base."""
    from diffusers import DDPMScheduler, DPMSolverMultistepScheduler

    torch.manual_seed(spec.seed)
    corpus = prompt_corpus(vendors)
    tokenizer = build_tokenizer(corpus, spec.text_length)
    if spec.family != "sana":  # Sana's Gemma tokenizer is built from the corpus at its own length
        check_prompt_length(tokenizer, corpus)
    examples = load_examples(manifests, spec.resolution, split="train")
    sana = spec.family == "sana"
    vae = tiny_dc_ae(spec) if sana else tiny_vae(spec)
    metrics = pretrain_vae(vae, examples.images, vae_steps, vae_batch_size, vae_lr, spec.seed, crop=vae_crop)
    log.info("tiny VAE: %s", metrics)
    text = tiny_text_components(spec, tokenizer, corpus)
    if sana:  # flow matching, sampled as Sana's pipeline samples: DPM-Solver on flow sigmas
        scheduler = DPMSolverMultistepScheduler(**SANA_SCHEDULER)
    else:
        scheduler = DDPMScheduler(**{**SD_SCHEDULER, "prediction_type": spec.prediction_type})
    for folder, channels in ((output, 4), (inpainting_output, 9)):
        denoiser = tiny_sana_transformer(spec) if sana else tiny_unet(spec, channels)
        components = Components(
            text["tokenizer"], text["text_encoder"], vae, denoiser, scheduler, family=text["family"]
        )
        save_pipeline(components, folder, inpainting=channels == 9 and not sana)
    summary = {"images": len(examples.captions), "vae": metrics, "spec": spec.__dict__, "vendors": vendors}
    for folder in (output, inpainting_output):
        (Path(folder) / "tiny_base.json").write_text(json.dumps(summary, indent=1, default=list) + "\n")
    return summary
