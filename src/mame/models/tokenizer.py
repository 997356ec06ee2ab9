"""A small CLIP-format BPE tokenizer learned from the prompt vocabulary, byte-identical on every run.

The `tokenizers` trainer is not deterministic, so the merges are learned here in pure Python: the
most frequent adjacent pair is merged first, ties broken alphabetically, until every word of the
prompt vocabulary is one token. The result is an ordinary `CLIPTokenizer` directory (vocab.json,
merges.txt), so diffusers pipelines load it like SD's own tokenizer; words it never saw still
encode, byte by byte.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path

from mame.prompts import AREA_WORDS, DENSITY_WORDS, LESION_PROMPT, PRIORITIES, VIEWS, build_prompt

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
SUFFIX = "</w>"
MAX_LENGTH = 77  # CLIP's context; pipelines pad every prompt to it
_WORD = re.compile(r"[a-z]+|[0-9]|[^\sa-z0-9]+")


def byte_alphabet() -> list[str]:
    """The 256 printable characters CLIP's byte-level BPE uses for the 256 byte values, in byte order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    mapping, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return [mapping[b] for b in range(256)]


def prompt_corpus(vendors: list[str], extra_prompts: list[str] | None = None) -> list[str]:
    """Every caption the prompt builder can make for these vendors (plus extra prompts)."""
    prompts = [LESION_PROMPT, "a mammogram with a lesion in CC view", "a mammogram with a lesion in MLO view"]
    for view, vendor, area, density, priority in itertools.product(
        VIEWS, [None, *vendors], [None, *AREA_WORDS], [None, *DENSITY_WORDS.values()], PRIORITIES
    ):
        prompts.append(build_prompt(view, area=area, density=density, vendor=vendor, priority=priority))
    prompts += list(extra_prompts or [])
    return sorted(set(prompts))


def learn_merges(corpus: list[str]) -> list[tuple[str, str]]:
    """BPE merges over the corpus's words (CLIP's byte symbols, </w> at the end) until each word is a
    single symbol."""
    counts = Counter(word for text in corpus for word in _WORD.findall(text.lower()))
    alphabet = byte_alphabet()
    units: Counter = Counter()
    for word, count in counts.items():
        symbols = [alphabet[b] for b in word.encode()]
        symbols[-1] += SUFFIX
        units[tuple(symbols)] = count
    return learn_unit_merges(units)


def _apply_merge(symbols: tuple[str, ...], pair: tuple[str, str], merged: str) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(merged)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def build_vocab(merges: list[tuple[str, str]]) -> dict[str, int]:
    """CLIP's order: bytes, bytes + </w>, merged symbols, then the two special tokens."""
    alphabet = byte_alphabet()
    tokens = alphabet + [c + SUFFIX for c in alphabet] + [a + b for a, b in merges] + [BOS, EOS]
    vocab: dict[str, int] = {}
    for token in tokens:
        vocab.setdefault(token, len(vocab))
    return vocab


def build_tokenizer(corpus: list[str], max_length: int = MAX_LENGTH):
    """A transformers CLIPTokenizer learned from `corpus`; `max_length` tokens per prompt (CLIP's 77)."""
    from transformers import CLIPTokenizer

    merges = learn_merges(corpus)
    return CLIPTokenizer(vocab=build_vocab(merges), merges=merges, model_max_length=max_length)


def check_prompt_length(tokenizer, corpus: list[str]) -> None:
    """Every prompt of `corpus` fits the tokenizer's length (a longer one would lose its last words)."""
    longest = max(corpus, key=lambda prompt: len(tokenizer(prompt).input_ids))
    needed = len(tokenizer(longest).input_ids)
    if needed > tokenizer.model_max_length:
        raise ValueError(
            f"models.tiny.text_length {tokenizer.model_max_length} is shorter than the longest prompt "
            f"({needed} tokens with start and end: {longest!r}); raise it"
        )


def save_tokenizer(corpus: list[str], directory: str | Path) -> Path:
    """Write the tokenizer directory (vocab.json, merges.txt, tokenizer.json, configs)."""
    directory = Path(directory)
    build_tokenizer(corpus).save_pretrained(directory)
    return directory


GEMMA_SPECIALS = ("<pad>", "<eos>", "<bos>", "<unk>", "<mask>")  # Gemma's ids 0-4
SPACE = "\u2581"  # SentencePiece's word-start mark: Gemma's normalizer writes spaces as it


def learn_unit_merges(units: Counter) -> list[tuple[str, str]]:
    """BPE merges, most frequent pair first and ties alphabetical, until each unit is one symbol."""
    words = {tuple(unit): count for unit, count in units.items()}
    merges = []
    while True:
        pairs: Counter = Counter()
        for symbols, count in words.items():
            for pair in zip(symbols, symbols[1:], strict=False):
                pairs[pair] += count
        if not pairs:
            return merges
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        words = {_apply_merge(symbols, best, best[0] + best[1]): count for symbols, count in words.items()}


def build_gemma_tokenizer(corpus: list[str]):
    """A Gemma tokenizer (transformers' GemmaTokenizer: BPE with byte fallback, spaces as the word-start
    mark) for the tiny Sana twin, byte-identical on every run: every corpus word, lower-cased as Sana's
    pipeline lower-cases prompts, is one token with or without its word-start mark; unseen text falls
    back to bytes. SanaPipeline loads it as it loads Gemma's own."""
    from transformers import GemmaTokenizer

    units: Counter = Counter()
    for text in corpus:
        for number, word in enumerate(text.lower().split()):
            units[word if number == 0 else SPACE + word] += 1
    merges = learn_unit_merges(units)
    symbols = sorted({c for unit in units for c in unit}) + [a + b for a, b in merges]
    tokens = [*GEMMA_SPECIALS, *(f"<0x{b:02X}>" for b in range(256)), *symbols]
    vocab: dict[str, int] = {}
    for token in tokens:
        vocab.setdefault(token, len(vocab))
    return GemmaTokenizer(
        vocab=vocab, merges=merges, model_max_length=300, padding_side="right", add_bos_token=True
    )
