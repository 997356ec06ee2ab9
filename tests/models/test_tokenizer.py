"""The demo tokenizer: learned from the prompt vocabulary, byte-identical on every run."""

from __future__ import annotations

import hashlib

import torch

from mame.models.tokenizer import prompt_corpus, save_tokenizer

torch.set_num_threads(1)


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


def test_a_tiny_base_keeps_its_shorter_prompt_length_through_save_and_load(tiny):
    """The tiny twin's 32 tokens (SD's 77 cost every cross-attention 2.4x the keys) survive the round
    trip: the loader reads the saved length, the text encoder has as many positions, and a pipeline pads
    to it."""
    from diffusers import StableDiffusionPipeline

    from mame.models.components import load_components

    parts = load_components(tiny["base"])
    assert parts.tokenizer.model_max_length == 32
    assert parts.text_encoder.config.max_position_embeddings == 32
    pipeline = StableDiffusionPipeline.from_pretrained(tiny["base"], safety_checker=None)
    embeddings, _ = pipeline.encode_prompt("a hologic mammogram in CC view", "cpu", 1, False)
    assert embeddings.shape[1] == 32


def test_a_prompt_longer_than_the_tiny_length_is_refused_by_name():
    import pytest

    from mame.models.tokenizer import build_tokenizer, check_prompt_length

    corpus = prompt_corpus(["hologic", "siemens"])
    check_prompt_length(build_tokenizer(corpus, 16), corpus)  # the longest needs 15 with start and end
    with pytest.raises(ValueError, match=r"text_length 12 is shorter than the longest prompt \(15 tokens"):
        check_prompt_length(build_tokenizer(corpus, 12), corpus)
