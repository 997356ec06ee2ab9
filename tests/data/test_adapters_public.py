"""Five more public datasets, each indexed from a phantom in its delivered format.

Expected labels are read back from the phantom's own files the way the format defines them (mask pixels
for CBIS-DDSM, plist contours for INbreast, ROI_coords for EMBED), not from the adapter."""

from __future__ import annotations

import json
import plistlib

import numpy as np
import pandas as pd
import pydicom
import pytest

from mame.data.adapters import EXPECTED_LAYOUTS, EmptyDataset
from mame.data.adapters.embed import roi_boxes
from mame.data.adapters.sheets import read_sheet
from mame.data.index import IndexFilters, build_index
from mame.data.manifest import ManifestSettings, build_manifests
from mame.phantom.public_sets import PUBLIC_SETS, write_public_set


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    root = tmp_path_factory.mktemp("public")
    return {name: write_public_set(name, root / name) for name in PUBLIC_SETS}


def _index(public, name, **filters):
    return build_index(name, name, public[name], "vendor", "salt", IndexFilters(**filters))


def _boxes(index) -> dict[str, list]:
    return {
        s: [f["box"] for f in json.loads(f)] for s, f in zip(index["source"], index["findings"], strict=True)
    }


def test_cbis_ddsm_boxes_are_the_masks_bounding_boxes(public):
    index, rejects = _index(public, "cbis_ddsm")
    assert len(index) == 7 and rejects["reason"].value_counts().to_dict() == {
        "file_missing": 1,
        "not_in_table": 1,
    }
    assert set(index["density"]) <= set("ABCD") and set(index["split"]) == {"training", "test"}
    for source, boxes in _boxes(index).items():
        case = source.split("/CBIS-DDSM/")[1].split("/")[0]
        mask_file = next((public["cbis_ddsm"] / "CBIS-DDSM" / f"{case}_1").rglob("1-2.dcm"))
        ys, xs = np.nonzero(pydicom.dcmread(mask_file).pixel_array)
        assert boxes == [[xs.min(), ys.min(), xs.max() + 1.0, ys.max() + 1.0]]
    categories = {f["category"] for found in index["findings"] for f in json.loads(found)}
    assert categories == {"Mass", "Suspicious Calcification"}
    assert index["patient"].nunique() == 2


def test_rsna_cancer_is_a_label_without_a_box_and_the_table_implant_is_honoured(public, tmp_path):
    index, rejects = _index(public, "rsna")
    assert rejects["reason"].value_counts().to_dict() == {"implant": 4, "file_missing": 1, "not_in_table": 1}
    labelled = [json.loads(f) for f in index["findings"] if f != "[]"]
    assert labelled and all(found == [{"box": None, "category": "Cancer"}] for found in labelled)
    kept, _ = _index(public, "rsna", exclude_implants=False)
    assert len(kept) == len(index) + 4
    frame = index.assign(image="", area_fraction=0.5)
    healthy, lesions, excluded = build_manifests(
        frame, ManifestSettings(vendor="v", prompt_attribute="none", lesion_categories=("Cancer",)), tmp_path
    )
    assert len(lesions) == 0 and (excluded["reason"] == "lesion_without_box").sum() == len(labelled)
    assert len(healthy) == len(index) - len(labelled)


def test_inbreast_boxes_are_the_contours_bounding_boxes(public):
    index, rejects = _index(public, "inbreast")
    assert len(index) == 7 and rejects["reason"].value_counts().to_dict() == {
        "file_missing": 1,
        "not_in_table": 1,
    }
    for source, boxes in _boxes(index).items():
        name = source.rsplit("/", 1)[1].split("_")[0]
        xml = public["inbreast"] / "AllXML" / f"{name}.xml"
        if not xml.exists():
            assert boxes == []
            continue
        rois = plistlib.loads(xml.read_bytes())["Images"][0]["ROIs"]
        contour = [tuple(float(v) for v in p.strip("()").split(",")) for p in rois[0]["Point_px"]]
        xs, ys = zip(*contour, strict=True)
        assert boxes[0] == [min(xs), min(ys), max(xs) + 1, max(ys) + 1]
        assert boxes[1][2] - boxes[1][0] == 3  # one calcification point, widened to a box
    assert set(index["laterality"]) == {"L", "R"} and set(index["view"]) == {"CC", "MLO"}
    assert index["patient"].nunique() == 2


def test_embed_joins_findings_by_exam_and_side_and_reads_roi_coords_as_y_first(public):
    index, rejects = _index(public, "embed")
    assert rejects["reason"].value_counts().to_dict() == {
        "file_missing": 1,
        "not_full_field_2d": 1,
        "spot_or_magnified": 1,
        "not_in_table": 1,
    }
    metadata = pd.read_csv(
        public["embed"] / "tables" / "EMBED_OpenData_metadata.csv", dtype=str, keep_default_na=False
    )
    by_file = {row.anon_dicom_path.rsplit("/", 1)[1]: row for row in metadata.itertuples()}
    for source, boxes in _boxes(index).items():
        row = by_file[source.rsplit("/", 1)[1]]
        numbers = [
            float(v) for v in row.ROI_coords.replace("(", " ").replace(")", " ").replace(",", " ").split()
        ]
        expected = [[numbers[1], numbers[0], numbers[3], numbers[2]]] if numbers else []
        assert boxes == expected
    assert roi_boxes("[[10, 20, 30, 40], [1, 2, 3, 4]]") == [[20.0, 10.0, 40.0, 30.0], [2.0, 1.0, 4.0, 3.0]]
    # the density is the exam's, so the side without findings has it too
    assert (index["density"] != "").all() and set(index["density"]) <= set("ABCD")


def test_cmmd_labels_a_listed_breast_and_leaves_an_unlisted_one_out(public):
    index, rejects = _index(public, "cmmd")
    assert rejects["reason"].value_counts().to_dict() == {"not_in_table": 4, "file_missing": 1}
    assert set(index["view"]) == {"CC", "MLO"}  # from View Code Sequence: CMMD has no ViewPosition
    assert all(json.loads(f) and json.loads(f)[0]["box"] is None for f in index["findings"])


def test_sheets_read_csv_with_any_delimiter_and_xlsx(tmp_path):
    frame = pd.DataFrame({"File Name": ["20586908", "20586934"], "ACR": ["1", "4"]})
    frame.to_csv(tmp_path / "a.csv", sep=";", index=False)
    frame.to_excel(tmp_path / "a.xlsx", index=False)
    for name in ("a.csv", "a.xlsx"):
        assert read_sheet(tmp_path / name).to_dict("list") == frame.to_dict("list")


@pytest.mark.parametrize("adapter", sorted(set(EXPECTED_LAYOUTS) - {"table"}))
def test_every_adapter_stops_on_a_root_without_its_layout(adapter, tmp_path):
    with pytest.raises(EmptyDataset, match=f"adapter '{adapter}' found no images under"):
        build_index("x", adapter, tmp_path, "v", "salt", IndexFilters())
