"""Fine-tuning: loss, which weights train, resume, LoRA, inpainting, several processes, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from mame.models.components import load_components
from mame.sampling.inpaint import inpaint
from mame.training.trainer import Trainer, TrainSettings

from conftest import PROMPTS, train_settings

torch.set_num_threads(1)


def _weights(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@torch.no_grad()
def _fixed_loss(path: str, manifest: str) -> float:
    """Epsilon MSE of a model on its data with fixed noise and timesteps (comparable across models)."""
    from mame.data.examples import load_examples

    parts = load_components(path)
    examples = load_examples([manifest], 32)
    generator = torch.Generator().manual_seed(123)
    latents = (
        parts.vae.encode(torch.from_numpy(examples.images)).latent_dist.mean * parts.vae.config.scaling_factor
    )
    noise = torch.randn(latents.shape, generator=generator)
    timesteps = torch.randint(0, 1000, (len(latents),), generator=generator)
    ids = parts.tokenizer(
        examples.captions,
        padding="max_length",
        max_length=parts.tokenizer.model_max_length,
        return_tensors="pt",
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
        train_settings(steps=25, validation_every=25),
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
        tiny["base"], [tiny["healthy"]], tmp_path / "a" / "pipeline", tmp_path / "a-ckpt", train_settings()
    ).run()
    interrupted = Trainer(
        tiny["base"],
        [tiny["healthy"]],
        tmp_path / "b" / "pipeline",
        tmp_path / "b-ckpt",
        train_settings(checkpoint_every=2),
    )
    assert interrupted.run(stop_after=3).interrupted
    assert not (tmp_path / "b" / "pipeline").exists()
    (tmp_path / "b" / "training_log.csv").unlink()  # Snakemake removes a failed job's outputs
    Trainer(
        tiny["base"],
        [tiny["healthy"]],
        tmp_path / "b" / "pipeline",
        tmp_path / "b-ckpt",
        train_settings(checkpoint_every=2),
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
        train_settings(checkpoint_every=2),
    ).run(stop_after=2)
    result = Trainer(
        tiny["base"],
        [tiny["healthy"]],
        tmp_path / "o" / "pipeline",
        tmp_path / "ckpt",
        train_settings(lr=5e-4, steps=3),
    ).run()
    assert pd.read_csv(tmp_path / "o" / "training_log.csv")["step"].tolist() == [1, 2, 3]
    assert result.steps_done == 3


def test_output_generates_in_vanilla_diffusers(tiny, tmp_path):
    from diffusers import StableDiffusionPipeline

    Trainer(tiny["base"], [tiny["healthy"]], tmp_path / "p", tmp_path / "c", train_settings(steps=2)).run()
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
        tiny["base"], [tiny["healthy"]], tmp_path / "p", tmp_path / "c", train_settings(steps=3, lora_rank=4)
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
        train_settings(steps=4, validation_every=4),
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


def test_text_to_image_base_for_inpainting_needs_widening(tiny, tmp_path):
    with pytest.raises(ValueError, match="widen_unet"):
        Trainer(
            tiny["base"], [tiny["lesions"]], tmp_path / "p", tmp_path / "c", train_settings(), inpainting=True
        ).run()
    result = Trainer(
        tiny["base"],
        [tiny["lesions"]],
        tmp_path / "p",
        tmp_path / "c",
        train_settings(steps=2),
        inpainting=True,
        widen_unet=True,
    ).run()
    assert result.steps_done == 2


def test_bad_settings_are_refused_with_clear_messages(tiny, tmp_path):
    with pytest.raises(ValueError, match="larger than the 16 training images"):
        Trainer(
            tiny["base"], [tiny["healthy"]], tmp_path / "p", tmp_path / "c", train_settings(batch_size=32)
        ).run()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Trainer(
            tiny["base"], [str(tmp_path / "none.csv")], tmp_path / "p", tmp_path / "c", train_settings()
        ).run()
    with pytest.raises(ValueError, match="learning_rate"):
        TrainSettings.from_dict({"learning_rate": 1e-4})
    with pytest.raises(ValueError, match="lr_schedule"):
        TrainSettings(lr_schedule="sometimes")


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
    assert sorted(p.name for p in (tmp_path / "c").glob("checkpoint-*")) == ["checkpoint-000002"]
    from diffusers import StableDiffusionPipeline

    assert StableDiffusionPipeline.from_pretrained(tmp_path / "p").unet is not None
    assert _launch_two_processes(tiny, tmp_path, steps=6)["steps"] == 6
    resumed = pd.read_csv(tmp_path / "training_log.csv")
    assert resumed["step"].tolist() == [1, 2, 3, 4, 5, 6]
    # steps 1-2 come from the checkpoint (same losses and clock), not from training again
    assert resumed.iloc[:2].equals(log.iloc[:2])


def test_processes_draw_disjoint_shards_of_each_batch():
    from mame.training.trainer import batch_indices

    per_process = [[batch_indices(40, 4, step, p, 2, seed=3).tolist() for step in range(5)] for p in range(2)]
    epoch = [i for process in per_process for batch in process for i in batch]
    assert len(epoch) == len(set(epoch)) == 40  # one epoch: every image once, across both processes
    assert batch_indices(40, 4, 2, 1, 2, seed=3).tolist() == per_process[1][2]  # deterministic


def test_caption_balance_draws_every_caption_equally_often_and_repeats_its_draws():
    from mame.training.trainer import batch_indices, caption_weights

    captions = ["common"] * 30 + ["rare"] * 6 + ["rarest"] * 4  # 75 % / 15 % / 10 % of the images
    assert caption_weights(captions, 0.0) is None  # the study's plain epochs stay the default
    weights = caption_weights(captions, 1.0)
    draws = torch.cat([batch_indices(40, 8, step, 0, 1, seed=1, weights=weights) for step in range(3000)])
    share = pd.Series(np.array(captions)[draws.numpy()]).value_counts(normalize=True)
    assert share.to_dict() == pytest.approx({"common": 1 / 3, "rare": 1 / 3, "rarest": 1 / 3}, abs=0.02)
    half = caption_weights(captions, 0.5)  # between: the rarest caption gains, the common one keeps most
    draws = torch.cat([batch_indices(40, 8, step, 0, 1, seed=1, weights=half) for step in range(3000)])
    share = pd.Series(np.array(captions)[draws.numpy()]).value_counts(normalize=True)
    assert 0.10 < share["rarest"] < 0.33 and share["common"] > 0.4
    again = batch_indices(40, 8, 1234, 0, 1, seed=1, weights=weights)  # resumable: same step, same draw
    assert again.tolist() == batch_indices(40, 8, 1234, 0, 1, seed=1, weights=weights).tolist()
    assert again.tolist() != batch_indices(40, 8, 1234, 0, 1, seed=2, weights=weights).tolist()
