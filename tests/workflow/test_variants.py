"""The whole micro workflow with the study's limitations lifted: 16-bit images end to end, at the
detector's (non-square) aspect ratio, from an SDXL-family base (the tiny SDXL twin). Where a real
one-node SLURM can start, test_real_slurm.py runs this variant through it and these tests check that
run (the workflow runs once, not twice)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pydicom
import pytest
import yaml
from one_node_slurm import missing
from test_pipeline import snakemake

from mame.io import read_pixels

from conftest import REPO

pytestmark = pytest.mark.pipeline


def deep_variant(config: dict) -> dict:
    """The micro config with 16-bit images at a non-square shape (height x width), base family SDXL."""
    config["convert"]["bit_depth"] = 16
    config["convert"]["size"] = [96, 64]
    config["models"]["tiny"]["resolution"] = [48, 32]
    config["models"]["tiny"]["family"] = "sdxl"
    config.pop("experiments", None)  # a grid's points are models like the others: run in test_pipeline
    return config


@pytest.fixture(scope="module")
def deep(tmp_path_factory):
    if missing(ours_counts=True) is None:
        pytest.skip("a real one-node SLURM can run here: test_real_slurm.py runs this variant and its tests")
    workdir = tmp_path_factory.mktemp("deep")
    config = deep_variant(yaml.safe_load((REPO / "tests" / "micro.yaml").read_text()))
    (workdir / "micro.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "--cores", "2", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def test_processed_images_and_samples_are_16_bit_with_more_than_256_levels(deep):
    healthy = pd.read_csv(deep / "results" / "data" / "omi" / "healthy.csv")
    processed = read_pixels(deep / healthy["image"].iloc[0])
    assert processed.dtype == np.uint16 and np.unique(processed).size > 256
    samples = pd.read_csv(deep / "results" / "samples" / "fusion" / "samples.csv")
    sample = read_pixels(deep / samples["file"].iloc[0])
    assert sample.dtype == np.uint16 and np.unique(sample).size > 256
    panels = pd.read_csv(deep / "results" / "inpainting" / "lesions" / "inpainting.csv")
    assert read_pixels(deep / panels["after"].iloc[0]).dtype == np.uint16


def test_16_bit_samples_leave_as_16_bit_dicom_and_the_kit_shows_8_bit(deep):
    summary = json.loads((deep / "results" / "export" / "dicom" / "fusion.json").read_text())
    assert summary["passed"]
    dataset = pydicom.dcmread(next((deep / "results" / "export" / "dicom" / "fusion").glob("*.dcm")))
    assert dataset.BitsStored == 16 and dataset.pixel_array.dtype == np.uint16
    shown = next((deep / "results" / "reader_study" / "kit" / "images").glob("*.png"))
    assert read_pixels(shown).dtype == np.uint8  # the documented 8-bit display rendering
    key = pd.read_csv(deep / "results" / "reader_study" / "key.csv")
    assert read_pixels(deep / key["source"].iloc[0]).dtype == np.uint16  # the key keeps the 16-bit files


def test_metrics_run_at_16_bits_and_the_report_says_so(deep):
    msssim = pd.read_csv(deep / "results" / "metrics" / "fusion" / "msssim.csv")
    assert msssim["mean"].between(0, 1).all() and (msssim["mean"] < 0.999).any()
    html = (deep / "results" / "report.html").read_text()
    assert "Processed images: 16-bit grey PNG" in html and "Samples: 16-bit grey PNG" in html


def test_every_stage_keeps_the_configured_non_square_shape(deep):
    healthy = pd.read_csv(deep / "results" / "data" / "omi" / "healthy.csv")
    assert read_pixels(deep / healthy["image"].iloc[0]).shape == (96, 64)
    lesions = pd.read_csv(deep / "results" / "data" / "vindr" / "lesions.csv")
    for row in lesions.itertuples():  # boxes stay inside the non-square canvas
        for x1, y1, x2, y2 in json.loads(row.boxes):
            assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 96
    samples = pd.read_csv(deep / "results" / "samples" / "hologic" / "samples.csv")
    assert {read_pixels(deep / f).shape for f in samples["file"]} == {(48, 32)}
    panels = pd.read_csv(deep / "results" / "inpainting" / "lesions" / "inpainting.csv")
    assert read_pixels(deep / panels["after"].iloc[0]).shape == (48, 32)
    shown = next((deep / "results" / "reader_study" / "kit" / "images").glob("*.png"))
    assert read_pixels(shown).shape == (48, 32)
    latents = json.loads((deep / "results" / "latents" / "base" / "omi" / "latents.json").read_text())
    assert latents["latent_shape"][1:] == [6, 4]
    assert "96 x 64 px" in (deep / "results" / "report.html").read_text()


def test_every_model_is_an_sdxl_model_conditioned_on_the_detector_size(deep):
    from diffusers import StableDiffusionXLInpaintPipeline, StableDiffusionXLPipeline

    models = deep / "results" / "models"
    fusion = StableDiffusionXLPipeline.from_pretrained(models / "fusion" / "pipeline")
    assert fusion.text_encoder_2 is not None and fusion.unet.config.addition_embed_type == "text_time"
    lesions = StableDiffusionXLInpaintPipeline.from_pretrained(models / "lesions" / "pipeline")
    assert lesions.unet.config.in_channels == 9
    micro = yaml.safe_load((REPO / "tests" / "micro.yaml").read_text())["phantom"]
    saved = json.loads((models / "fusion" / "pipeline" / "micro_conditioning.json").read_text())
    assert saved == {"original_size": [micro["rows"], micro["cols"]], "crops_coords_top_left": [0, 0]}
    healthy = pd.read_csv(deep / "results" / "data" / "omi" / "healthy.csv")
    assert (healthy["original_height"] == micro["rows"]).all() and (healthy["crop_top"] >= 0).all()
