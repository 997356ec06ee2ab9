"""The real workflow on the micro configuration: outputs, values, privacy, validation and reruns."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import yaml
from PIL import Image
from sklearn.metrics import roc_auc_score

from mame.io import read_pixels
from mame.report.render import CAPTIONS, caption_html

from conftest import REPO, page_overflows, report_items

pytestmark = pytest.mark.pipeline
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]


def snakemake(workdir: Path, *args: str, config: str = "micro.yaml") -> subprocess.CompletedProcess:
    command = [*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(workdir / config), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=workdir)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    workdir = tmp_path_factory.mktemp("pipeline")
    shutil.copy(REPO / "tests" / "micro.yaml", workdir / "micro.yaml")
    result = snakemake(workdir, "--cores", "2", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def test_every_data_stage_output_is_made(run):
    for dataset in ("omi", "vindr"):
        data = run / "results" / "data" / dataset
        for name in ("healthy.csv", "lesions.csv", "metadata.jsonl", "rejects.csv", "images.csv"):
            assert (data / name).stat().st_size > 0, name
        shards = sorted((data / "images").iterdir())
        assert len(shards) >= 2, "16 images in shards of 6 must make several conversion jobs"
    assert (run / "results" / "data" / "fusion" / "healthy.csv").exists()
    healthy = pd.read_csv(run / "results" / "data" / "omi" / "healthy.csv")  # the 2x full-field product
    full = [read_pixels(run / path) for path in healthy["full_image"]]
    assert {image.shape for image in full} == {(128, 128)} and {image.dtype for image in full} == {
        np.dtype("uint16")
    }
    assert (healthy["spacing_row_mm"] > 0).all() and (healthy["full_scale"] == 2).all()
    for suffix in ("csv", "md", "tex"):
        assert (run / "results" / "tables" / f"dataset_table.{suffix}").exists()
    for dataset in ("omi", "vindr"):  # the pre-flight audit of every root, its counts the index's own
        audit = pd.read_csv(run / "results" / "tables" / "audit" / f"{dataset}.csv")
        kept = audit[(audit["section"] == "outcome") & (audit["value"] == "kept")]["files"].item()
        assert kept == len(pd.read_csv(run / "results" / "work" / dataset / "index.csv"))
    notes = pd.read_csv(run / "results" / "tables" / "dataset_notes.csv")
    assert notes["dataset"].tolist() == ["vindr"]  # VinDr's de-identification removed the implant tag


def test_dataset_table_counts_equal_the_manifests(run):
    table = pd.read_csv(run / "results" / "tables" / "dataset_table.csv", index_col=0)
    for dataset in ("omi", "vindr"):
        healthy = pd.read_csv(run / "results" / "data" / dataset / "healthy.csv")
        lesions = pd.read_csv(run / "results" / "data" / dataset / "lesions.csv")
        assert table.loc["Healthy", dataset] == len(healthy)
        assert table.loc["With lesion", dataset] == len(lesions)
    assert table.loc["Total", "Combined"] == table.loc["Total", ["omi", "vindr"]].sum()
    fusion = pd.read_csv(run / "results" / "data" / "fusion" / "healthy.csv")
    assert len(fusion) == table.loc["Healthy", "Combined"]


def test_prompts_follow_each_datasets_attribute(run):
    omi = pd.read_csv(run / "results" / "data" / "omi" / "healthy.csv")
    vindr = pd.read_csv(run / "results" / "data" / "vindr" / "healthy.csv")
    assert omi["prompt"].str.fullmatch(r"a mammogram in (CC|MLO) view with (small|medium|big) area").all()
    expected = [f"a mammogram in {v} view with {a} area" for v, a in zip(omi.view, omi.area, strict=True)]
    assert omi["prompt"].tolist() == expected
    assert vindr["prompt"].str.endswith("density").all()
    fusion = pd.read_csv(run / "results" / "data" / "fusion" / "healthy.csv")
    assert set(fusion["prompt"].str.split().str[1]) == {"hologic", "siemens"}
    lines = (run / "results" / "data" / "omi" / "metadata.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert (run / "results" / "data" / "omi" / first["file_name"]).exists()
    assert len(lines) == len(omi)


def test_broken_files_are_rejected_with_reasons_and_the_run_goes_on(run):
    rejects = pd.read_csv(run / "results" / "data" / "vindr" / "rejects.csv", keep_default_na=False)
    assert {
        "truncated",
        "unreadable",
        "not_mammogram",
        "no_laterality",
        "for_processing",
        "view_not_selected",
        "file_missing",
        "not_in_table",
    } <= set(rejects["reason"])
    omi = pd.read_csv(run / "results" / "data" / "omi" / "rejects.csv", keep_default_na=False)
    assert {"implant", "unsupported_transfer_syntax"} <= set(omi["reason"])
    assert "source" not in rejects.columns


def _identifiers(run: Path) -> set[str]:
    found = set()
    for path in (run / "results" / "phantom").rglob("*"):
        if path.suffix not in (".dcm", ".dicom"):
            continue
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - the deliberately broken files
            continue
        for name in (
            "PatientName",
            "PatientID",
            "PatientBirthDate",
            "StudyDate",
            "AccessionNumber",
            "StudyInstanceUID",
            "SeriesInstanceUID",
            "SOPInstanceUID",
        ):
            if name in ds:
                found.add(str(ds.data_element(name).value))
        found.update(path.relative_to(run / "results" / "phantom").parts[2:])  # study/image folder ids
        found.add(path.stem)
    return {value for value in found if len(value) >= 6}


def test_no_patient_identifier_leaves_the_private_folders(run):
    identifiers = _identifiers(run)
    assert len(identifiers) > 50
    private = (run / "results" / "phantom", run / "results" / "work")
    public = [
        p
        for p in (run / "results").rglob("*")
        if p.is_file() and not any(p.is_relative_to(d) for d in private)
    ]
    assert len(public) > 50
    pattern = re.compile("|".join(re.escape(i) for i in sorted(identifiers, key=len, reverse=True)).encode())
    for path in public:
        data = path.read_bytes()
        match = pattern.search(data)
        assert match is None, f"{path} contains {match.group()!r}"
        if path.suffix == ".png":
            with Image.open(path) as image:
                assert not {"text", "tIME", "exif"} & set(image.info), path
    assert b"micro-test-salt" not in (run / "results" / "report.html").read_bytes()


def test_report_shows_the_data_stage(run):
    html = (run / "results" / "report.html").read_text()
    for title in (
        "Datasets",
        "Rejected files",
        "Raw to processed",
        "Image-mask pairs",
        "Image-prompt pairs",
        "Provenance",
    ):
        assert f">{title}<" in html
    assert html.count("data:image/png;base64,") >= 3
    assert 'src="http' not in html and 'href="http' not in html  # opens offline
    table = pd.read_csv(run / "results" / "tables" / "dataset_table.csv", index_col=0)
    assert f"<td>{table.loc['Total', 'Combined']}</td>" in html


def _planned_jobs(output: str) -> dict[str, int]:
    jobs = {}
    in_table = False
    for line in output.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            parts = line.split()
            if parts and parts[0] == "total":
                break
            if len(parts) == 2 and parts[1].isdigit():
                jobs[parts[0]] = int(parts[1])
    return jobs


def test_nothing_changed_reruns_nothing(run):
    result = snakemake(run, "-n", "results/report.html")
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


def test_a_conversion_setting_reruns_conversion_and_after_but_not_phantom_or_index(run):
    config = yaml.safe_load((run / "micro.yaml").read_text())
    config["convert"]["crop"] = "center"
    (run / "changed.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(run, "-n", "results/report.html", config="changed.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = _planned_jobs(result.stdout + result.stderr)
    assert jobs.get("convert_shard", 0) >= 4 and jobs.get("manifest") == 2
    assert {"fusion_manifest", "dataset_table", "report"} <= set(jobs)
    assert "phantom" not in jobs and "index" not in jobs
    assert "Params have changed" in result.stdout + result.stderr
    # new images: every dataset re-encoded, for both bases
    assert jobs.get("encode_latents") == 2 and jobs.get("encode_inpaint_latents") == 2


def test_a_training_setting_retrains_from_the_stored_latents_without_encoding_again(run):
    config = yaml.safe_load((run / "micro.yaml").read_text())
    config["models"]["train"]["lr"] = 2e-4
    (run / "lr.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(run, "-n", "results/report.html", config="lr.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = _planned_jobs(result.stdout + result.stderr)
    assert jobs.get("finetune") == 2 and jobs.get("train_inpaint") == 1
    assert not {"encode_latents", "encode_inpaint_latents", "tiny_base"} & set(jobs)


def test_each_model_trained_from_its_datasets_latent_stores(run):
    stores = {}
    for vae in ("base", "inpaint"):
        for dataset in ("omi", "vindr"):
            folder = run / "results" / "latents" / vae / dataset
            stores[vae, dataset] = (
                json.loads((folder / "latents.json").read_text()),
                set(pd.read_csv(folder / "keys.csv")["key"]),
            )
    assert stores["inpaint", "omi"][0]["arrays"] == ["mean", "std", "masked", "mask"]
    omi_base, omi_inpaint = stores["base", "omi"][0], stores["inpaint", "omi"][0]
    assert omi_base["fingerprints"]["conversion"] == omi_inpaint["fingerprints"]["conversion"]
    fusion = pd.read_csv(run / "results" / "data" / "fusion" / "healthy.csv", keep_default_na=False)
    train = set(fusion.loc[fusion["split"] == "train", "key"])
    omi, vindr = stores["base", "omi"][1], stores["base", "vindr"][1]
    assert train <= omi | vindr and train & omi and train & vindr  # fusion reads both datasets
    for model in ("fusion", "hologic", "lesions"):  # the workflow's jobs never encode for themselves
        assert not (run / "results" / "checkpoints" / model / "latents").exists()


def test_a_bad_config_value_is_refused_before_any_job(tmp_path):
    config = yaml.safe_load((REPO / "tests" / "micro.yaml").read_text())
    config["convert"]["crop"] = "middle"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "--cores", "1", config="bad.yaml")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "config key convert.crop: 'middle' is not one of ['breast', 'center']" in output
    assert not (tmp_path / "results").exists()


def test_an_unknown_config_key_is_refused_by_name(tmp_path):
    config = yaml.safe_load((REPO / "tests" / "micro.yaml").read_text())
    config["convert"]["sizee"] = 64
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(tmp_path, "-n", config="bad.yaml")
    assert result.returncode != 0 and "'sizee' was unexpected" in result.stdout + result.stderr


def test_workflow_lints_clean():
    result = subprocess.run([*SNAKEMAKE, "--lint"], capture_output=True, text=True, check=False, cwd=REPO)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def test_the_sweep_records_one_seed_per_image_for_every_prompt_and_scale(run):
    samples = pd.read_csv(run / "results" / "samples" / "fusion" / "samples.csv", keep_default_na=False)
    prompts = samples["prompt"].nunique()
    assert prompts == 8  # 2 vendors x 2 views x 2 attribute extremes
    assert len(samples) == prompts * 2 * 3
    assert set(samples["guidance"]) == {3, 7} and sorted(set(samples["seed"])) == [1000, 1001, 1002]
    assert samples["file"].map(lambda f: (run / f).exists()).all()
    assert set(samples["vendor"]) == {"hologic", "siemens"}


def test_the_msssim_table_holds_the_metrics_files_numbers(run):
    metrics = pd.read_csv(run / "results" / "metrics" / "fusion" / "msssim.csv", keep_default_na=False)
    assert {"3", "7", "real"} <= set(metrics["guidance"].astype(str))
    assert ((metrics["ci_low"] <= metrics["mean"]) & (metrics["mean"] <= metrics["ci_high"])).all()
    wide = pd.read_csv(run / "results" / "tables" / "msssim.csv", index_col=0)
    row = metrics[metrics["guidance"].astype(str) == "7"].iloc[0]
    cell = wide.loc["guidance 7", f"fusion: {row['prompt']}"]
    assert cell.startswith(f"{row['mean']:.3f} ± {row['sd']:.3f}")
    html = (run / "results" / "report.html").read_text()
    assert "MS-SSIM by guidance" in html and f"{row['mean']:.3f} ± {row['sd']:.3f}" in html


def test_changing_only_the_guidance_list_reruns_sampling_and_evaluation_not_training(run):
    config = yaml.safe_load((run / "micro.yaml").read_text())
    config["sampling"]["guidance"] = [3, 5]
    (run / "guidance.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(run, "-n", "results/report.html", config="guidance.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = _planned_jobs(result.stdout + result.stderr)
    models = 3  # hologic, fusion and the lr grid's point
    assert (
        jobs.get("sample_sweep") == models and jobs.get("msssim") == models and jobs.get("fidelity") == models
    )
    assert jobs.get("memorization") == models and jobs.get("separability") == models
    assert {"msssim_table", "report"} <= set(jobs)
    assert not {"finetune", "train_inpaint", "tiny_base", "convert_shard", "index", "phantom"} & set(jobs)


def test_every_sample_gets_its_nearest_training_image(run):
    table = pd.read_csv(run / "results" / "metrics" / "fusion" / "memorization.csv", keep_default_na=False)
    samples = pd.read_csv(run / "results" / "samples" / "fusion" / "samples.csv")
    generated = table[table["source"] == "generated"]
    assert len(generated) == len(samples)
    assert generated["correlation"].between(-1, 1).all()
    healthy = pd.read_csv(run / "results" / "data" / "fusion" / "healthy.csv", keep_default_na=False)
    assert set(generated["nearest_training_key"]) <= set(healthy[healthy["split"] == "train"]["key"])
    assert ">Memorization<" in (run / "results" / "report.html").read_text()


def test_real_vs_synthetic_auc_is_reported_per_guidance(run):
    table = pd.read_csv(run / "results" / "metrics" / "fusion" / "separability.csv")
    assert sorted(table["guidance"]) == [3, 7]
    assert table["auc"].between(0, 1).all() and (table["ci_low"] <= table["ci_high"]).all()
    assert ">Real vs synthetic<" in (run / "results" / "report.html").read_text()


def test_the_default_run_exports_every_sample_as_validated_dicom(run):
    for model in ("fusion", "hologic"):
        samples = pd.read_csv(run / "results" / "samples" / model / "samples.csv")
        summary = json.loads((run / "results" / "export" / "dicom" / f"{model}.json").read_text())
        files = sorted((run / "results" / "export" / "dicom" / model).glob("*.dcm"))
        assert summary["files"] == len(files) == len(samples) and summary["passed"]
        assert "dciodvfy" in summary["validator"] and summary["dciodvfy_errors"] == 0
        dataset = pydicom.dcmread(files[0])
        assert dataset.ConversionType == "SYN" and dataset.Modality == "MG"
    html = (run / "results" / "report.html").read_text()
    assert "Synthetic mammograms as DICOM" in html and "results/export/dicom/fusion" in html


def test_distribution_metrics_and_copy_detection_reach_tables_and_report(run):
    table = pd.read_csv(run / "results" / "metrics" / "fusion" / "distribution.csv")
    assert table["guidance"].astype(str).tolist()[0] == "real" and table["n"].nunique() == 1
    assert (table["fd"] >= 0).all() and table["precision"].between(0, 1).all()
    assert ((table["fd_low"] <= table["fd"]) & (table["fd"] <= table["fd_high"])).all()
    copies = pd.read_csv(run / "results" / "metrics" / "fusion" / "copy_detection.csv")
    planted = copies[copies["planted"] != "none (samples)"]
    assert set(planted["planted"]) == {"exact", "shifted", "flipped", "noised"}
    exact = planted[(planted["planted"] == "exact") & (planted["detector"] == "aligned pixels")]
    assert exact["rate"].iloc[0] == 1.0  # an exact copy of a training image is always caught
    memorization = pd.read_csv(run / "results" / "metrics" / "fusion" / "memorization.csv")
    assert {"aligned_correlation", "feature_similarity", "aligned_flagged"} <= set(memorization.columns)
    encoder = json.loads((run / "results" / "metrics" / "encoder" / "encoder.json").read_text())
    assert "view" in encoder["classes"]
    html = (run / "results" / "report.html").read_text()
    assert "Distribution metrics in a domain feature space" in html and "Copies: aligned pixels" in html
    inception = pd.read_csv(run / "results" / "tables" / "inception_fid.csv", keep_default_na=False)
    assert set(inception["model"]) == {"fusion", "hologic", "hologic_lr0p002"}
    if not os.environ.get("MAME_INCEPTION"):  # offline: the report says why there is no Inception FID
        assert "Standard Inception FID: not computed (no inception-2015-12-05.pt offline" in html


def test_guidance_levels_are_contrasted_paired_by_seed(run):
    contrasts = pd.read_csv(run / "results" / "metrics" / "fusion" / "msssim_guidance_contrasts.csv")
    samples = pd.read_csv(run / "results" / "samples" / "fusion" / "samples.csv")
    assert len(contrasts) == samples["prompt"].nunique() * (samples["guidance"].nunique() - 1)
    assert (contrasts["guidance"] > contrasts["reference"]).all()
    assert (contrasts["seeds"] == samples.groupby(["prompt", "guidance"]).size().min()).all()
    assert (
        (contrasts["ci_low"] <= contrasts["difference"]) & (contrasts["difference"] <= contrasts["ci_high"])
    ).all()
    assert "paired by seed" in (run / "results" / "report.html").read_text()


def test_fidelity_reads_among_the_asked_values_with_intervals_and_a_confusion_matrix(run):
    fidelity = pd.read_csv(run / "results" / "metrics" / "fusion" / "fidelity.csv")
    confusion = pd.read_csv(run / "results" / "metrics" / "fusion" / "fidelity_confusion.csv")
    for (attribute, guidance), cells in confusion.groupby(["attribute", "guidance"]):
        asked = sorted(set(cells["asked"]))
        assert sorted(set(cells["read"])) == asked and len(cells) == len(asked) ** 2
        row = fidelity[(fidelity["attribute"] == attribute) & (fidelity["guidance"] == guidance)].iloc[0]
        assert row["chance"] == pytest.approx(1 / len(asked))
        hits = cells.loc[cells["asked"] == cells["read"], "count"].sum()
        assert hits == row["hits"] and cells["count"].sum() == row["images"]
        assert row["ci_low"] <= row["accuracy"] <= row["ci_high"]
    html = (run / "results" / "report.html").read_text()
    assert "Fidelity confusion matrices" in html and "read as asked [95% CI]" in html


def test_concept_extrapolation_asks_each_vendor_for_the_attribute_it_never_saw(run):
    table = pd.read_csv(
        run / "results" / "extrapolation" / "fusion" / "extrapolation.csv", keep_default_na=False
    )
    hologic = table[table["vendor"] == "hologic"]
    siemens = table[table["vendor"] == "siemens"]
    assert set(hologic["attribute"]) == {"density"} and set(siemens["attribute"]) == {"area"}
    assert set(hologic["density"]) == {"very low", "low", "high", "very high"}
    assert set(siemens["area"]) == {"small", "medium", "big"}
    # read among the asked values that real training images have; a value none has cannot be checked
    real = pd.read_csv(run / "results" / "data" / "fusion" / "healthy.csv", keep_default_na=False)
    real = real[real["split"] == "train"]
    asked = table["area"].where(table["area"] != "", table["density"])
    checkable = [
        value in set(real[attribute]) for value, attribute in zip(asked, table["attribute"], strict=True)
    ]
    assert table["read"].ne("").tolist() == checkable and any(checkable)
    assert ">Concept extrapolation: fusion<" in (run / "results" / "report.html").read_text()


def test_inpainting_panels_change_only_the_box(run):
    table = pd.read_csv(run / "results" / "inpainting" / "lesions" / "inpainting.csv")
    assert len(table) == 2 and (table["max_change_outside"] == 0).all()
    for row in table.itertuples():
        before = np.asarray(Image.open(run / row.before))
        after = np.asarray(Image.open(run / row.after))
        mask = np.asarray(Image.open(run / row.mask)) > 127
        assert np.array_equal(before[~mask], after[~mask])
        x1, y1, x2, y2 = json.loads(row.box)
        assert mask[y1:y2, x1:x2].all() and mask.sum() == (x2 - x1) * (y2 - y1)
    assert ">Lesion inpainting: lesions<" in (run / "results" / "report.html").read_text()


def test_full_field_inpainting_keeps_every_pixel_beyond_the_feather_and_exports_spacing(run):
    table = pd.read_csv(run / "results" / "inpainting" / "lesions" / "full_field.csv")
    assert len(table) == 2 and (table["max_change_outside"] == 0).all()
    assert (table["mean_change_inside"] > 0).all() and (table["dciodvfy_errors"] == 0).all()
    healthy = pd.concat(pd.read_csv(run / "results" / "data" / d / "healthy.csv") for d in ("omi", "vindr"))
    for row in table.itertuples():
        after = read_pixels(run / row.after)
        assert after.dtype == np.uint16 and after.shape == (128, 128)  # micro: 64 px x full_field.scale 2
        source = healthy[healthy["image"].str.contains(row.source)].iloc[0]
        dataset = pydicom.dcmread(run / row.dicom)
        assert dataset.ConversionType == "SYN" and dataset.ImageLaterality == (source["laterality"] or "L")
        spacing = [float(v) for v in dataset.PixelSpacing]
        assert spacing == pytest.approx(
            [source["spacing_row_mm"] / 2, source["spacing_col_mm"] / 2], rel=1e-4
        )
        x1, y1, x2, y2 = json.loads(row.full_box)
        assert [x1, y1, x2, y2] == [4 * v for v in json.loads(row.box)]  # 32 px lesion canvas -> 128
    summary = json.loads((run / "results" / "inpainting" / "lesions" / "full_field_dicom.json").read_text())
    assert summary["passed"] and summary["files"] == 2
    assert ">Full-field lesion inpainting: lesions<" in (run / "results" / "report.html").read_text()


def test_super_resolution_trains_upscales_samples_and_is_measured_against_interpolation(run):
    from diffusers import StableDiffusionUpscalePipeline

    table = pd.read_csv(run / "results" / "tables" / "superres.csv")
    methods = set(table["method"])
    assert methods == {
        "upscaler",
        "upscaler, no back-projection",
        "bicubic",
        "lanczos",
        "autoencoder round trip",
    }
    assert set(table["metric"]) == {"psnr_db", "ssim", "patch_msssim"} and (table["n"] == 2).all()
    scores = pd.read_csv(run / "results" / "superres" / "scores.csv")
    assert len(scores) == 2 * 5 and scores["psnr_db"].between(5, 80).all()
    bicubic = table[(table["method"] == "bicubic") & (table["metric"] == "psnr_db")].iloc[0]
    assert bicubic["mean"] == pytest.approx(scores[scores["method"] == "bicubic"]["psnr_db"].mean(), abs=1e-3)
    for model in ("hologic", "fusion"):
        upscaled = pd.read_csv(run / "results" / "samples" / model / "full" / "samples.csv")
        assert len(upscaled) == 1 and (upscaled["factor"] == 4).all()
        for row in upscaled.itertuples():
            image, source = read_pixels(run / row.file), read_pixels(run / row.source)
            assert image.dtype == np.uint16 and image.shape == (4 * source.shape[0], 4 * source.shape[1])
    pipeline = StableDiffusionUpscalePipeline.from_pretrained(
        run / "results" / "models" / "upscaler" / "pipeline"
    )
    assert pipeline.unet.config.in_channels == 7
    assert "upscaler" in pd.read_csv(run / "results" / "tables" / "training.csv").iloc[:, 0].tolist()
    assert ">Super-resolution<" in (run / "results" / "report.html").read_text()


def test_full_field_distribution_compares_upscaled_samples_with_interpolation_against_real_patches(run):
    table = pd.read_csv(run / "results" / "tables" / "full_field_distribution.csv")
    superres = table[table["stage"] == "super-resolution"]
    assert set(superres["model"]) == {"hologic", "fusion"}
    for _, block in superres.groupby("model"):
        assert set(block["method"]) == {"real", "upscaler", "bicubic", "lanczos"}
        assert block["n"].nunique() == 1 and block["n"].iloc[0] == 8  # one sample x 8 patches
        assert (block["fd"] >= 0).all() and block["precision"].between(0, 1).all()
        assert (block["fd_low"] <= block["fd"]).all() and (block["fd"] <= block["fd_high"]).all()
    painted = table[table["stage"] == "inpainting"]  # micro paints 2 full fields: too few for k = 5
    assert set(painted["compared"]) == {"too few patches"} and set(painted["n"]) == {2}
    encoder = json.loads((run / "results" / "metrics" / "patch_encoder" / "encoder.json").read_text())
    assert encoder["side"] == 32 and set(encoder["classes"]) >= {"vendor"}
    assert ">Distribution metrics at the full field<" in (run / "results" / "report.html").read_text()


def test_a_grid_s_points_are_compared_with_their_model_and_a_new_point_retrains_alone(run):
    table = pd.read_csv(run / "results" / "tables" / "experiments.csv")
    assert set(table["model"]) == {"hologic", "hologic_lr0p002"}
    lrs = table.drop_duplicates("model").set_index("model")["lr"].to_dict()
    assert lrs == {"hologic": 1e-4, "hologic_lr0p002": 0.002}  # 1e-4: the default
    separable = pd.read_csv(run / "results" / "metrics" / "hologic" / "separability.csv")["auc"].notna().any()
    expected = {"fd", "fidelity_view", "msssim"} | ({"separability_auc"} if separable else set())
    assert set(table["metric"]) == expected  # a separability the micro data cannot cross-validate: no row
    assert (table["low"] <= table["value"]).all() and (table["value"] <= table["high"]).all()
    # the grid's utility task reran on each compared model's samples; the micro omi data hold out no
    # healthy image, so each run is skipped with its reason and gives no column (values: the unit test)
    for model in ("hologic", "hologic_lr0p002"):
        path = run / "results" / "metrics" / "experiments" / model / "utility_view" / "summary.csv"
        assert "test images per class" in pd.read_csv(path)["skipped"].iloc[0]
    assert (table["guidance"] == 3).all() and (table["n"] > 0).all()
    card = (run / "results" / "models" / "hologic_lr0p002" / "pipeline" / "README.md").read_text()
    assert "| lr | 0.002 |" in card  # the point trained with its own value
    report = (run / "results" / "report.html").read_text()
    assert ">Hyperparameter experiments<" in report and "no point is better than the others" in report
    config = yaml.safe_load((run / "micro.yaml").read_text())
    config["experiments"]["lr"]["grid"]["lr"].append(0.004)
    (run / "extended.yaml").write_text(yaml.safe_dump(config))
    plan = snakemake(run, "-n", "results/report.html", config="extended.yaml")
    assert plan.returncode == 0, plan.stderr[-3000:]
    trained = re.findall(r"rule finetune:\n(?:.*\n)*?\s+wildcards: model=(\w+)", plan.stdout)
    assert trained == ["hologic_lr0p004"]


def test_validation_steps_are_measured_and_plotted_where_asked(run):
    table = pd.read_csv(run / "results" / "models" / "hologic" / "validation_metrics.csv")
    assert table["step"].unique().tolist() == [3]
    assert set(table["metric"]) == {"fd", "fidelity_view", "msssim"}
    assert (table[table["metric"] == "fd"]["n"] == 6).all()  # 2 validation prompts x 3 images
    assert not (run / "results" / "models" / "fusion" / "validation_metrics.csv").exists()
    assert (run / "results" / "figures" / "training" / "metrics_during_training.png").stat().st_size > 0
    assert ">Metrics during training<" in (run / "results" / "report.html").read_text()


def test_figures_and_evaluation_tables_land_in_results(run):
    figures = sorted((run / "results" / "figures").rglob("*.png"))
    stages = {p.parent.name for p in figures}
    assert stages == {
        "data",
        "training",
        "guidance",
        "evaluation",
        "extrapolation",
        "inpainting",
        "reader_study",
        "superres",
        "full_field",
        "experiments",
    }
    assert len(figures) >= 16
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in figures)
    tables = ("fidelity", "separability", "memorization", "msssim", "dataset_table", "superres")
    for stem in (*tables, "full_field_distribution"):
        for suffix in (".csv", ".md"):
            assert (run / "results" / "tables" / f"{stem}{suffix}").stat().st_size > 0, stem + suffix


def test_configured_prompts_and_laterality_reach_the_sweep(run):
    samples = pd.read_csv(run / "results" / "samples" / "hologic" / "samples.csv", keep_default_na=False)
    assert samples.drop_duplicates("prompt")["prompt"].tolist() == [
        "a mammogram in CC view with big area",
        "a mammogram in MLO view with small area",
    ]
    assert set(samples[samples["prompt_index"] == 0]["laterality"]) == {"R"}
    assert set(samples[samples["prompt_index"] == 1]["laterality"]) == {""}


def test_snakemakes_own_report_builds(run, tmp_path):
    result = snakemake(run, "--report", str(tmp_path / "snakemake-report.zip"))
    assert result.returncode == 0, result.stderr[-2000:]
    import zipfile

    archive = zipfile.ZipFile(tmp_path / "snakemake-report.zip")
    names = archive.namelist()
    assert any(n.endswith("dataset_table.csv") for n in names)
    assert any(n.endswith("msssim.csv") for n in names)
    page = archive.read(next(n for n in names if n.endswith("report.html"))).decode()
    for key in set(report_items().values()):  # each item's caption is the file the HTML report renders
        opening = re.match(r"[ -~]{20,}", (CAPTIONS / f"{key}.rst").read_text()).group()  # ASCII, as escaped
        assert opening in page, key


def test_the_tables_target_rebuilds_only_tables(run):
    (run / "results" / "tables" / "msssim.csv").unlink()
    result = snakemake(run, "-n", "tables")
    jobs = _planned_jobs(result.stdout + result.stderr)
    assert set(jobs) == {"msssim_table", "tables"}, jobs
    assert snakemake(run, "--cores", "1", "tables").returncode == 0


def test_the_report_lists_run_times_and_hardware(run):
    html = (run / "results" / "report.html").read_text()
    assert "Run time per stage" in html and "cores" in html
    for stage in ("phantom", "convert", "models", "samples"):
        assert f"<td>{stage}</td>" in html, stage


def test_reader_study_kit_and_observer_roc(run):
    key = pd.read_csv(run / "results" / "reader_study" / "key.csv", keep_default_na=False)
    assert key["truth"].value_counts().to_dict() == {"real": 2, "synthetic": 3}
    kit = run / "results" / "reader_study" / "kit"
    assert sorted(p.name for p in (kit / "images").iterdir()) == [f"{c}.png" for c in key["case_id"]]
    assert not list(kit.rglob("key*"))
    observer = pd.read_csv(run / "results" / "reader_study" / "ratings" / "observer.csv")
    truth = key.set_index("case_id").loc[observer["case_id"], "truth"].eq("synthetic").astype(int)
    readers = pd.read_csv(run / "results" / "reader_study" / "roc.csv")
    assert readers["kind"].tolist() == ["model"]
    assert readers["auc"].iloc[0] == pytest.approx(roc_auc_score(truth, observer["rating"]))
    html = (run / "results" / "report.html").read_text()
    assert ">Reader study: real or synthetic?<" in html and "(a model, not a radiologist)" in html


def test_rating_files_added_to_config_join_the_analysis_and_rerun_only_it(run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(run, workdir, symlinks=True)
    key = pd.read_csv(workdir / "results" / "reader_study" / "key.csv", keep_default_na=False)
    rng = np.random.default_rng(0)
    for name in ("ann", "bob"):  # a web-form style export: text answers, shuffled rows
        answers = rng.choice(["Definitely real", "Unsure", "Probably synthetic"], len(key))
        pd.DataFrame({"Case": key["case_id"], "Answer": answers}).sample(frac=1, random_state=1).to_csv(
            workdir / f"{name}.csv", index=False
        )
    config = yaml.safe_load((workdir / "micro.yaml").read_text())
    config["reader_study"]["ratings"] = [
        {"file": "ann.csv", "reader": "Ann"},
        {"file": "bob.csv", "reader": "Bob"},
    ]
    (workdir / "readers.yaml").write_text(yaml.safe_dump(config))
    planned = snakemake(workdir, "-n", "results/report.html", config="readers.yaml")
    assert set(_planned_jobs(planned.stdout + planned.stderr)) == {"roc", "report"}
    result = snakemake(workdir, "--cores", "1", "results/report.html", config="readers.yaml")
    assert result.returncode == 0, result.stderr[-2000:]
    readers = pd.read_csv(workdir / "results" / "reader_study" / "roc.csv")
    assert readers.set_index("reader")["kind"].to_dict()["Ann"] == "human" and len(readers) == 3
    pooled = pd.read_csv(workdir / "results" / "reader_study" / "pooled.csv")
    assert pooled["reader_names"].iloc[0] == "Ann, Bob"


def test_mame_manifest_and_convert_shard_give_the_workflows_split_and_tables(run, tmp_path, monkeypatch):
    """The CLI runs the same library calls as the workflow's rules, with the config's settings."""
    from mame.cli import main

    monkeypatch.chdir(run)  # the tables hold paths relative to the workflow's directory
    config = yaml.safe_load((run / "micro.yaml").read_text())
    splits = set()
    for name, dataset in config["datasets"].items():
        shards = sorted((run / "results" / "work" / name / "shards").glob("[0-9][0-9][0-9][0-9].csv"))
        arguments = ["manifest", *map(str, shards), "--vendor", dataset["vendor"]]
        arguments += ["--prompt-attribute", dataset["prompt_attribute"], "--out-dir", str(tmp_path / name)]
        assert main(arguments) == 0
        for table in ("healthy", "lesions"):
            ours = pd.read_csv(run / "results" / "data" / name / f"{table}.csv", keep_default_na=False)
            cli = pd.read_csv(tmp_path / name / f"{table}.csv", keep_default_na=False)
            if table == "lesions":  # masks are written where each was asked to write them
                ours, cli = ours.drop(columns="mask"), cli.drop(columns="mask")
            pd.testing.assert_frame_equal(cli, ours)
            splits |= set(ours["split"])
    assert splits == {"train", "holdout"}  # the held-out patients are the same

    shards = sorted((run / "results" / "work" / "omi" / "shards").glob("[0-9][0-9][0-9][0-9].csv"))
    index = run / "results" / "work" / "omi" / "index.csv"
    shard_size = str(config["convert"]["shard_size"])
    arguments = ["convert-shard", str(index), "--shard", "1", "--shard-size", shard_size]
    arguments += ["--size", str(config["convert"]["size"]), "--images", str(tmp_path / "png")]
    arguments += ["--out", str(tmp_path / "shard.csv"), "--rejects", str(tmp_path / "rejects.csv")]
    arguments += ["--full-field-scale", str(config["convert"]["full_field"]["scale"])]
    assert main(arguments) == 0
    cli_shard = pd.read_csv(tmp_path / "shard.csv", keep_default_na=False, dtype=str)
    workflow_shard = pd.read_csv(shards[1], keep_default_na=False, dtype=str)
    paths = ["image", "full_image"]
    pd.testing.assert_frame_equal(cli_shard.drop(columns=paths), workflow_shard.drop(columns=paths))
    for column in paths:
        for cli_png, workflow_png in zip(cli_shard[column], workflow_shard[column], strict=True):
            assert Path(cli_png).read_bytes() == (run / workflow_png).read_bytes()


def test_utility_experiments_reach_tables_figure_and_report(run):
    summary = pd.read_csv(run / "results" / "tables" / "utility.csv")
    runs = pd.read_csv(run / "results" / "tables" / "utility_runs.csv")
    # the micro omi data hold out no healthy image: the view task is skipped with its reason, not a crash
    skipped = summary[summary["skipped"].fillna("") != ""]
    assert skipped["task"].tolist() == ["view"] and "test images per class" in skipped["skipped"].iloc[0]
    cross = summary[summary["task"] == "view, omi -> vindr"]
    # 2 seeds: real only; at guidance 3 synthetic only, pre-training + fine-tuning, real + synthetic 1x
    assert sorted(cross["arm"].unique()) == [
        "real + synthetic 1x",
        "real only",
        "synthetic only",
        "synthetic pre-training, real fine-tuning",
    ]
    assert len(runs.dropna(subset=["auc"])) == 2 * (1 + 3) and (cross["seeds"] == 2).all()
    assert cross["auc_mean"].between(0, 1).all() and (cross["auc_low"] <= cross["auc_high"]).all()
    compared = cross[cross["arm"] != "real only"]
    assert compared["p"].between(0, 1).all() and (compared["difference_low"] <= compared["difference"]).all()
    real_only = cross[cross["arm"] == "real only"]["auc_mean"].iloc[0]
    assert np.allclose(compared["difference"] + real_only, compared["auc_mean"], atol=2e-4)  # 4 decimals
    assert (run / "results" / "figures" / "evaluation" / "utility.png").stat().st_size > 10_000
    html = (run / "results" / "report.html").read_text()
    assert "Does synthetic data help?" in html and "Skipped: view" in html


def test_every_report_section_shares_its_caption_with_snakemakes_report_items(run):
    """One caption source: where a file is both a report() item and shown on the page, one key."""
    html = (run / "results" / "report.html").read_text()
    shown = re.findall(r'<section id="[^"]*" data-caption="([a-z_]+)" data-sources="([^"]*)">', html)
    assert len(shown) >= 20
    patterns = {
        re.compile(re.sub(r"\\\{[a-z]+\\\}", "[^/]+", re.escape(path))): key
        for path, key in report_items().items()
    }
    compared = set()
    for key, sources in shown:
        assert caption_html(key) in html
        for source in sources.split():
            for pattern, expected in patterns.items():
                if pattern.fullmatch(source):
                    assert key == expected, f"{source}: page caption {key}, report() caption {expected}"
                    compared.add(pattern.pattern)
    assert len(compared) >= 15, compared


def test_the_report_at_1400_px_keeps_every_table_inside_its_box(run, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto((run / "results" / "report.html").as_uri())
    assert page.locator("section table").count() >= 15
    assert page_overflows(page) == []
    page.close()
