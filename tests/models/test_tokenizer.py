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
