"""Sampling: deterministic per seed, right breasts mirrored, the guidance sweep's seeds."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from conftest import PROMPTS

torch.set_num_threads(1)


def test_sampling_is_deterministic_for_a_seed_and_mirrors_right_breasts(tiny, tmp_path):
    from mame.sampling.sweep import generate, load_pipeline, sweep

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


def test_a_right_breast_sample_is_the_mirrored_left_one_from_the_same_seed(tiny, tmp_path):
    """The sweep mirrors every image of an R prompt: pixels, not just the laterality column."""
    from mame.sampling.sweep import load_pipeline, sweep

    pipeline = load_pipeline(tiny["base"])
    rows = sweep(
        pipeline,
        [PROMPTS[0], PROMPTS[0]],
        [4.0],
        2,
        str(tmp_path / "s"),
        seed=3,
        steps=2,
        mirror=[False, True],
    )
    left = {r["seed"]: np.asarray(Image.open(r["file"])) for r in rows if r["prompt_index"] == 0}
    right = {r["seed"]: np.asarray(Image.open(r["file"])) for r in rows if r["prompt_index"] == 1}
    assert sorted(left) == sorted(right) == [3, 4]
    for seed in left:
        assert not np.array_equal(left[seed], left[seed][:, ::-1])  # not symmetric by chance
        np.testing.assert_array_equal(right[seed], left[seed][:, ::-1])


def test_sixteen_bit_samples_come_straight_from_the_decoder_with_more_than_256_levels(tiny, tmp_path):
    from mame.io import read_pixels
    from mame.sampling.sweep import generate, load_pipeline, sweep

    pipeline = load_pipeline(tiny["base"])
    deep = generate(pipeline, PROMPTS[:1], [5], guidance=4, steps=3, bit_depth=16)[0]
    shallow = generate(pipeline, PROMPTS[:1], [5], guidance=4, steps=3)[0]
    assert deep.dtype == np.uint16 and np.unique(deep).size > 256
    assert np.abs(np.round(deep / 257.0) - shallow).max() <= 1  # the same image, finer levels
    rows = sweep(pipeline, PROMPTS[:1], [4.0], 1, str(tmp_path / "s"), seed=5, steps=3, bit_depth=16)
    assert np.array_equal(read_pixels(rows[0]["file"]), deep)  # written without an 8-bit detour
