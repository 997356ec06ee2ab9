"""The header index: filters with reasons, table labels, parallel = serial, the generic adapter."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mame.data.index import IndexFilters, build_index

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
        "spot_or_magnified": 2,
        "file_missing": 1,
        "not_in_table": 1,
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


def test_vindr_header_and_table_disagreeing_is_a_reject(phantoms, tmp_path):
    import shutil

    root = tmp_path / "vindr"
    shutil.copytree(phantoms / "vindr", root)
    table = root / "breast-level_annotations.csv"
    breast = pd.read_csv(table, dtype=str, keep_default_na=False)
    row = breast.index[breast["laterality"] == "L"][0]
    breast.loc[row, "laterality"] = "R"
    breast.to_csv(table, index=False)
    _, rejects = build_index("vindr", "vindr", root, "siemens", "salt", IndexFilters())
    mismatch = rejects[rejects["reason"] == "header_table_mismatch"]
    assert mismatch["detail"].tolist() == ["laterality: header L, table R"]


def test_vindr_patient_is_the_study_and_the_missing_implant_tag_is_said(phantoms, caplog):
    with caplog.at_level("WARNING"):
        index, _ = build_index("vindr", "vindr", phantoms / "vindr", "siemens", "salt", IndexFilters())
    studies = index["source"].map(lambda s: s.split("/")[-2])
    assert (index.groupby("patient")["source"].count() >= 1).all()
    assert (
        index.groupby(studies)["patient"].nunique().eq(1).all()
        and index["patient"].nunique() == studies.nunique()
    )
    assert any("implants cannot be excluded" in r.getMessage() for r in caplog.records)
    assert set(index["implant_tag"]) == {"absent"}
