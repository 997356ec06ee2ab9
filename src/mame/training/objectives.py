"""What a training step regresses, per kind of base: the flow-matching pair (Sana), min-SNR weights
(DDPM bases), and a frozen text encoder's conditioning computed once per caption instead of every step."""

from __future__ import annotations

import torch

from mame.models.families import condition


def flow_pair(scheduler, latents: torch.Tensor, noise: torch.Tensor, generator: torch.Generator):
    """(noisy latents, timesteps, target) of rectified-flow training, as Sana's sampler integrates it.

    A noise level sigma is drawn uniformly and shifted by the scheduler's `flow_shift` (the shift its
    DPM-Solver applies to the flow sigmas when sampling): x_sigma = (1 - sigma) x + sigma noise, at
    timestep sigma x num_train_timesteps; the model predicts the velocity noise - x.
    """
    shift = float(scheduler.config.get("flow_shift", 1.0) or 1.0)
    uniform = torch.rand(len(latents), generator=generator).to(latents.device)
    sigma = shift * uniform / (1 + (shift - 1) * uniform)
    level = sigma.view(-1, 1, 1, 1).to(latents.dtype)
    noisy = (1 - level) * latents + level * noise
    timesteps = sigma * scheduler.config.num_train_timesteps
    return noisy, timesteps, noise - latents


def min_snr_weights(scheduler, timesteps: torch.Tensor, gamma: float) -> torch.Tensor:
    """Min-SNR-gamma loss weights (Hang et al. 2023) for epsilon or v prediction."""
    from diffusers.training_utils import compute_snr

    snr = compute_snr(scheduler, timesteps)
    weights = torch.clamp(snr, max=gamma) / snr
    if scheduler.config.prediction_type == "v_prediction":
        weights = weights * snr / (snr + 1)
    return weights


class FrozenText:
    """The conditioning of every distinct caption and of the dropped caption, from a frozen encoder.

    The encoder never changes, so each caption's states are computed once (under no_grad) and a batch
    gathers them: Sana's Gemma-2 (2.6B parameters) then runs once per caption, not once per image and
    step. Per-image conditioning (SDXL's size-and-crop time ids) is still read per image.
    """

    PER_IMAGE = ("time_ids",)

    def __init__(self, components, text_encoder, tokens: dict) -> None:
        ids = tokens["ids"]
        unique, self.caption_of = torch.unique(ids, dim=0, return_inverse=True)
        first = torch.tensor([int((self.caption_of == c).nonzero()[0]) for c in range(len(unique))])
        first = first.to(ids.device)
        with torch.no_grad():
            kept = torch.zeros(len(first), dtype=torch.bool, device=ids.device)
            self.hidden, self.added = condition(components, text_encoder, tokens, first, kept)
            one = first[:1]
            dropped = torch.ones(1, dtype=torch.bool, device=ids.device)
            self.empty_hidden, self.empty_added = condition(components, text_encoder, tokens, one, dropped)
        self.tokens = tokens

    def lookup(self, index: torch.Tensor, dropped: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """(encoder_hidden_states, added conditioning) of a micro-batch, as `condition` would give them."""
        rows = self.caption_of[index]

        def pick(table: torch.Tensor, empty: torch.Tensor) -> torch.Tensor:
            shape = (-1,) + (1,) * (table.dim() - 1)
            return torch.where(dropped.view(shape), empty, table[rows])

        hidden = pick(self.hidden, self.empty_hidden)
        added = {
            key: self.tokens[key][index].to(hidden.dtype)
            if key in self.PER_IMAGE
            else pick(value, self.empty_added[key])
            for key, value in self.added.items()
        }
        return hidden, added
