"""Phantom datasets in both real layouts: deterministic, with their tables and varied headers."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pydicom
import pytest

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


def test_omi_layout_is_the_structure_omidb_reads(tmp_path):
    """Series and images are UID keys under the study, marks a dict keyed by mark id with flags."""
    write_phantom(
        tmp_path, PhantomSettings(layout="omi", images=24, rows=96, cols=80, seed=1, lesion_share=0.6)
    )
    databases = sorted((tmp_path / "data").glob("*/*.json"))
    imagedbs = [p for p in databases if p.name.lower().startswith("imagedb_")]
    assert imagedbs and all(
        p.with_name(p.name.replace("imagedb_", "nbss_").replace("IMAGEDB_", "NBSS_")).exists()
        for p in imagedbs
    )
    assert any(p.name.startswith("IMAGEDB_") for p in imagedbs)  # some deliveries are in capitals
    marks = []
    for path in imagedbs:
        database = json.loads(path.read_text())
        assert "Site" in database and "SERIES" not in json.dumps(database)
        for study in database["STUDIES"].values():
            assert {"StudyDate", "EpisodeID"} <= set(study)
            series = [v for v in study.values() if isinstance(v, dict)]
            for images in series:
                for image in images.values():
                    marks += list((image or {}).values())
    assert marks and all({"X1", "Y1", "X2", "Y2", "MarkID"} <= set(m) for m in marks)
    assert {"Mass", "SuspiciousCalcifications"} & {k for m in marks for k in m}  # lesion kinds are flags
    assert any(isinstance(m["X1"], str) for m in marks) and any(int(m["X1"]) > int(m["X2"]) for m in marks)
    headers = list((tmp_path / "data").glob("*/*/*.json"))  # per-image DICOM JSON headers
    assert headers and json.loads(headers[0].read_text())["00080060"]["Value"] == ["MG"]


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
    assert any(
        h.PresentationLUTShape == "INVERSE" and h.PhotometricInterpretation == "MONOCHROME2" for h in headers
    )
    # de-identified as VinDr released them: no patient id, SOP class or implant tag; md5 hashes as UIDs
    assert not any("PatientID" in h or "SOPClassUID" in h or "BreastImplantPresent" in h for h in headers)
    assert all(len(h.StudyInstanceUID) == 32 and "." not in h.SOPInstanceUID for h in headers)
    assert all(h.StudyDate for h in headers)


def test_a_balanced_density_mix_gives_each_density_a_quarter_of_the_studies_and_changes_nothing_else():
    from collections import Counter

    from mame.phantom.generate import plan_cases

    prevalence = plan_cases(PhantomSettings(layout="vindr", images=120, seed=2))
    balanced = plan_cases(PhantomSettings(layout="vindr", images=120, seed=2, density_mix="balanced"))
    usable = {case.study: case.density for case in balanced if case.study < 30}  # 120 images, 4 a study
    per_study = Counter(usable.values())
    assert set(per_study) == set("ABCD") and max(per_study.values()) - min(per_study.values()) <= 1
    assert len(prevalence) == len(balanced)
    for a, b in zip(prevalence, balanced, strict=True):  # sizes, views, lesions, file variants: all as before
        assert (a.study, a.view, a.laterality, a.size) == (b.study, b.view, b.laterality, b.size)
    assert any(a.density != b.density for a, b in zip(prevalence, balanced, strict=True))


def test_an_unknown_density_mix_is_refused_by_name():
    with pytest.raises(ValueError, match="density_mix 'even' unknown"):
        PhantomSettings(layout="omi", density_mix="even")
