"""Distribution metrics at the full field: patches found by one tissue rule, the interpolation baselines
cut at the upscaler's places, lesion boxes mapped onto the full field, and a patch encoder in which an
upscaler that restores the fine texture scores closer to real full fields than bicubic does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from mame.data.patches import box_downsample, enlarge, tissue_places
from mame.evaluation.patch_distribution import (
    HEALTHY,
    INPAINTED,
    UPSCALER,
    PatchSettings,
    box_crop,
    metric_table,
    painted_crops,
    real_lesion_crops,
    real_patches,
    superres_rows,
    train_patch_encoder,
    upscaled_patch_sets,
)

torch.set_num_threads(1)
FACTOR = 4
SETTINGS = PatchSettings(patch=16, per_image=6, images=40, encoder_steps=150, draws=10, seed=0)


def _texture(rng: np.random.Generator, fine: bool, side: int = 64) -> np.ndarray:
    """A full field of tissue: 1 px grain (fine) or 4 px blobs (coarse) around mid-grey, in [0.2, 0.8]."""
    grain = 1 if fine else 4
    noise = rng.standard_normal((side // grain, side // grain)).repeat(grain, 0).repeat(grain, 1)
    return np.clip(0.5 + 0.12 * noise, 0.2, 0.8).astype(np.float32)


def _save16(path, image: np.ndarray) -> str:
    Image.fromarray(np.round(np.clip(image, 0, 1) * 65535).astype(np.uint16)).save(path)
    return str(path)


def _real(tmp_path, rng, count: int, split: str) -> pd.DataFrame:
    rows = []
    for i in range(count):
        fine = i % 2 == 0
        path = _save16(tmp_path / f"{split}{i}.png", _texture(rng, fine))
        rows.append({"full_image": path, "vendor": "fine" if fine else "coarse", "view": "", "split": split})
    return pd.DataFrame(rows)


def test_tissue_is_found_above_the_level_so_a_noisy_background_is_not_tissue():
    image = np.full((64, 64), 0.01, np.float32)
    image[:, 32:] = 0.6
    pixels = np.round(image * 65535).astype(np.uint16)
    places = tissue_places(pixels, 16, 20, np.random.default_rng(0), min_tissue=0.9, level=0.02)
    assert len(places) == 20 and all(left >= 30 for _, left in places)  # 90 % of 16 px: at most 1.6 off
    anywhere = tissue_places(pixels, 16, 20, np.random.default_rng(0), min_tissue=0.9, level=0.0)
    assert min(left for _, left in anywhere) < 16


def test_the_baselines_are_cut_at_the_upscaler_s_places_from_the_sample_enlarged(tmp_path):
    rng = np.random.default_rng(1)
    full = _texture(rng, fine=True)
    low = box_downsample(full, FACTOR).astype(np.float32)
    samples = pd.DataFrame(
        [
            {
                "file": _save16(tmp_path / "up.png", full),
                "source": _save16(tmp_path / "low.png", low),
                "factor": 4,
            }
        ]
    )
    sets = upscaled_patch_sets(samples, SETTINGS, seed=0)
    assert {len(patches) for patches in sets.values()} == {SETTINGS.per_image}
    assert np.abs(sets[UPSCALER] - full_patches(full, sets[UPSCALER])).max() < 1e-4
    bicubic = np.clip(enlarge(np.round(low * 65535) / 65535, FACTOR, "bicubic"), 0, 1)
    places = tissue_places(
        np.round(full * 65535).astype(np.uint16), 16, 6, np.random.default_rng(0), 0.9, 0.02
    )
    expected = np.stack([bicubic[t : t + 16, c : c + 16] for t, c in places])
    assert np.abs(sets["bicubic"] - expected).max() < 1e-5
    assert sets["bicubic"].std() < sets[UPSCALER].std()  # interpolation smooths the 1 px grain away


def full_patches(full: np.ndarray, patches: np.ndarray) -> np.ndarray:
    """Each patch's exact match in `full` (the quantised image), found by search: places are not exposed."""
    quantised = np.round(full * 65535) / 65535
    found = []
    for patch in patches:
        for top in range(full.shape[0] - 15):
            hits = [
                c
                for c in range(full.shape[1] - 15)
                if np.allclose(quantised[top : top + 16, c : c + 16], patch)
            ]
            if hits:
                found.append(quantised[top : top + 16, hits[0] : hits[0] + 16])
                break
    return np.stack(found)


