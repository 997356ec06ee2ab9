"""The super-resolution stage: the tiny x4 twin, its training on full-field patches, resume, diffusers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from scipy import ndimage

from mame.models.components import load_components

from conftest import SPEC, train_settings

torch.set_num_threads(1)


def write_full_field_data(root, images: int = 12) -> str:
    """Processed 32 px images and their 128 px 16-bit full fields (smooth tissue, air on the right)."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(images):
        tissue = 0.45 + ndimage.gaussian_filter(rng.normal(size=(128, 100)), 2) * 0.8
        full = np.zeros((128, 128))
        full[:, :100] = np.clip(tissue, 0.05, 1)
        full = (full * 65535).astype(np.uint16)
        Image.fromarray(full).save(root / f"{i}_full.png")
        Image.fromarray((full.reshape(32, 4, 32, 4).mean((1, 3)) / 257).astype(np.uint8)).save(
            root / f"{i}.png"
        )
        rows.append(
            {
                "image": str(root / f"{i}.png"),
                "full_image": str(root / f"{i}_full.png"),
                "prompt": "a mammogram in CC view",
                "split": "train" if i < images - 2 else "holdout",
            }
        )
    pd.DataFrame(rows).to_csv(root / "healthy.csv", index=False)
    return str(root / "healthy.csv")


@pytest.fixture(scope="module")
def upscaler(tmp_path_factory, tiny):
    from mame.models.upscaler import build_tiny_upscaler

    root = tmp_path_factory.mktemp("upscaler")
    manifest = write_full_field_data(root)
    summary = build_tiny_upscaler(
        [manifest], root / "base", SPEC, 4, 32, 20, ["hologic"], patches_per_image=2
    )
    return {"root": root, "manifest": manifest, "base": str(root / "base"), "summary": summary}


def _settings(**changes):
    return train_settings(resolution=32, **changes)


def test_the_tiny_twin_is_sd_x4_upscaler_shaped_and_its_latents_have_unit_variance(upscaler, tiny):
    from mame.data.patches import patch_positions, read_patches
    from mame.models.families import encode_posterior, family_of

    components = load_components(upscaler["base"])
    assert family_of(upscaler["base"]).upscale_pipeline == "StableDiffusionUpscalePipeline"
    assert components.unet.config.in_channels == 7 and components.unet.config.num_class_embeds == 1000
    assert components.vae.config.scaling_factor == pytest.approx(0.08333)
    assert components.noise_scheduler.config.prediction_type == "v_prediction"
    assert components.extra["max_noise_level"] == 350
    base = load_components(tiny["base"])
    assert components.tokenizer.get_vocab() == base.tokenizer.get_vocab()  # prompts tokenize alike
    patches = read_patches(patch_positions(pd.read_csv(upscaler["manifest"]), 32, 2, 0))
    with torch.no_grad():
        mean, _ = encode_posterior(
            components.vae, torch.from_numpy(patches[:, None] * 2 - 1).repeat(1, 3, 1, 1)
        )
    assert 0.6 < float(mean.std()) * 0.08333 < 1.6  # the folded constant: unit variance at 0.08333


def test_the_latent_rescaling_keeps_every_reconstruction():
    from mame.models.components import TinySpec, tiny_vae
    from mame.models.upscaler import rescale_latent_space

    vae = tiny_vae(TinySpec(resolution=32, vae_channels=(8, 8, 16))).eval()
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        before = vae.encode(x).latent_dist
        decoded = vae.decode(before.mean).sample
        rescale_latent_space(vae, 0.5, 12.0)
        after = vae.encode(x).latent_dist
        torch.testing.assert_close(after.mean, before.mean * 24, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(after.std, before.std * 24, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(vae.decode(after.mean).sample, decoded, rtol=1e-4, atol=1e-5)


def test_the_upscaler_trains_resumes_bit_identically_and_loads_in_plain_diffusers(upscaler, tmp_path):
    from diffusers import StableDiffusionUpscalePipeline

    from mame.training.upscaler import UpscalerTrainer

    def trainer(name, **changes):
        return UpscalerTrainer(
            upscaler["base"],
            [upscaler["manifest"]],
            tmp_path / name / "pipeline",
            tmp_path / f"{name}-ckpt",
            _settings(**changes),
            patches_per_image=2,
        )

    whole = trainer("a").run()
    assert whole.steps_done == 6 and whole.images == 20  # 10 training images x 2 patches
    assert trainer("b", checkpoint_every=2).run(stop_after=3).interrupted
    (tmp_path / "b" / "training_log.csv").unlink()
    trainer("b", checkpoint_every=2).run()
    a, b = (load_components(str(tmp_path / name / "pipeline")) for name in "ab")
    for key, value in a.unet.state_dict().items():
        assert torch.equal(value, b.unet.state_dict()[key]), key
    pipeline = StableDiffusionUpscalePipeline.from_pretrained(tmp_path / "a" / "pipeline")
    pipeline.set_progress_bar_config(disable=True)
    low = torch.rand(1, 3, 8, 12)
    image = pipeline(
        prompt="a mammogram", image=low, num_inference_steps=2, guidance_scale=0, output_type="np"
    ).images[0]
    assert image.shape == (32, 48, 3) and np.isfinite(image).all()
    card = (tmp_path / "a" / "pipeline" / "README.md").read_text()
    assert "super-resolution (StableDiffusionUpscalePipeline" in card and "training patches: 20" in card


def test_a_text_to_image_base_is_refused_as_an_upscaler(tiny, upscaler, tmp_path):
    from mame.training.upscaler import UpscalerTrainer

    with pytest.raises(ValueError, match="4-channel denoiser; super-resolution needs 7"):
        UpscalerTrainer(
            tiny["base"], [upscaler["manifest"]], tmp_path / "p", tmp_path / "c", _settings()
        ).run()


def test_too_few_patches_for_the_batch_is_a_clear_error(upscaler, tmp_path):
    from mame.training.upscaler import UpscalerTrainer

    with pytest.raises(ValueError, match="fewer than the batch of 64"):
        UpscalerTrainer(
            upscaler["base"], [upscaler["manifest"]], tmp_path / "p", tmp_path / "c", _settings(batch_size=64)
        ).run()
