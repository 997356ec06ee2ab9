"""Shared fixtures. Torch tests (later stages) run single-threaded: 2-core CI machines."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.uid import ExplicitVRLittleEndian, generate_uid  # noqa: E402

from mame.models.components import TinySpec  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

# The longest test files, longest first. `make test` runs the files on two workers (pytest-xdist,
# --dist loadfile: a file's module fixtures are built once), and a long file started last would run
# alone at the end; the rest keep their order.
LONGEST_FIRST = [
    "workflow/test_real_slurm.py",
    "workflow/test_pipeline.py",
    "workflow/test_variants.py",
    "workflow/test_readme_commands.py",
    "gui/test_app.py",
]


def pytest_collection_modifyitems(items) -> None:
    def rank(item) -> int:
        path = Path(str(item.fspath)).relative_to(REPO / "tests").as_posix()
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order inside a file, and of the other files, is kept


def report_items() -> dict[str, str]:
    """Every report() output of the workflow's rules: its path pattern -> its caption key."""
    import re

    text = "\n".join(path.read_text() for path in sorted((REPO / "workflow" / "rules").glob("*.smk")))
    loose = [line for line in text.splitlines() if "caption=" in line and "caption=caption(" not in line]
    assert not loose, f"report() captions that are not caption(key): {loose}"
    return dict(re.findall(r'report\(\s*f?"([^"]+)",\s*caption=caption\("([a-z_]+)"\)', text))


def page_overflows(page) -> list[str]:
    """What runs off a rendered report page sideways: the page itself, or a table outside a scrolling box
    or in a box wider than the text column. Empty when every wide table scrolls inside its box."""
    return page.evaluate(
        """() => {
        const problems = [];
        const root = document.documentElement;
        if (root.scrollWidth > root.clientWidth + 1)
            problems.push(`page ${root.scrollWidth} > ${root.clientWidth}`);
        const column = document.body.getBoundingClientRect();
        document.querySelectorAll('table').forEach((table, i) => {
            const box = table.closest('.scroll');
            const name = table.closest('section')?.querySelector('h3')?.textContent ?? `table ${i}`;
            if (!box) { problems.push(`${name}: not in a scrolling box`); return; }
            const style = getComputedStyle(box).overflowX;
            if (!['auto', 'scroll'].includes(style)) problems.push(`${name}: box overflow-x ${style}`);
            if (box.getBoundingClientRect().right > column.right + 1) problems.push(`${name}: box runs off`);
        });
        return problems;
    }"""
    )


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


# --- a tiny Stable Diffusion model (models, training, sampling tests) ---------------------------------

SPEC = TinySpec(
    resolution=32, vae_channels=(8, 8, 16, 16), unet_channels=(16, 32), text_hidden=32, text_heads=2
)
PROMPTS = ["a mammogram in CC view with big area", "a mammogram in MLO view with small area"]


def write_tiny_data(root) -> tuple[str, str]:
    """16 tiny images in two looks, their captions, and lesion masks."""
    rng = np.random.default_rng(0)
    rows, lesion_rows = [], []
    (root / "img").mkdir()
    for i in range(16):
        image = np.zeros((32, 32), np.uint8)
        if i % 2:
            image[:, :20] = 180  # "CC": a wide block on the left
        else:
            image[:18, :12] = 220  # "MLO": a tall corner block
        image = np.clip(image + rng.integers(0, 20, image.shape), 0, 255).astype(np.uint8)
        mask = np.zeros((32, 32), np.uint8)
        mask[8:16, 4:12] = 255
        Image.fromarray(image).save(root / "img" / f"{i}.png")
        Image.fromarray(mask).save(root / "img" / f"{i}_mask.png")
        rows.append({"image": str(root / "img" / f"{i}.png"), "prompt": PROMPTS[i % 2], "split": "train"})
        lesion_rows.append({**rows[-1], "mask": str(root / "img" / f"{i}_mask.png")})
    pd.DataFrame(rows).to_csv(root / "healthy.csv", index=False)
    pd.DataFrame(lesion_rows).to_csv(root / "lesions.csv", index=False)
    return str(root / "healthy.csv"), str(root / "lesions.csv")


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    """A tiny SD-architecture base (text-to-image and inpainting) built once for the session."""
    from mame.models.tiny import build_tiny_base

    root = tmp_path_factory.mktemp("models")
    healthy, lesions = write_tiny_data(root)
    build_tiny_base(
        [healthy],
        root / "base",
        root / "base-inpaint",
        ["hologic"],
        SPEC,
        vae_steps=30,
        vae_batch_size=8,
        vae_crop=32,
    )
    return {
        "root": root,
        "healthy": healthy,
        "lesions": lesions,
        "base": str(root / "base"),
        "inpaint": str(root / "base-inpaint"),
    }


