"""Phantom datasets in both layouts, and the header index that filters them with reasons."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pydicom
import pytest

from mame.anatomy import DENSE_SHARE, synthesize
from mame.index import IndexFilters, build_index
from mame.phantom import PhantomSettings, write_phantom

SMALL = {"images": 12, "rows": 160, "cols": 128}


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory):
    root = tmp_path_factory.mktemp("phantom")
    for layout, seed in (("vindr", 3), ("omi", 4)):
        write_phantom(root / layout, PhantomSettings(layout=layout, seed=seed, **SMALL))
    return root


def _digest(folder) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_same_seed_same_bytes(tmp_path, phantoms):
    write_phantom(tmp_path / "again", PhantomSettings(layout="omi", seed=4, **SMALL))
    assert _digest(tmp_path / "again") == _digest(phantoms / "omi")


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


def test_density_sets_the_amount_of_dense_tissue():
    dense_share = {}
    for density in "AD":
        rng = np.random.default_rng(0)
        signal = synthesize(rng, 160, 128, "CC", density, size=0.6).signal
        breast = signal > 0.1
        dense_share[density] = float((signal[breast] > 0.52).mean())
    assert DENSE_SHARE["A"] < DENSE_SHARE["D"]
    assert dense_share["D"] > dense_share["A"] + 0.2


def test_mlo_has_a_pectoral_muscle_and_cc_has_none():
    cc = synthesize(np.random.default_rng(1), 160, 128, "CC", "A", size=0.5).signal
    mlo = synthesize(np.random.default_rng(1), 160, 128, "MLO", "A", size=0.5).signal
    assert mlo[5:15, 2:8].mean() > 0.65  # upper chest-wall corner is muscle
    assert cc[5:15, 2:8].mean() < 0.3


EXPECTED_REJECTS = {
    "vindr": {
        "for_processing": 2,
        "view_not_selected": 2,
        "truncated": 1,
        "unreadable": 1,
        "not_mammogram": 1,
        "no_laterality": 1,
        "file_missing": 1,
        "not_in_table": 1,
    },
    "omi": {
        "for_processing": 2,
        "view_not_selected": 3,
        "implant": 1,
        "unsupported_transfer_syntax": 1,
        "truncated": 1,
        "unreadable": 1,
        "not_mammogram": 1,
        "no_laterality": 1,
    },
}


@pytest.mark.parametrize("layout", ["vindr", "omi"])
def test_every_broken_or_filtered_file_is_rejected_with_its_reason(phantoms, layout):
    index, rejects = build_index(layout, layout, phantoms / layout, "vendor", "salt", IndexFilters())
    assert rejects["reason"].value_counts().to_dict() == EXPECTED_REJECTS[layout]
    # the stray vindr file not in the table is a real image: 12 listed - 1 moved out of the table
    assert len(index) == (11 if layout == "vindr" else 12)
    assert set(index["view"]) <= {"CC", "MLO"} and set(index["laterality"]) <= {"L", "R"}
    assert index["key"].is_unique and index["key"].str.fullmatch(r"[0-9a-f]{16}").all()


def test_filters_are_configurable(phantoms):
    filters = IndexFilters(
        views=("CC", "MLO", "ML", "LM"), manufacturers=("HOLOGIC",), exclude_implants=False
    )
    index, rejects = build_index("omi", "omi", phantoms / "omi", "hologic", "salt", filters)
    assert "implant" not in set(rejects["reason"])
    assert {"ML", "LM"} <= set(index["view"])
    _, siemens_only = build_index(
        "omi", "omi", phantoms / "omi", "hologic", "salt", IndexFilters(manufacturers=("SIEMENS",))
    )
    # every MG, presentation, CC/MLO file with a laterality is checked for its maker before the rest
    assert (siemens_only["reason"] == "manufacturer_not_selected").sum() == 15


def test_vindr_table_labels_reach_the_index(phantoms):
    index, _ = build_index("vindr", "vindr", phantoms / "vindr", "siemens", "salt", IndexFilters())
    assert set(index["density"]) <= set("ABCD") and index["density"].str.len().eq(1).all()
    boxes = [json.loads(f) for f in index["findings"]]
    assert any(boxes) and all(len(b["box"]) == 4 for found in boxes for b in found)


def test_parallel_index_equals_serial(phantoms):
    serial, _ = build_index("omi", "omi", phantoms / "omi", "hologic", "salt", IndexFilters(), workers=1)
    parallel, _ = build_index("omi", "omi", phantoms / "omi", "hologic", "salt", IndexFilters(), workers=2)
    pd.testing.assert_frame_equal(serial, parallel)


def test_table_adapter_reads_a_generic_csv(phantoms, tmp_path):
    index, _ = build_index("vindr", "vindr", phantoms / "vindr", "siemens", "salt", IndexFilters())
    root = phantoms / "vindr"
    rows = [
        {
            "path": str(p)[len(str(root)) + 1 :],
            "density": "C",
            "x1": "",
            "y1": "",
            "x2": "",
            "y2": "",
            "category": "",
        }
        for p in index["source"][:3]
    ]
    rows.append({"path": "images/missing.dicom", "density": "A"})
    table = tmp_path / "labels.csv"
    pd.DataFrame(rows).to_csv(table, index=False)
    generic, rejects = build_index("mine", "table", root, "siemens", "salt", IndexFilters(), table=table)
    assert len(generic) == 3 and set(generic["density"]) == {"C"}
    assert rejects["reason"].tolist() == ["file_missing"]


def test_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="datasets.x.root"):
        build_index("x", "vindr", tmp_path / "nowhere", "v", "salt", IndexFilters())
