"""Base families beyond SD 1.x: the tiny SD 2, SDXL and Sana twins train, resume, sample and (where the
family has an inpainting pipeline) inpaint through the one trainer and sampler, and every result loads in
its plain diffusers pipeline class."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from mame.models.components import load_components
from mame.models.families import call_arguments, condition, family_of, time_ids, tokenize
from mame.sampling.inpaint import inpaint
from mame.sampling.sweep import generate, load_pipeline
from mame.training.trainer import Trainer

from conftest import PROMPTS, SPEC, train_settings, write_tiny_data

torch.set_num_threads(1)

PLAIN = {
    "sd2": ("StableDiffusionPipeline", "StableDiffusionInpaintPipeline"),
    "sdxl": ("StableDiffusionXLPipeline", "StableDiffusionXLInpaintPipeline"),
    "sana": ("SanaPipeline", None),
}
FAMILY = {"sd2": "sd", "sdxl": "sdxl", "sana": "sana"}


@pytest.fixture(scope="module", params=["sd2", "sdxl", "sana"])
def family_base(request, tmp_path_factory):
    """A tiny base of the family (text-to-image and inpainting), built as the workflow builds it."""
    from mame.models.tiny import build_tiny_base

    root = tmp_path_factory.mktemp(f"tiny-{request.param}")
    healthy, lesions = write_tiny_data(root)
    spec = dataclasses.replace(SPEC, family=request.param)
    build_tiny_base([healthy], root / "base", root / "inpaint", ["hologic"], spec, vae_steps=10, vae_crop=32)
    return {
        "family": request.param,
        "root": root,
        "healthy": healthy,
        "lesions": lesions,
        "base": str(root / "base"),
        "inpaint": str(root / "inpaint"),
    }


def _weights(module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _plain(family: str, inpainting: bool = False):
    import diffusers

    return getattr(diffusers, PLAIN[family][inpainting])


def test_the_family_is_detected_and_the_base_loads_in_plain_diffusers(family_base):
    expected = FAMILY[family_base["family"]]
    assert family_of(family_base["base"]).name == family_of(family_base["inpaint"]).name == expected
    parts = load_components(family_base["base"])
    assert parts.family == expected
    plain = _plain(family_base["family"]).from_pretrained(family_base["base"])
    if expected == "sana":
        assert (
            type(plain.vae).__name__ == "AutoencoderDC" and type(plain.text_encoder).__name__ == "Gemma2Model"
        )
        assert plain.scheduler.config.prediction_type == "flow_prediction"
        return
    assert plain.unet.config.in_channels == 4
    if expected == "sdxl":
        assert plain.text_encoder_2 is not None and plain.unet.config.addition_embed_type == "text_time"
    else:
        assert plain.unet.config.use_linear_projection and plain.text_encoder.config.hidden_act == "gelu"
    inpainting = _plain(family_base["family"], inpainting=True).from_pretrained(family_base["inpaint"])
    assert inpainting.unet.config.in_channels == 9


def test_training_changes_the_denoiser_and_encoders_and_the_result_samples_in_plain_diffusers(
    family_base, tmp_path
):
    before = load_components(family_base["base"])
    out = tmp_path / "out" / "pipeline"
    result = Trainer(
        family_base["base"], [family_base["healthy"]], out, tmp_path / "c", train_settings(validation_every=6)
    ).run()
    assert result.steps_done == 6 and np.isfinite(result.final_loss)
    after = load_components(str(out))
    changed = lambda a, b: any(not torch.equal(a[k], b[k]) for k in a)  # noqa: E731
    assert changed(_weights(before.unet), _weights(after.unet))
    # both SDXL encoders train; Sana keeps its Gemma frozen (the family's default)
    frozen = family_base["family"] == "sana"
    assert changed(_weights(before.text_encoder), _weights(after.text_encoder)) != frozen
    assert not changed(_weights(before.vae), _weights(after.vae))
    assert (tmp_path / "out" / "validation" / "step_000006.png").exists()
    assert PLAIN[family_base["family"]][0] in (out / "README.md").read_text()
    plain = _plain(family_base["family"]).from_pretrained(out)
    image = plain(
        PROMPTS[0],
        **call_arguments(plain),  # Sana: the caption as trained, at the asked size
        num_inference_steps=2,
        height=32,
        width=32,
        output_type="np",
        generator=torch.Generator().manual_seed(0),
    ).images[0]
    assert image.shape == (32, 32, 3) and np.isfinite(image).all()
    pipeline = load_pipeline(str(out))
    grey = generate(pipeline, PROMPTS, [0, 1], steps=2)
    assert [g.shape for g in grey] == [(32, 32)] * 2 and grey[0].dtype == np.uint8
    if family_base["family"] == "sdxl":
        saved = json.loads((out / "micro_conditioning.json").read_text())
        assert saved == {"original_size": [32, 32], "crops_coords_top_left": [0, 0]}
        assert pipeline.mame_call_arguments["original_size"] == (32, 32)


def test_a_killed_and_resumed_run_of_the_family_ends_with_the_same_weights(family_base, tmp_path):
    base, data = family_base["base"], [family_base["healthy"]]
    Trainer(base, data, tmp_path / "a" / "pipeline", tmp_path / "a-c", train_settings()).run()
    settings = train_settings(checkpoint_every=2)
    assert (
        Trainer(base, data, tmp_path / "b" / "pipeline", tmp_path / "b-c", settings)
        .run(stop_after=3)
        .interrupted
    )
    (tmp_path / "b" / "training_log.csv").unlink()
    Trainer(base, data, tmp_path / "b" / "pipeline", tmp_path / "b-c", settings).run()
    a, b = (
        load_components(str(tmp_path / "a" / "pipeline")),
        load_components(str(tmp_path / "b" / "pipeline")),
    )
    for module in ("unet", "text_encoder"):
        wa, wb = _weights(getattr(a, module)), _weights(getattr(b, module))
        assert all(torch.equal(wa[k], wb[k]) for k in wa), module


def test_the_family_inpaints_and_keeps_the_image_outside_the_mask(family_base, tmp_path):
    if family_base["family"] == "sana":
        with pytest.raises(ValueError, match="no inpainting pipeline; set models.inpaint_base"):
            Trainer(
                family_base["inpaint"], [family_base["lesions"]], tmp_path / "p", tmp_path / "c",
                train_settings(steps=1), inpainting=True,
            ).run()  # fmt: skip
        return
    Trainer(
        family_base["inpaint"],
        [family_base["lesions"]],
        tmp_path / "p",
        tmp_path / "c",
        train_settings(steps=3, validation_every=3),
        inpainting=True,
    ).run()
    assert (
        _plain(family_base["family"], inpainting=True).from_pretrained(tmp_path / "p").unet.config.in_channels
        == 9
    )
    pipeline = load_pipeline(str(tmp_path / "p"), inpainting=True)
    image = np.asarray(Image.open(family_base["root"] / "img" / "3.png"))
    mask = np.asarray(Image.open(family_base["root"] / "img" / "3_mask.png"))
    result = inpaint(pipeline, image, mask, steps=3)
    outside = mask < 128
    np.testing.assert_array_equal(result[outside], image[outside])
    assert not np.array_equal(result[~outside], image[~outside])


def test_a_dropped_caption_is_conditioned_as_the_pipeline_samples_the_empty_prompt(family_base):
    parts = load_components(family_base["base"])
    tokens = tokenize(parts.tokenizer, PROMPTS, parts.family)
    tokens["time_ids"] = time_ids(pd.DataFrame(index=range(2)), (32, 32))
    pipeline = _plain(family_base["family"]).from_pretrained(family_base["base"])
    with torch.no_grad():
        hidden, added = condition(
            parts, parts.text_encoder, tokens, torch.tensor([0, 1]), torch.tensor([False, True])
        )
        if family_base["family"] == "sana":
            wanted, mask, empty, empty_mask = pipeline.encode_prompt(
                PROMPTS[0], True, negative_prompt="", device="cpu", complex_human_instruction=None
            )
            torch.testing.assert_close(hidden[0], wanted[0])
            torch.testing.assert_close(hidden[1], empty[0])
            assert added["encoder_attention_mask"].tolist() == [mask[0].tolist(), empty_mask[0].tolist()]
        elif family_base["family"] == "sdxl":
            wanted, _, pooled, _ = pipeline.encode_prompt(
                PROMPTS[0], device="cpu", do_classifier_free_guidance=False
            )
            torch.testing.assert_close(hidden[0], wanted[0])
            torch.testing.assert_close(added["text_embeds"][0], pooled[0])
            assert not hidden[1].any() and not added["text_embeds"][1].any()  # force_zeros_for_empty_prompt
            assert added["time_ids"].tolist() == [[32, 32, 0, 0, 32, 32]] * 2
        else:
            wanted, _ = pipeline.encode_prompt(["", PROMPTS[0]], "cpu", 1, False)
            torch.testing.assert_close(hidden[1], wanted[0])
            assert added == {}


def test_sdxl_micro_conditioning_reads_the_detector_size_and_crop_from_the_manifest():
    frame = pd.DataFrame(
        {
            "original_height": [3328, 2294],
            "original_width": [2560, 1914],
            "crop_top": [0, 12],
            "crop_left": [40, 0],
        }
    )
    ids = time_ids(frame, (64, 48))
    assert ids.tolist() == [[3328, 2560, 0, 40, 64, 48], [2294, 1914, 12, 0, 64, 48]]


def test_rows_without_a_recorded_size_are_conditioned_on_the_training_size():
    frame = pd.DataFrame(
        {
            "original_height": [3328, ""],
            "original_width": [2560, ""],
            "crop_top": [0, ""],
            "crop_left": [4, ""],
        }
    )
    assert time_ids(frame, (64, 48)).tolist() == [[3328, 2560, 0, 4, 64, 48], [64, 48, 0, 0, 64, 48]]


def test_a_frozen_encoder_conditions_each_caption_once_and_as_if_it_ran_every_step(family_base):
    from mame.training.objectives import FrozenText

    parts = load_components(family_base["base"])
    captions = [PROMPTS[i % 2] for i in range(6)]
    tokens = tokenize(parts.tokenizer, captions, parts.family)
    tokens["time_ids"] = time_ids(pd.DataFrame(index=range(6)), (32, 32))
    frozen = FrozenText(parts, parts.text_encoder, tokens)
    assert len(frozen.hidden) == 2  # two distinct captions
    index, dropped = torch.tensor([5, 0, 3, 2]), torch.tensor([False, True, False, False])
    with torch.no_grad():
        wanted, wanted_added = condition(parts, parts.text_encoder, tokens, index, dropped)
    hidden, added = frozen.lookup(index, dropped)
    torch.testing.assert_close(hidden, wanted)
    assert added.keys() == wanted_added.keys()
    for key in added:
        torch.testing.assert_close(added[key].float(), wanted_added[key].float())


def test_lora_trains_every_family_and_merges_into_plain_weights(family_base, tmp_path):
    """The memory recipe for large bases: adapters on the denoiser's attention (and, where the family
    trains them, the text encoders'), merged so that plain diffusers loads the result without peft."""
    out = tmp_path / "p"
    settings = train_settings(steps=2, lora_rank=2, lr=1e-2, gradient_checkpointing=True)
    Trainer(family_base["base"], [family_base["healthy"]], out, tmp_path / "c", settings).run()
    plain = _plain(family_base["family"]).from_pretrained(out)
    denoiser = plain.transformer if family_base["family"] == "sana" else plain.unet
    assert not any("lora" in key for key in denoiser.state_dict())
    base = load_components(family_base["base"]).unet.state_dict()
    assert any(not torch.equal(base[k], v) for k, v in denoiser.state_dict().items())
