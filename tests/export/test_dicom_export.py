"""DICOM export: a synthetic mammogram becomes a Secondary Capture that says it is synthetic, keeps its
pixels, passes dciodvfy and the SC Image IOD check, and comes back through the pipeline's own index and
convert."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import apply_voi_lut

from mame.cli import main
from mame.data.convert import ConvertSettings, convert_image
from mame.data.index import IndexFilters, build_index
from mame.export.dicom import UID_ROOT, SampleRecord, export_samples, secondary_capture
from mame.export.sweep import export_sweep
from mame.export.validation import attribute_problems, dciodvfy, dciodvfy_path, validate
from mame.io import read_pixels


def _breast(rng, side: int = 96, top: int = 255) -> np.ndarray:
    """A bright half-disc on black, chest wall on the left, with noisy tissue."""
    y, x = np.mgrid[:side, :side]
    inside = (x**2 + (y - side / 2) ** 2) < (0.8 * side) ** 2
    tissue = np.clip(rng.normal(0.6, 0.15, (side, side)), 0.05, 1.0) * top
    return np.where(inside, tissue, 0).astype(np.uint8 if top == 255 else np.uint16)


def _png(path, pixels: np.ndarray) -> str:
    Image.fromarray(pixels).save(path)
    return str(path)


@pytest.fixture
def samples(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for number, (view, laterality, guidance, seed) in enumerate(
        [("CC", "", 4.0, 1000), ("CC", "", 7.0, 1000), ("MLO", "R", 4.0, 1001), ("MLO", "R", 7.0, 1001)]
    ):
        pixels = _breast(rng)
        if laterality == "R":
            pixels = pixels[:, ::-1].copy()  # the sweep mirrors right breasts
        rows.append(
            {
                "model": "fusion",
                "prompt": f"a mammogram in {view} view with high density",
                "prompt_index": number // 2,
                "guidance": guidance,
                "seed": seed,
                "steps": 20,
                "negative_prompt": "",
                "file": _png(tmp_path / f"s{number}.png", pixels),
                "view": view,
                "laterality": laterality,
            }
        )
    return pd.DataFrame(rows)


def _record(row) -> SampleRecord:
    return SampleRecord(
        file=row["file"],
        model=row["model"],
        prompt=row["prompt"],
        guidance=float(row["guidance"]),
        seed=int(row["seed"]),
        steps=int(row["steps"]),
        view=row["view"],
        laterality=row["laterality"],
    )


def test_a_sample_says_it_is_synthetic_and_how_it_was_made(samples):
    row = samples.iloc[2]
    dataset = secondary_capture(_record(row), read_pixels(row["file"]))
    assert dataset.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
    assert dataset.ConversionType == "SYN" and list(dataset.ImageType) == ["DERIVED", "SECONDARY"]
    assert dataset.BurnedInAnnotation == "NO" and dataset.Modality == "MG"
    assert dataset.ImageLaterality == "R" and dataset.ViewPosition == "MLO"
    assert dataset.ViewCodeSequence[0].CodeValue == "399368009"
    assert list(dataset.PatientOrientation) == ["P", "FL"]
    assert dataset.PhotometricInterpretation == "MONOCHROME2" and dataset.BitsStored == 8
    assert "PixelSpacing" not in dataset  # deliberately absent
    for needed in (row["prompt"], "guidance 4", "seed 1001", "steps 20", "fusion", "SYNTHETIC"):
        assert needed in dataset.DerivationDescription
    assert str(dataset.PatientName) == "SYNTHETIC^MAMMOGRAM" and dataset.PatientID.startswith("SYNTHETIC-")
    assert all(dataset[k].is_empty for k in ("StudyDate", "StudyTime", "PatientBirthDate"))
    low = float(dataset.WindowCenter) - float(dataset.WindowWidth) / 2
    assert 0 < low < float(dataset.WindowCenter) < 255  # opens on the breast, not on the background


def test_identifiers_are_synthetic_and_uids_follow_the_study_layout(samples, tmp_path):
    rows = export_samples([_record(r) for _, r in samples.iterrows()], tmp_path / "out")
    datasets = [pydicom.dcmread(r["dicom"]) for r in rows]
    uids = [(d.StudyInstanceUID, d.SeriesInstanceUID, d.SOPInstanceUID) for d in datasets]
    assert all(uid.startswith(UID_ROOT) for triple in uids for uid in triple)
    assert len({u[0] for u in uids}) == 2  # one study per (prompt, seed)
    assert len({u[1] for u in uids}) == 4 and len({u[2] for u in uids}) == 4  # one series per guidance
    again = export_samples([_record(samples.iloc[0])], tmp_path / "again")[0]
    assert again["sop_instance_uid"] == rows[0]["sop_instance_uid"]  # the same sample, the same object
    other = samples.iloc[0].copy()
    other["file"] = _png(tmp_path / "other.png", _breast(np.random.default_rng(9)))
    assert (
        export_samples([_record(other)], tmp_path / "other")[0]["sop_instance_uid"]
        != again["sop_instance_uid"]
    )
    for dataset in datasets:  # nothing but synthetic identifiers, no dates or times
        for element in dataset.iterall():
            if element.VR in ("DA", "DT", "TM"):
                assert element.is_empty, element
            if element.VR == "PN":
                assert str(element.value) in ("SYNTHETIC^MAMMOGRAM", ""), element


def test_stored_pixels_equal_the_png_at_8_and_16_bits(samples, tmp_path):
    pixels16 = _breast(np.random.default_rng(3), top=65535)
    row16 = samples.iloc[0].copy()
    row16["file"] = _png(tmp_path / "deep.png", pixels16)
    rows = export_samples([_record(samples.iloc[0]), _record(row16)], tmp_path / "out")
    eight, sixteen = (pydicom.dcmread(r["dicom"]) for r in rows)
    assert np.array_equal(eight.pixel_array, read_pixels(samples.iloc[0]["file"]))
    assert sixteen.BitsAllocated == 16 and sixteen.BitsStored == 16
    assert np.array_equal(sixteen.pixel_array, pixels16) and np.unique(sixteen.pixel_array).size > 256


@pytest.mark.skipif(dciodvfy_path() is None, reason="dicom3tools (dciodvfy) not installed")
def test_exported_files_pass_dciodvfy_and_broken_ones_do_not(samples, tmp_path):
    rows = export_samples([_record(r) for _, r in samples.iterrows()], tmp_path / "out")
    checks, summary = validate([r["dicom"] for r in rows])
    assert summary["passed"] and summary["files"] == 4 and "dciodvfy" in summary["validator"]
    broken = pydicom.dcmread(rows[0]["dicom"])
    del broken.ConversionType, broken.SOPInstanceUID
    broken.save_as(tmp_path / "broken.dcm")
    errors, _ = dciodvfy(tmp_path / "broken.dcm", dciodvfy_path())
    assert errors  # the reference validator sees it
    problems = attribute_problems(tmp_path / "broken.dcm")
    assert "ConversionType (Type 1) missing" in problems and "SOPInstanceUID (Type 1) missing" in problems
    assert not validate([tmp_path / "broken.dcm"])[1]["passed"]


def test_the_pipelines_own_index_and_convert_read_the_export_back(samples, tmp_path):
    folder = tmp_path / "out"
    rows = export_samples([_record(r) for _, r in samples.iterrows()], folder)
    table = pd.DataFrame({"path": [pydicom.dcmread(r["dicom"]) and r["dicom"].split("/")[-1] for r in rows]})
    table.to_csv(tmp_path / "table.csv", index=False)
    index, rejects = build_index(
        "synthetic", "table", folder, "mame", "salt", IndexFilters(), tmp_path / "table.csv"
    )
    assert rejects.empty and len(index) == 4
    assert sorted(zip(index["view"], index["laterality"], strict=True)) == [
        ("CC", "L"),
        ("CC", "L"),
        ("MLO", "R"),
        ("MLO", "R"),
    ]
    settings = ConvertSettings(size=96, crop="center")
    for row, record in zip(rows, samples.itertuples(), strict=True):
        dataset = pydicom.dcmread(row["dicom"])
        converted = convert_image(row["dicom"], dataset.ImageLaterality, np.zeros((0, 4)), settings).image
        rendered = apply_voi_lut(dataset.pixel_array, dataset) / 255.0
        expected = np.round(rendered * 255).astype(np.uint8)
        if record.laterality == "R":
            expected = expected[:, ::-1]  # convert puts every breast in the training convention
        assert np.abs(converted.astype(int) - expected.astype(int)).max() <= 1


def test_export_sweep_and_the_cli_write_files_table_and_summary(samples, tmp_path, capsys):
    samples_csv = tmp_path / "samples.csv"
    samples.to_csv(samples_csv, index=False)
    assert main(["export-dicom", str(samples_csv), str(tmp_path / "cli")]) == 0
    summary = json.loads((tmp_path / "cli.json").read_text())
    assert summary["files"] == 4 and summary["passed"]
    table = pd.read_csv(tmp_path / "cli.csv")
    assert table["file"].tolist() == samples["file"].tolist() and (table["attribute_problems"] == 0).all()
    direct = export_sweep(samples, tmp_path / "direct", tmp_path / "direct.csv", tmp_path / "direct.json")
    assert direct["files"] == 4 and len(list((tmp_path / "direct").glob("*.dcm"))) == 4


@pytest.mark.skipif(dciodvfy_path() is None, reason="dicom3tools (dciodvfy) not installed")
def test_a_full_field_image_keeps_its_pixel_spacing_and_passes_dciodvfy(tmp_path):
    """A lesion painted into a real full field: 16-bit, the source's spacing, 0 dciodvfy errors."""
    import numpy as np
    from PIL import Image

    pixels = (np.arange(256 * 192, dtype=np.uint32).reshape(256, 192) * 3 % 65536).astype(np.uint16)
    Image.fromarray(pixels).save(tmp_path / "full.png")
    record = SampleRecord(
        str(tmp_path / "full.png"), "lesions", "a mammogram with a lesion", 7.0, 3, 20, "CC", "L"
    )
    dataset = secondary_capture(record, pixels, spacing=(0.0703, 0.0701))
    dataset.save_as(tmp_path / "full.dcm", enforce_file_format=True)
    back = pydicom.dcmread(tmp_path / "full.dcm")
    assert [float(v) for v in back.PixelSpacing] == [0.0703, 0.0701] and back.BitsStored == 16
    errors, _ = dciodvfy(tmp_path / "full.dcm", dciodvfy_path())
    assert errors == [] and attribute_problems(tmp_path / "full.dcm") == []
    with pytest.raises(ValueError, match="positive"):
        secondary_capture(record, pixels, spacing=(0.0, 0.07))
