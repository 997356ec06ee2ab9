"""Conversion shards: PNGs named by key, boxes inside the image, corrupt files rejected."""

from __future__ import annotations

import json

import pandas as pd
import pydicom
from PIL import Image
from pydicom.encaps import encapsulate

from mame.data.convert import ConvertSettings, convert_shard, shard_slice
from mame.data.shards import shard_count


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


def test_each_image_records_the_detector_size_and_where_its_crop_began(converted):
    """SDXL's micro-conditioning: the 160 x 128 phantom detector, and a breast crop inside it."""
    _, _, table, _ = converted
    assert (table["original_height"] == 160).all() and (table["original_width"] == 128).all()
    assert (table[["crop_top", "crop_left"]] >= 0).all().all()
    assert (table[["crop_top", "crop_left"]].sum(axis=1) > 0).any()  # the breast crop is not the whole image


def test_the_full_field_product_is_16_bit_k_times_larger_and_agrees_with_the_processed_image(
    converted, tmp_path
):
    """A 4x full field beside each 64 px image: 16-bit, the same crop (boxes map by exactly x4), and
    the processed image is its downscaled copy; the header's spacing is carried per axis."""
    import numpy as np

    from mame.data.convert import convert_image

    root, index, _, _ = converted
    table, rejects = convert_shard(
        index.head(3), tmp_path / "images", ConvertSettings(size=64, full_field_scale=4), tmp_path / "full"
    )
    assert len(rejects) == 0
    for row in table.itertuples():
        full = np.asarray(Image.open(row.full_image))
        small = np.asarray(Image.open(row.image))
        assert full.dtype == np.uint16 and full.shape == (256, 256) and row.full_scale == 4
        shrunk = np.asarray(Image.fromarray(full).resize((64, 64), Image.Resampling.BOX)).astype(float) / 257
        assert np.abs(shrunk - small).mean() < 3  # the same breast, the same place (8-bit units)
        assert (
            row.spacing_source == "PixelSpacing" and row.spacing_row_mm > 0.07 and row.spacing_col_mm > 0.07
        )
    source = index.iloc[0]
    result = convert_image(
        source.source, source.laterality, np.array([[10.0, 20.0, 50.0, 60.0]]), ConvertSettings(size=64)
    )
    wide = result.geometry.scaled(4)
    np.testing.assert_allclose(wide.apply_boxes(np.array([[10.0, 20.0, 50.0, 60.0]])), 4 * result.boxes)
    assert wide.shape == (256, 256)


def test_no_full_field_product_is_written_when_it_is_off(converted):
    _, _, table, _ = converted
    assert (table["full_image"].fillna("") == "").all() and (table["full_scale"] == 0).all()