def train_settings(**changes):
    """Fast training settings for the tiny model; `changes` override them."""
    from mame.training.settings import TrainSettings

    values = {
        "steps": 6,
        "batch_size": 4,
        "lr": 1e-3,
        "warmup_steps": 0,
        "validation_every": 0,
        "checkpoint_every": 0,
        "caption_dropout": 0.2,
        "validation_prompts": PROMPTS[:1],
    }
    return TrainSettings(**{**values, **changes})


# --- phantom data, converted (data and phantom tests) ----------------------------------------------

SMALL_PHANTOM = {"images": 12, "rows": 160, "cols": 128}


@pytest.fixture(scope="session")
def phantoms(tmp_path_factory):
    """Small phantom datasets in both layouts (vindr, omi) under one root."""
    from mame.phantom.generate import PhantomSettings, write_phantom

    root = tmp_path_factory.mktemp("phantom")
    for layout, seed in (("vindr", 3), ("omi", 4)):
        write_phantom(root / layout, PhantomSettings(layout=layout, seed=seed, **SMALL_PHANTOM))
    return root


@pytest.fixture(scope="session")
def converted(tmp_path_factory):
    """A VinDr-like phantom indexed and converted at 64 px: (root, index, converted table, rejects)."""
    from mame.data.convert import ConvertSettings, convert_shard
    from mame.data.index import IndexFilters, build_index
    from mame.phantom.generate import PhantomSettings, write_phantom

    root = tmp_path_factory.mktemp("convert")
    write_phantom(
        root / "raw", PhantomSettings(layout="vindr", images=16, rows=160, cols=128, seed=5, lesion_share=0.5)
    )
    index, _ = build_index("vindr", "vindr", root / "raw", "siemens", "salt", IndexFilters())
    table, rejects = convert_shard(index, root / "images", ConvertSettings(size=64))
    return root, index, table, rejects


# --- a reader-study pool (kit and observer tests) --------------------------------------------------


def write_noise_png(path, value: int, side: int, mode: str = "L") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    pixels = np.clip(rng.normal(value, 20, (side, side)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)
    return str(path)


@pytest.fixture
def study(tmp_path):
    """Held-out real images (96 px, RGB as the study stored them) and samples (48 px) at two guidances."""
    real = pd.DataFrame(
        {
            "image": [
                write_noise_png(tmp_path / "real" / f"r{i:02d}.png", 60 + i, 96, "RGB") for i in range(12)
            ],
            "prompt": "a mammogram in CC view",
            "split": ["holdout"] * 8 + ["train"] * 4,
        }
    )
    samples = pd.DataFrame(
        {
            "file": [
                write_noise_png(tmp_path / "gen" / f"p00_g{g}_{i:03d}.png", 150 + i, 48)
                for g in (4, 7)
                for i in range(8)
            ],
            "guidance": [g for g in (4, 7) for _ in range(8)],
            "model": "fusion",
            "prompt": "a mammogram in CC view",
        }
    )
    return real, samples


def read_ratings_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Observer or kit ratings as a form export reads them (an `answer` column holding the label)."""
    return frame.assign(answer=frame["label"])[["reader", "case_id", "rating", "answer"]]
