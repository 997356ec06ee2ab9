"""The latent stage: encoded once on the accelerator, streamed by training, never re-encoded by a job."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
import torch

from mame.io import read_manifests
from mame.models.components import load_components
from mame.training import latents as latent_stage
from mame.training.latents import (
    LatentStore,
    StreamedLatents,
    check_store,
    encode_base_latents,
    encode_manifest,
    vae_fingerprint,
)
from mame.training.trainer import Trainer

from conftest import train_settings


def test_a_store_holds_the_vaes_posterior_of_every_train_image(tiny, tmp_path):
    store = encode_base_latents(tiny["base"], [tiny["healthy"]], tmp_path / "store", batch_size=5)
    frame = read_manifests([tiny["healthy"]])
    vae = load_components(tiny["base"]).vae
    images = torch.from_numpy(np.stack([latent_stage.read_image(p, 32) for p in frame["image"]]))
    with torch.no_grad():
        posterior = vae.encode(images).latent_dist
    np.testing.assert_allclose(store.arrays["mean"], posterior.mean.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(store.arrays["std"], posterior.std.numpy(), rtol=0, atol=1e-5)
    assert store.rows[frame["image"].iloc[3]] == 3 and len(store) == 16
    assert store.info["resolution"] == 32 and store.info["fingerprints"]["vae"] == vae_fingerprint(vae)
    assert isinstance(LatentStore.open(tmp_path / "store").arrays["mean"], np.memmap)


def test_the_encoder_runs_on_the_accelerators_device(monkeypatch, tmp_path, tiny):
    """Whatever device the accelerator is, the VAE and every batch it encodes are on it."""
    seen = set()

    class SpyVae(torch.nn.Module):
        config = types.SimpleNamespace(scaling_factor=0.5)

        def to(self, device):
            seen.add(("vae", torch.device(device).type))
            return self

        def encode(self, images):
            seen.add(("images", images.device.type))
            n, _, h, w = images.shape
            zeros = torch.zeros(n, 4, h // 8, w // 8)
            return types.SimpleNamespace(latent_dist=types.SimpleNamespace(mean=zeros, std=zeros + 1))

    monkeypatch.setattr(latent_stage, "accelerator_device", lambda: torch.device("meta"))
    monkeypatch.setattr(latent_stage, "vae_fingerprint", lambda vae: "spy")
    frame = read_manifests([tiny["healthy"]])
    encode_manifest(SpyVae(), frame, tmp_path / "s", 32, batch_size=8)
    assert seen == {("vae", "meta"), ("images", "meta")}


def test_fusion_streams_rows_from_each_datasets_store_in_manifest_order(tiny, tmp_path):
    frame = read_manifests([tiny["healthy"]])
    vae = load_components(tiny["base"]).vae
    first = encode_manifest(vae, frame.iloc[:10], tmp_path / "omi", 32)
    second = encode_manifest(vae, frame.iloc[10:], tmp_path / "vindr", 32)
    whole = encode_manifest(vae, frame, tmp_path / "all", 32)
    keys = frame["image"].tolist()[::-1]  # a fusion manifest lists both datasets, in its own order
    stream = StreamedLatents([first, second], keys, torch.device("cpu"))
    batch = stream.gather(torch.tensor([0, 5, 15]))
    expected = whole.arrays["mean"][[15, 10, 0]]
    np.testing.assert_allclose(batch["mean"].numpy(), expected, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="no latents"):
        StreamedLatents([first], keys, torch.device("cpu"))


def test_a_store_of_another_resolution_or_vae_is_refused(tiny, tmp_path):
    store = encode_base_latents(tiny["base"], [tiny["healthy"]], tmp_path / "s")
    tag = store.info["fingerprints"]["vae"]
    with pytest.raises(ValueError, match="encoded at 32 px but this run trains at 64 px"):
        check_store(store, 64, tag, inpainting=False)
    with pytest.raises(ValueError, match="another VAE"):
        check_store(store, 32, "0" * 16, inpainting=False)
    with pytest.raises(ValueError, match="no masked-image latents"):
        check_store(store, 32, tag, inpainting=True)


def test_a_training_job_given_latents_never_runs_the_encoder(tiny, tmp_path, monkeypatch):
    store = encode_base_latents(tiny["inpaint"], [tiny["lesions"]], tmp_path / "s", inpainting=True)
    from diffusers import AutoencoderKL

    def refuse(*args, **kwargs):
        raise AssertionError("the VAE encoder ran inside a training job")

    monkeypatch.setattr(AutoencoderKL, "encode", refuse)
    result = Trainer(
        tiny["inpaint"],
        [tiny["lesions"]],
        tmp_path / "p",
        tmp_path / "c",
        train_settings(
            steps=2
        ),  # (inpainting validation images go through diffusers' pipeline, which encodes)
        inpainting=True,
        latents=[str(store.folder)],
    ).run()
    assert result.steps_done == 2 and not (tmp_path / "c" / "latents").exists()
    assert pd.read_csv(tmp_path / "training_log.csv")["step"].tolist() == [1, 2]
