"""Phantom datasets in both real layouts: deterministic, with their tables and varied headers."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pydicom

from mame.phantom.generate import PhantomSettings, write_phantom

from conftest import SMALL_PHANTOM


def _digest(folder) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_bytes(tmp_path, phantoms):
    write_phantom(tmp_path / "again", PhantomSettings(layout="omi", seed=4, **SMALL_PHANTOM))
    assert _digest(tmp_path / "again") == _digest(phantoms / "omi")


def test_workers_write_the_same_bytes(tmp_path, phantoms):
    """Several processes render the images (real detector sizes take seconds each): the same trees."""
    for layout, seed in (("omi", 4), ("vindr", 3)):
        settings = PhantomSettings(layout=layout, seed=seed, **SMALL_PHANTOM)
        write_phantom(tmp_path / layout, settings, workers=2)
        assert _digest(tmp_path / layout) == _digest(phantoms / layout)


def test_vindr_layout_has_its_tables_and_files(phantoms):
    breast = pd.read_csv(
        phantoms / "vindr" / "breast-level_annotations.csv", dtype=str, keep_default_na=False
    )
    findings = pd.read_csv(phantoms / "vindr" / "finding_annotations.csv", dtype=str, keep_default_na=False)
    assert {"study_id", "image_id", "laterality", "view_position", "breast_density", "split"} <= set(
        breast.columns
    )
    assert set(breast["breast_density"]) <= {f"DENSITY {x}" for x in "ABCD"}
    assert "['No Finding']" in set(findings["finding_categories"])
    assert len(list((phantoms / "vindr" / "images").glob("*/*.dicom"))) >= 12


def test_omi_layout_has_imagedb_marks(phantoms):
    databases = list((phantoms / "omi" / "data").glob("*/imagedb_*.json"))
    assert databases
    marks = [
        m
        for db in databases
        for study in json.loads(db.read_text())["STUDIES"].values()
        for series in study["SERIES"].values()
        for image in series.values()
        for m in image["marks"]
    ]
    assert all({"X1", "Y1", "X2", "Y2"} <= set(m) for m in marks)


def test_headers_vary_like_real_ones(tmp_path):
    write_phantom(
        tmp_path,
        PhantomSettings(layout="vindr", images=40, rows=96, cols=80, seed=0, broken=False, extras=False),
    )
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in tmp_path.rglob("*.dicom")]
    assert {h.BitsStored for h in headers} == {12, 14}
    assert {h.PhotometricInterpretation for h in headers} == {"MONOCHROME1", "MONOCHROME2"}
    assert {str(h.file_meta.TransferSyntaxUID) for h in headers} >= {
        "1.2.840.10008.1.2.1",
        "1.2.840.10008.1.2.4.90",
    }
    assert any("VOILUTSequence" in h for h in headers)
    assert {str(h.VOILUTFunction) for h in headers if "VOILUTFunction" in h} >= {"LINEAR", "SIGMOID"}
    assert all(str(h.PatientName).startswith("PHANTOM") and h.PatientID and h.StudyDate for h in headers)