def test_a_lesion_box_maps_onto_the_full_field_by_its_scale_and_crops_to_the_side(tmp_path):
    full = np.full((128, 96), 0.3, np.float32)
    full[40:60, 20:44] = 0.9  # the lesion, at 2x the processed box [10, 20, 22, 30]
    row = {
        "full_image": _save16(tmp_path / "full.png", full),
        "full_scale": "2",
        "boxes": "[[10.0, 20.0, 22.0, 30.0]]",
        "split": "train",
    }
    crops = real_lesion_crops(pd.DataFrame([row, {**row, "split": "holdout"}]), side=8, split="train")
    assert crops.shape == (1, 8, 8) and crops.min() == pytest.approx(0.9, abs=1e-4)
    assert box_crop(full, (0, 0, 12, 12), 6).shape == (6, 6)
    before = _save16(tmp_path / "before.png", full)
    after = full.copy()
    after[40:60, 20:44] = 0.5
    painted = pd.DataFrame(
        [{"after": _save16(tmp_path / "after.png", after), "before": before, "full_box": "[20, 40, 44, 60]"}]
    )
    sets = painted_crops(painted, side=8)
    assert sets[INPAINTED].mean() == pytest.approx(0.5, abs=1e-3) and sets[HEALTHY].mean() == pytest.approx(
        0.9, abs=1e-3
    )


def test_too_few_patches_for_the_neighbours_is_a_row_that_says_so(tmp_path):
    rng = np.random.default_rng(2)
    train, labels = real_patches(_real(tmp_path, rng, 12, "train"), SETTINGS, seed=0)
    encoder = train_patch_encoder(train, labels, SETTINGS)
    table = metric_table(encoder, {"few": train[:3]}, train, train, SETTINGS)
    assert table.to_dict("records") == [{"method": "few", "compared": "too few patches", "n": 3}]
    with pytest.raises(ValueError, match="more than 5 real full-field patches"):
        train_patch_encoder(train[:4], labels.head(4), SETTINGS)


def test_an_upscaler_that_restores_the_grain_is_closer_to_real_full_fields_than_bicubic(tmp_path):
    rng = np.random.default_rng(3)
    train, labels = real_patches(_real(tmp_path, rng, 40, "train"), SETTINGS, seed=0)
    holdout, _ = real_patches(_real(tmp_path, rng, 20, "holdout"), SETTINGS, seed=1)
    encoder = train_patch_encoder(train, labels, SETTINGS)
    assert encoder.side == 16 and encoder.accuracy["vendor"] > 0.9
    rows = []
    for i in range(8):  # perfect upscales of fresh fields, half fine and half coarse
        full = _texture(rng, fine=i % 2 == 0)
        low = box_downsample(full, FACTOR).astype(np.float32)
        rows.append(
            {
                "file": _save16(tmp_path / f"s{i}_full.png", full),
                "source": _save16(tmp_path / f"s{i}.png", low),
                "factor": 4,
            }
        )
    table = superres_rows(encoder, {"model": pd.DataFrame(rows)}, train, holdout, SETTINGS)
    fd = dict(zip(table["method"], table["fd"], strict=True))
    assert set(fd) == {"real", UPSCALER, "bicubic", "lanczos"} and set(table["n"]) == {48}
    assert fd[UPSCALER] < fd["bicubic"] and fd[UPSCALER] < fd["lanczos"]
    assert fd[UPSCALER] < 3 * fd["real"] + 1e-3  # a perfect upscaler lies near the real-vs-real floor
    assert (table["stage"] == "super-resolution").all() and (table["model"] == "model").all()
