"""Manifests: image-prompt and image-mask pairs, categories, fusion, the dataset table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from PIL import Image

from mame.data.manifest import (
    ManifestSettings,
    build_manifests,
    dataset_table,
    draw_mask,
    fusion_manifest,
    rejects_by_reason,
)


def test_manifests_pair_images_with_prompts_and_masks(converted, tmp_path):
    _, _, table, _ = converted
    settings = ManifestSettings(vendor="siemens", prompt_attribute="density")
    healthy, lesions, excluded = build_manifests(table, settings, tmp_path / "masks")
    assert len(healthy) + len(lesions) + len(excluded) == len(table)
    assert (
        healthy["prompt"]
        .str.fullmatch(r"a mammogram in (CC|MLO) view with (very low|low|high|very high) density")
        .all()
    )
    assert set(healthy["split"]) <= {"train", "holdout"}
    for row in lesions.itertuples():
        mask = np.asarray(Image.open(row.mask))
        assert set(np.unique(mask)) <= {0, 255}
        expected = draw_mask(mask.shape, json.loads(row.boxes))
        np.testing.assert_array_equal(mask, expected)
        assert row.prompt == "a mammogram with a lesion"


def test_lesion_categories_are_selectable(converted, tmp_path):
    _, _, table, _ = converted
    only_masses = ManifestSettings(vendor="siemens", prompt_attribute="density", lesion_categories=("Mass",))
    _, lesions, excluded = build_manifests(table, only_masses, tmp_path / "masks")
    assert set(lesions["categories"]) <= {"Mass", "Mass;Suspicious Calcification"} or lesions.empty
    calcification_only = [json.loads(f) for f in table["findings"]]
    expected = sum(1 for f in calcification_only if f and all(x["category"] != "Mass" for x in f))
    assert (excluded["reason"] == "category_not_selected").sum() == expected


def test_density_prompts_refuse_images_without_density(converted, tmp_path):
    _, _, table, _ = converted
    blanked = table.assign(density="")
    healthy, _, excluded = build_manifests(
        blanked, ManifestSettings(vendor="x", prompt_attribute="density"), tmp_path / "m"
    )
    assert healthy.empty and (excluded["reason"] == "missing_density").sum() > 0


def test_mask_edges_round_outwards():
    mask = draw_mask((8, 8), [[1.2, 2.5, 3.1, 4.0]])
    assert mask[2:4, 1:4].min() == 255 and mask.sum() == 255 * 6


def test_fusion_inserts_each_vendor_and_keeps_one_attribute():
    omi = pd.DataFrame(
        {"view": ["CC"], "area": ["big"], "density": [""], "vendor": ["hologic"], "image": ["a.png"]}
    )
    vindr = pd.DataFrame(
        {"view": ["MLO"], "area": ["small"], "density": ["high"], "vendor": ["siemens"], "image": ["b.png"]}
    )
    fused = fusion_manifest({"omi": omi, "vindr": vindr}, {"omi": "area", "vindr": "density"})
    assert fused["prompt"].tolist() == [
        "a hologic mammogram in CC view with big area",
        "a siemens mammogram in MLO view with high density",
    ]


def test_dataset_table_adds_a_combined_column():
    table = dataset_table({"omi": (3, 1), "vindr": (2, 2)})
    assert table.loc["Total"].tolist() == [4, 4, 8]
    assert table["Combined"].tolist() == [5, 3, 8]


def test_rejects_are_counted_per_dataset_stage_and_reason():
    rejects = {
        "omi": pd.DataFrame(
            {"key": ["a", "b"], "stage": ["index", "index"], "reason": ["implant", "implant"]}
        ),
        "vindr": pd.DataFrame({"key": ["c"], "stage": ["convert"], "reason": ["decode_failed"]}),
    }
    assert rejects_by_reason(rejects).values.tolist() == [
        ["omi", "index", "implant", 2],
        ["vindr", "convert", "decode_failed", 1],
    ]
