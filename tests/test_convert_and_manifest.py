"""Conversion shards and manifests: PNGs named by key, boxes and masks aligned, prompts per dataset."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pydicom
import pytest
from PIL import Image
from pydicom.encaps import encapsulate

from mame.convert import ConvertSettings, convert_shard, shard_count, shard_slice
from mame.index import IndexFilters, build_index
from mame.manifest import ManifestSettings, build_manifests, dataset_table, draw_mask, fusion_manifest
from mame.phantom import PhantomSettings, write_phantom


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp("convert")
    write_phantom(
        root / "raw", PhantomSettings(layout="vindr", images=16, rows=160, cols=128, seed=5, lesion_share=0.5)
    )
    index, _ = build_index("vindr", "vindr", root / "raw", "siemens", "salt", IndexFilters())
    table, rejects = convert_shard(index, root / "images", ConvertSettings(size=64))
    return root, index, table, rejects


def test_shards_cover_the_index_exactly():
    index = pd.DataFrame({"key": range(10)})
    assert shard_count(10, 4) == 3 and shard_count(0, 4) == 1
    keys = [k for s in range(3) for k in shard_slice(index, s, 4)["key"]]
    assert keys == list(range(10))


def test_every_indexed_image_converts_to_a_keyed_png(converted):
    root, index, table, rejects = converted
    assert len(rejects) == 0 and len(table) == len(index)
    for row in table.itertuples():
        with Image.open(row.image) as image:
            assert image.size == (64, 64) and image.mode == "L"
            assert not image.info.get("text") and "tIME" not in image.info
        assert row.image.endswith(f"{row.key}.png")


def test_lesion_boxes_stay_inside_the_processed_image(converted):
    _, _, table, _ = converted
    found = [json.loads(row.findings) for row in table.itertuples() if json.loads(row.findings)]
    assert found
    for findings in found:
        for finding in findings:
            x1, y1, x2, y2 = finding["box"]
            assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64


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


def test_a_corrupt_codestream_is_a_reject_not_a_crash(converted, tmp_path):
    _, index, _, _ = converted

    row = index.iloc[0]
    ds = pydicom.dcmread(row.source)
    ds.compress(pydicom.uid.JPEG2000Lossless, encoding_plugin="pylibjpeg", generate_instance_uid=False)
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + b"\x00" * 64])  # a J2K header and nothing after
    broken = tmp_path / "broken.dcm"
    ds.save_as(broken, enforce_file_format=True)
    rows = index.iloc[:2].copy()
    rows.loc[rows.index[0], "source"] = str(broken)
    table, rejects = convert_shard(rows, tmp_path / "png", ConvertSettings(size=32))
    assert len(table) == 1
    assert rejects["reason"].tolist() == ["decode_failed"] and str(tmp_path) not in rejects["detail"][0]
