"""Shared fixtures. Torch tests (later stages) run single-threaded: 2-core CI machines."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def make_mammogram_dataset(
    pixels: np.ndarray, bits: int = 12, photometric: str = "MONOCHROME2", **header
) -> Dataset:
    """A minimal MG dataset around `pixels` (uint16 stored values); header fields override defaults."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["test", str(pixels.sum())])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "MG"
    ds.ImageLaterality = "L"
    ds.ViewPosition = "CC"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    for name, value in header.items():
        setattr(ds, name, value)
    ds.PixelData = pixels.astype(np.uint16 if ds.PixelRepresentation == 0 else np.int16).tobytes()
    return ds


@pytest.fixture
def write_dicom(tmp_path):
    """Write a dataset built by make_mammogram_dataset and return its path."""

    def write(pixels: np.ndarray, name: str = "image.dcm", **kwargs) -> Path:
        ds = make_mammogram_dataset(pixels, **kwargs)
        path = tmp_path / name
        ds.save_as(path, enforce_file_format=True)
        return path

    return write


def chromium_path() -> str | None:
    """A Chromium for browser tests: $MAME_CHROMIUM, else one on PATH (Debian's `chromium`)."""
    import shutil

    candidates = [os.environ.get("MAME_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"]
    return next((shutil.which(c) for c in candidates if c and shutil.which(c)), None)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright. CI must have it (.ci/run installs it); elsewhere
    the browser tests are skipped with the reason when it is missing."""
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("browser tests need chromium and playwright; .ci/run installs both")
        pytest.skip("no chromium/playwright here (set MAME_CHROMIUM)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
            ],
        )
        yield launched
        launched.close()
