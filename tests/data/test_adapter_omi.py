"""OMI-DB: the index equals what the maintainers' parser `omidb` reads from the same tree.

The reference is walked here the way the study walked it (client -> episodes -> studies -> series ->
images -> marks), independently of the adapter; images, boxes, categories, patients and statuses must
agree, and whatever omidb cannot give (unlisted files, listed files never delivered, unreadable marks) is
a reject with its reason."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import omidb
import pandas as pd
import pytest

from mame.data.adapters import EmptyDataset
from mame.data.adapters.omi import MARK_CATEGORIES
from mame.data.index import IndexFilters, build_index
from mame.data.manifest import ManifestSettings, build_manifests
from mame.data.privacy import pseudonym
from mame.phantom.generate import PhantomSettings, write_phantom

SALT = "salt"


@pytest.fixture(scope="module")
def omi_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("omidb") / "omi"
    write_phantom(
        root, PhantomSettings(layout="omi", images=40, rows=160, cols=128, seed=8, lesion_share=0.3)
    )
    return root


def omidb_reference(root: Path) -> dict[str, dict]:
    """image uid -> client, status, marks (sorted int corners, flag categories), walked with omidb."""
    clients = [p.name for p in (root / "data").iterdir() if p.is_dir()]
    reference = {}
    for client in omidb.DB(root / "data", root / "images", clients=clients):
        for episode in client.episodes:
            for study in episode.studies:
                for series in study.series:
                    for image in series.images:
                        findings = []
                        for mark in image.marks:
                            box = mark.boundingBox
                            corners = [
                                min(box.x1, box.x2),
                                min(box.y1, box.y2),
                                max(box.x1, box.x2),
                                max(box.y1, box.y2),
                            ]
                            for flag, category in MARK_CATEGORIES.items():
                                if getattr(mark, flag):
                                    findings.append((tuple(corners), category))
                        reference[image.id] = {
                            "client": client.id,
                            "status": client.status.value,
                            "findings": sorted(findings),
                        }
    return reference


def test_index_equals_omidbs_parse(omi_tree):
    index, rejects = build_index(
        "omi",
        "omi",
        omi_tree,
        "hologic",
        SALT,
        IndexFilters(
            views=("CC", "MLO", "ML", "LM", "SPECIMEN"), exclude_implants=False, exclude_spot_magnified=False
        ),
    )
    reference = omidb_reference(omi_tree)
    kept = {Path(s).stem: row for s, (_, row) in zip(index["source"], index.iterrows(), strict=True)}
    # every image omidb lists is either indexed or rejected for a header reason; none is lost
    listed_rejects = {
        Path(s).stem for s, r in zip(rejects["source"], rejects["reason"], strict=True) if r != "not_in_table"
    }
    assert set(kept) | listed_rejects == set(reference)
    assert sum(bool(r["findings"]) for r in reference.values()) >= 4
    for uid, row in kept.items():
        expected = reference[uid]
        found = sorted((tuple(int(v) for v in f["box"]), f["category"]) for f in json.loads(row["findings"]))
        assert found == expected["findings"], uid
        assert row["patient"] == pseudonym(SALT, "omi", "patient", expected["client"])
        assert row["status"] == expected["status"]
    # a client is one woman: her two studies share one patient key
    assert (
        index.groupby("patient")["source"].apply(lambda s: len({Path(p).parent.name for p in s})).max() == 2
    )
    assert {"Malignant", "Normal", "Benign"} <= set(index["status"])


def test_files_omidb_does_not_list_and_listed_files_never_delivered_are_rejects(omi_tree):
    _, rejects = build_index("omi", "omi", omi_tree, "hologic", SALT, IndexFilters())
    reasons = rejects["reason"].value_counts()
    assert reasons["not_in_table"] == 1 and reasons["file_missing"] == 1 and reasons["spot_or_magnified"] == 2
    assert "not in omidb's parse" in rejects.loc[rejects["reason"] == "not_in_table", "detail"].iloc[0]


def test_a_mark_omidb_cannot_read_rejects_its_image_instead_of_making_it_healthy(omi_tree, tmp_path):
    root = tmp_path / "omi"
    shutil.copytree(omi_tree, root)
    marked = None
    for path in sorted((root / "data").glob("*/*.json")):
        if not path.name.lower().startswith("imagedb_"):
            continue
        database = json.loads(path.read_text())
        for study in database["STUDIES"].values():
            for series in (v for v in study.values() if isinstance(v, dict)):
                for uid, marks in series.items():
                    if marks and marked is None:
                        next(iter(marks.values()))["X1"] = "12.5"  # int("12.5") fails inside omidb
                        marked = uid
        path.write_text(json.dumps(database))
    index, rejects = build_index("omi", "omi", root, "hologic", SALT, IndexFilters())
    assert marked is not None and not index["source"].str.contains(marked, regex=False).any()
    row = rejects[rejects["source"].str.contains(marked, regex=False)]
    assert row["reason"].tolist() == ["marks_unreadable"] and "ValueError" in row["detail"].iloc[0]


def test_a_delivery_in_capitals_reads_the_same(omi_tree, tmp_path):
    root = tmp_path / "OMI"
    shutil.copytree(omi_tree / "data", root / "DATA")
    shutil.copytree(omi_tree / "images", root / "IMAGES")
    upper, _ = build_index("omi", "omi", root, "hologic", SALT, IndexFilters())
    lower, _ = build_index("omi", "omi", omi_tree, "hologic", SALT, IndexFilters())
    assert len(upper) == len(lower) > 0
    assert sorted(upper["findings"]) == sorted(lower["findings"])


def test_healthy_follows_nbss_status_when_asked(omi_tree):
    index, _ = build_index("omi", "omi", omi_tree, "hologic", SALT, IndexFilters())
    frame = index.assign(image="", area_fraction=0.5)
    healthy = {}
    for rule in ("no_marks", "nbss_normal"):
        settings = ManifestSettings(vendor="hologic", healthy=rule)
        healthy[rule], _, excluded = build_manifests(
            frame[frame["findings"] == "[]"], settings, "/tmp/unused-masks"
        )
    unmarked_not_normal = ((index["findings"] == "[]") & (index["status"] != "Normal")).sum()
    assert unmarked_not_normal > 0
    assert len(healthy["no_marks"]) - len(healthy["nbss_normal"]) == unmarked_not_normal
    assert set(healthy["nbss_normal"]["status"]) == {"Normal"}
    assert set(excluded["reason"]) == {"not_normal_status"}


def test_a_root_without_the_layout_stops_with_a_named_error(tmp_path):
    (tmp_path / "scans").mkdir()
    with pytest.raises(EmptyDataset, match=r"adapter 'omi' found no images under .*imagedb_<client>"):
        build_index("omi", "omi", tmp_path, "hologic", SALT, IndexFilters())
    (tmp_path / "data" / "demd1").mkdir(parents=True)
    (tmp_path / "images").mkdir()
    with pytest.raises(EmptyDataset, match="adapter 'omi' found no images"):
        build_index("omi", "omi", tmp_path, "hologic", SALT, IndexFilters())


def test_vindr_and_table_roots_without_files_stop_too(phantoms, tmp_path):
    with pytest.raises(EmptyDataset, match=r"breast-level_annotations.csv is missing"):
        build_index("v", "vindr", tmp_path, "siemens", SALT, IndexFilters())
    table = tmp_path / "labels.csv"
    pd.DataFrame({"path": ["a.dcm", "b.dcm"]}).to_csv(table, index=False)
    with pytest.raises(EmptyDataset, match=r"2 file_missing"):
        build_index("t", "table", tmp_path, "x", SALT, IndexFilters(), table=table)
