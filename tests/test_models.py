"""Models: deterministic tokenizer, tiny base, fine-tuning (loss, weights, resume), inpainting, errors."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from mame.inpaint import composite, inpaint
from mame.models import TinySpec, load_components, resolve_model, tiny_unet, widen_conv_in
from mame.tiny import build_tiny_base
from mame.tokenizer import prompt_corpus, save_tokenizer
from mame.train import Trainer, TrainSettings

torch.set_num_threads(1)
SPEC = TinySpec(
    resolution=32, vae_channels=(8, 8, 16, 16), unet_channels=(16, 32), text_hidden=32, text_heads=2
)
PROMPTS = ["a mammogram in CC view with big area", "a mammogram in MLO view with small area"]


def _write_data(root) -> tuple[str, str]:
    """16 tiny images in two looks, their captions, and lesion masks."""
    rng = np.random.default_rng(0)
    rows, lesion_rows = [], []
    (root / "img").mkdir()
    for i in range(16):
        image = np.zeros((32, 32), np.uint8)
        if i % 2:
            image[:, :20] = 180  # "CC": a wide block on the left
        else:
            image[:18, :12] = 220  # "MLO": a tall corner block
        image = np.clip(image + rng.integers(0, 20, image.shape), 0, 255).astype(np.uint8)
        mask = np.zeros((32, 32), np.uint8)
        mask[8:16, 4:12] = 255
        Image.fromarray(image).save(root / "img" / f"{i}.png")
        Image.fromarray(mask).save(root / "img" / f"{i}_mask.png")
        rows.append({"image": str(root / "img" / f"{i}.png"), "prompt": PROMPTS[i % 2], "split": "train"})
        lesion_rows.append({**rows[-1], "mask": str(root / "img" / f"{i}_mask.png")})
    pd.DataFrame(rows).to_csv(root / "healthy.csv", index=False)
    pd.DataFrame(lesion_rows).to_csv(root / "lesions.csv", index=False)
    return str(root / "healthy.csv"), str(root / "lesions.csv")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    healthy, lesions = _write_data(root)
    build_tiny_base(
        [healthy],
        root / "base",
        root / "base-inpaint",
        ["hologic"],
        SPEC,
        vae_steps=30,
        vae_batch_size=8,
        vae_crop=32,
    )
    return {
        "root": root,
        "healthy": healthy,
        "lesions": lesions,
        "base": str(root / "base"),
        "inpaint": str(root / "base-inpaint"),
    }


def settings(**changes) -> TrainSettings:
    values = {
        "steps": 6,
        "batch_size": 4,
        "lr": 1e-3,
        "warmup_steps": 0,
        "validation_every": 0,
        "checkpoint_every": 0,
        "caption_dropout": 0.2,
        "validation_prompts": PROMPTS[:1],
    }
    return TrainSettings(**{**values, **changes})


def _digest(folder) -> str:
    return hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
    ).hexdigest()


def test_tokenizer_is_byte_identical_on_every_run(tmp_path):
    corpus = prompt_corpus(["hologic", "siemens"])
    save_tokenizer(corpus, tmp_path / "a")
    save_tokenizer(list(reversed(corpus)), tmp_path / "b")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    from transformers import CLIPTokenizer

    tokenizer = CLIPTokenizer.from_pretrained(tmp_path / "a")
    tokens = tokenizer.tokenize("a hologic mammogram in MLO view with very high density")
    assert tokens == [
        "a</w>",
        "hologic</w>",
        "mammogram</w>",
        "in</w>",
        "mlo</w>",
        "view</w>",
        "with</w>",
        "very</w>",
        "high</w>",
        "density</w>",
    ]
    assert tokenizer.model_max_length == 77
    assert (
        tokenizer.decode(tokenizer("a ge mammogram").input_ids, skip_special_tokens=True) == "a ge mammogram"
    )


def test_tiny_base_reloads_in_plain_diffusers(tiny):
    from diffusers import StableDiffusionInpaintPipeline, StableDiffusionPipeline

    pipeline = StableDiffusionPipeline.from_pretrained(tiny["base"])
    assert pipeline.vae.config.scaling_factor != pytest.approx(0.18215)
    assert 2 ** (len(pipeline.vae.config.block_out_channels) - 1) == 8
    assert StableDiffusionInpaintPipeline.from_pretrained(tiny["inpaint"]).unet.config.in_channels == 9


def _weights(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@torch.no_grad()
def _fixed_loss(path: str, manifest: str) -> float:
    """Epsilon MSE of a model on its data with fixed noise and timesteps (comparable across models)."""
    from mame.training_data import load_examples

    parts = load_components(path)
    examples = load_examples([manifest], 32)
    generator = torch.Generator().manual_seed(123)
    latents = (
        parts.vae.encode(torch.from_numpy(examples.images)).latent_dist.mean * parts.vae.config.scaling_factor
    )
    noise = torch.randn(latents.shape, generator=generator)
    timesteps = torch.randint(0, 1000, (len(latents),), generator=generator)
    ids = parts.tokenizer(
        examples.captions, padding="max_length", max_length=77, return_tensors="pt"
    ).input_ids
    prediction = parts.unet(
        parts.noise_scheduler.add_noise(latents, noise, timesteps), timesteps, parts.text_encoder(ids)[0]
    ).sample
    return float(torch.nn.functional.mse_loss(prediction, noise))


def test_fine_tuning_lowers_the_loss_and_trains_unet_and_text_encoder_only(tiny, tmp_path):
    before = load_components(tiny["base"])
    result = Trainer(
        tiny["base"],
        [tiny["healthy"]],
        tmp_path / "out" / "pipeline",
        tmp_path / "ckpt",
        settings(steps=25, validation_every=25),
    ).run()
    after = load_components(str(tmp_path / "out" / "pipeline"))
    assert _fixed_loss(str(tmp_path / "out" / "pipeline"), tiny["healthy"]) < _fixed_loss(
        tiny["base"], tiny["healthy"]
    )
    changed = lambda a, b: any(not torch.equal(a[k], b[k]) for k in a)  # noqa: E731
    assert changed(_weights(before.unet), _weights(after.unet))
    assert changed(_weights(before.text_encoder), _weights(after.text_encoder))
    assert not changed(_weights(before.vae), _weights(after.vae))
    log = pd.read_csv(tmp_path / "out" / "training_log.csv")
    assert log["step"].tolist() == list(range(1, 26)) and result.steps_done == 25
    assert (tmp_path / "out" / "validation" / "step_000025.png").exists()
    assert "base:" in (tmp_path / "out" / "pipeline" / "README.md").read_text()


def test_a_killed_and_resumed_run_ends_with_the_same_weights(tiny, tmp_path):
    Trainer(
        tiny["base"], [tiny["healthy"]], tmp_path / "a" / "pipeline", tmp_path / "a-ckpt", settings()
    ).run()
    interrupted = Trainer(
        tiny["base"],
        [tiny["healthy"]],
        tmp_path / "b" / "pipeline",
        tmp_path / "b-ckpt",
        settings(checkpoint_every=2),
    )
    assert interrupted.run(stop_after=3).stopped_early
    assert not (tmp_path / "b" / "pipeline").exists()
    (tmp_path / "b" / "training_log.csv").unlink()  # Snakemake removes a failed job's outputs
    Trainer(
        tiny["base"],
        [tiny["healthy"]],
        tmp_path / "b" / "pipeline",
        tmp_path / "b-ckpt",
        settings(checkpoint_every=2),
    ).run()
    a = load_components(str(tmp_path / "a" / "pipeline"))
    b = load_components(str(tmp_path / "b" / "pipeline"))
    for module in ("unet", "text_encoder"):
        wa, wb = _weights(getattr(a, module)), _weights(getattr(b, module))
        assert all(torch.equal(wa[k], wb[k]) for k in wa), module
    assert pd.read_csv(tmp_path / "b" / "training_log.csv")["step"].tolist() == list(range(1, 7))


def test_checkpoints_of_other_settings_are_not_resumed(tiny, tmp_path):
    Trainer(
        tiny["base"],
        [tiny["healthy"]],
        tmp_path / "o" / "pipeline",
        tmp_path / "ckpt",
        settings(checkpoint_every=2),
    ).run(stop_after=2)
    result = Trainer(
        tiny["base"],
        [tiny["healthy"]],
        tmp_path / "o" / "pipeline",
        tmp_path / "ckpt",
        settings(lr=5e-4, steps=3),
    ).run()
    assert pd.read_csv(tmp_path / "o" / "training_log.csv")["step"].tolist() == [1, 2, 3]
    assert result.steps_done == 3


def test_output_generates_in_vanilla_diffusers(tiny, tmp_path):
    from diffusers import StableDiffusionPipeline

    Trainer(tiny["base"], [tiny["healthy"]], tmp_path / "p", tmp_path / "c", settings(steps=2)).run()
    pipeline = StableDiffusionPipeline.from_pretrained(tmp_path / "p")
    image = pipeline(
        PROMPTS[0],
        num_inference_steps=2,
        height=32,
        width=32,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
    ).images[0]
    assert image.shape == (32, 32, 3) and np.isfinite(image).all()


def test_lora_is_merged_into_plain_weights(tiny, tmp_path):
    from diffusers import StableDiffusionPipeline

    Trainer(
        tiny["base"], [tiny["healthy"]], tmp_path / "p", tmp_path / "c", settings(steps=3, lora_rank=4)
    ).run()
    pipeline = StableDiffusionPipeline.from_pretrained(tmp_path / "p")
    assert not any("lora" in key for key in pipeline.unet.state_dict())
    base = load_components(tiny["base"]).unet.state_dict()
    assert any(not torch.equal(base[k], v) for k, v in pipeline.unet.state_dict().items())


def test_inpainting_trains_and_keeps_the_image_outside_the_mask(tiny, tmp_path):
    from diffusers import StableDiffusionInpaintPipeline

    Trainer(
        tiny["inpaint"],
        [tiny["lesions"]],
        tmp_path / "p",
        tmp_path / "c",
        settings(steps=4, validation_every=4),
        inpainting=True,
    ).run()
    pipeline = StableDiffusionInpaintPipeline.from_pretrained(tmp_path / "p")
    image = np.asarray(Image.open(tiny["root"] / "img" / "3.png"))
    mask = np.asarray(Image.open(tiny["root"] / "img" / "3_mask.png"))
    result = inpaint(pipeline, image, mask, steps=3)
    outside = mask < 128
    np.testing.assert_array_equal(result[outside], image[outside])
    assert not np.array_equal(result[~outside], image[~outside])
    with pytest.raises(ValueError, match="empty"):
        inpaint(pipeline, image, np.zeros_like(mask))


def test_widened_unet_starts_as_the_text_to_image_unet():
    torch.manual_seed(0)
    unet = tiny_unet(SPEC)
    wide = widen_conv_in(unet, 9)
    latents = torch.randn(1, 4, 4, 4)
    hidden = torch.randn(1, 77, SPEC.text_hidden)
    extra = torch.randn(1, 5, 4, 4)
    with torch.no_grad():
        expected = unet(latents, 10, hidden).sample
        actual = wide(torch.cat([latents, extra], dim=1), 10, hidden).sample
    torch.testing.assert_close(actual, expected)


def test_text_to_image_base_for_inpainting_needs_widening(tiny, tmp_path):
    with pytest.raises(ValueError, match="widen_unet"):
        Trainer(
            tiny["base"], [tiny["lesions"]], tmp_path / "p", tmp_path / "c", settings(), inpainting=True
        ).run()
    result = Trainer(
        tiny["base"],
        [tiny["lesions"]],
        tmp_path / "p",
        tmp_path / "c",
        settings(steps=2),
        inpainting=True,
        widen_unet=True,
    ).run()
    assert result.steps_done == 2


def test_bad_settings_are_refused_with_clear_messages(tiny, tmp_path):
    with pytest.raises(ValueError, match="larger than the 16 training images"):
        Trainer(
            tiny["base"], [tiny["healthy"]], tmp_path / "p", tmp_path / "c", settings(batch_size=32)
        ).run()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Trainer(tiny["base"], [str(tmp_path / "none.csv")], tmp_path / "p", tmp_path / "c", settings()).run()
    with pytest.raises(ValueError, match="learning_rate"):
        TrainSettings.from_dict({"learning_rate": 1e-4})
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainSettings(lr_schedule="sometimes")


def test_an_uncached_hub_model_offline_names_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="models.base"):
        resolve_model("stable-diffusion-v1-5/stable-diffusion-v1-5", "models.base")
    with pytest.raises(ValueError, match="does not exist"):
        resolve_model("./no/such/dir", "models.base")
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_composite_takes_generated_pixels_only_inside_the_mask():
    original = np.zeros((4, 4), np.uint8)
    generated = np.full((4, 4), 9, np.uint8)
    mask = np.zeros((4, 4), np.uint8)
    mask[1:3, 1:3] = 255
    out = composite(original, generated, mask)
    assert out.sum() == 9 * 4 and out[1, 1] == 9 and out[0, 0] == 0


def _launch_two_processes(tiny, tmp_path, steps: int):
    import json
    import subprocess
    import sys

    command = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2"]
    command += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "mame.cli"]
    command += ["train", tiny["healthy"], "--base", tiny["base"], "--out", str(tmp_path / "p")]
    command += ["--checkpoints", str(tmp_path / "c"), "--threads", "1", "--settings"]
    command.append(
        json.dumps({"steps": steps, "batch_size": 2, "validation_every": 0, "checkpoint_every": 2})
    )
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_two_processes_train_and_resume_under_accelerate_launch_on_cpu(tiny, tmp_path):
    """The multi-GPU path (accelerate launch), exercised with two CPU processes on the gloo backend:
    one log and one checkpoint set written by the main process, and a longer rerun resumes."""
    assert _launch_two_processes(tiny, tmp_path, steps=4)["steps"] == 4
    log = pd.read_csv(tmp_path / "training_log.csv")
    assert log["step"].tolist() == [1, 2, 3, 4]  # written once, by the main process
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["checkpoint-000002"]
    from diffusers import StableDiffusionPipeline

    assert StableDiffusionPipeline.from_pretrained(tmp_path / "p").unet is not None
    assert _launch_two_processes(tiny, tmp_path, steps=6)["steps"] == 6
    resumed = pd.read_csv(tmp_path / "training_log.csv")
    assert resumed["step"].tolist() == [1, 2, 3, 4, 5, 6]
    # steps 1-2 come from the checkpoint (same losses and clock), not from training again
    assert resumed.iloc[:2].equals(log.iloc[:2])


def test_processes_draw_disjoint_shards_of_each_batch():
    from mame.train import batch_indices

    per_process = [[batch_indices(40, 4, step, p, 2, seed=3).tolist() for step in range(5)] for p in range(2)]
    epoch = [i for process in per_process for batch in process for i in batch]
    assert len(epoch) == len(set(epoch)) == 40  # one epoch: every image once, across both processes
    assert batch_indices(40, 4, 2, 1, 2, seed=3).tolist() == per_process[1][2]  # deterministic


def test_sampling_is_deterministic_for_a_seed_and_mirrors_right_breasts(tiny, tmp_path):
    from mame.sample import generate, load_pipeline, sweep

    pipeline = load_pipeline(tiny["base"])
    first = generate(pipeline, PROMPTS, [5, 6], guidance=4, steps=3)
    again = generate(pipeline, PROMPTS, [5, 6], guidance=4, steps=3)
    other = generate(pipeline, PROMPTS, [7, 6], guidance=4, steps=3)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0]) and np.array_equal(first[1], other[1])
    mirrored = generate(pipeline, PROMPTS, [5, 6], guidance=4, steps=3, mirror=[True, False])
    assert np.array_equal(mirrored[0], first[0][:, ::-1])
    rows = sweep(
        pipeline, PROMPTS, [2.0, 6.0], 3, str(tmp_path / "s"), seed=10, steps=2, batch_size=2, model="m"
    )
    assert len(rows) == 2 * 2 * 3 and {r["seed"] for r in rows} == {10, 11, 12}
