"""The GUI in a browser: both tabs driven end to end, with screenshots for the README."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import torch
from PIL import Image

from mame.export.validation import attribute_problems
from mame.gui.actions import GuiSettings, LoadedModels, healthy_images, load_background, run_generate
from mame.gui.app import launch
from mame.models.components import TinySpec
from mame.models.conditions import write_conditions
from mame.models.tiny import build_tiny_base
from mame.prompts import build_prompt

from conftest import REPO

pytestmark = pytest.mark.pipeline
STEPS = 20 if os.environ.get("MAME_GUI_MODELS") else 3  # trained models get a presentable number of steps
SCREENSHOTS = Path(
    os.environ.get("MAME_SCREENSHOT_DIR")
    or REPO / ("docs" if os.environ.get("MAME_GUI_MODELS") else "results") / "screenshots"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _dataset(root: Path) -> str:
    """Fusion-like captions: Hologic images captioned with area, Siemens with density; some held out."""
    rng = np.random.default_rng(1)
    rows = []
    (root / "omi" / "images").mkdir(parents=True)
    for i in range(16):
        image = np.zeros((32, 32), np.uint8)
        image[4:28, : 12 + i % 3 * 6] = 150 + 5 * (i % 4)
        path = root / "omi" / "images" / f"{i:02d}.png"
        image = np.clip(image + rng.integers(0, 30, image.shape), 0, 255).astype(np.uint8)
        Image.fromarray(image).save(path)
        full = root / "omi" / "images" / f"{i:02d}_full.png"  # the full-field product, 4x
        Image.fromarray((np.kron(image, np.ones((4, 4))) * 257).astype(np.uint16)).save(full)
        vendor, view = ("hologic", "siemens")[i % 2], ("CC", "MLO")[i // 2 % 2]
        area, density = ("small", "big")[i // 4 % 2], ("low", "very high")[i // 4 % 2]
        rows.append(
            {
                "image": str(path),
                "full_image": str(full),
                "prompt": build_prompt(view, area=area, vendor=vendor)
                if vendor == "hologic"
                else build_prompt(view, density=density, vendor=vendor),
                "vendor": vendor,
                "view": view,
                "area": area,
                "density": density,
                "split": "holdout" if i >= 12 else "train",
            }
        )
    pd.DataFrame(rows).to_csv(root / "omi" / "healthy.csv", index=False)
    return str(root / "omi" / "healthy.csv")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("gui")
    manifest = _dataset(root / "data")
    given = os.environ.get("MAME_GUI_MODELS")
    if given:
        settings = GuiSettings(f"{given}/fusion/pipeline", f"{given}/lesions/pipeline", "results/data")
    else:
        spec = TinySpec(resolution=32, vae_channels=(8, 8, 16, 16), unet_channels=(16, 32), text_hidden=32)
        build_tiny_base(
            [manifest], root / "t2i", root / "inpaint", ["hologic", "siemens"], spec, vae_steps=20
        )
        write_conditions(root / "t2i", [manifest])  # as training writes it
        settings = GuiSettings(str(root / "t2i"), str(root / "inpaint"), str(root / "data"), str(root))
    settings.max_steps, settings.max_images, settings.output = 30, 4, str(root / "out")
    port = _free_port()
    running = launch(settings, port=port, block=False)
    yield settings, f"http://127.0.0.1:{port}/"
    running.close()


def _choose(page, elem_id: str, option: str) -> None:
    page.click(f"#{elem_id} input")
    page.locator("[role=option]", has_text=option).first.click()


def _set_number(page, elem_id: str, value) -> None:
    field = page.locator(f"#{elem_id} input[type=number]").first
    field.fill(str(value))
    field.press("Enter")


def test_generate_tab_sets_every_control_and_shows_the_prompt_used(app, browser):
    settings, url = app
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url, wait_until="load")
    page.wait_for_function("document.querySelector('#prompt-used textarea')?.value.length > 0", timeout=30000)
    _choose(page, "vendor", "siemens")
    page.locator("#view label", has_text="MLO").click()
    _choose(page, "density", "very high")
    _choose(page, "area", "big")
    page.locator("#laterality label", has_text="R").click()
    _choose(page, "priority", "density")
    page.fill("#negative textarea", "blurry")
    _set_number(page, "guidance", 5)
    _set_number(page, "steps", STEPS)
    page.fill("#seed input", "42")
    page.press("#seed input", "Tab")
    _set_number(page, "count", 2)
    expected = build_prompt("MLO", area="big", density="very high", vendor="siemens", priority="density")
    page.wait_for_function(
        f"document.querySelector('#prompt-used textarea').value === {expected!r}", timeout=10000
    )
    # Siemens images were captioned with density only: area is the extrapolated control
    assert "Extrapolated: area 'big'" in page.inner_text("#extrapolation")
    page.check("#as-dicom input")
    page.click("#generate-button")
    page.wait_for_selector("#gallery img >> nth=1", timeout=120000)
    assert page.input_value("#prompt-used textarea") == expected
    assert page.input_value("#used-seed input") == "42"
    page.wait_for_selector("#downloads a", timeout=10000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "gui-generate.png"), full_page=True)
    # what the browser got is what the library makes for these settings: seeds 42, 43, mirrored
    saved = np.asarray(Image.open(Path(settings.output) / "mame-gui" / "mame_seed43_MLO_R.png"))
    exported = Path(settings.output) / "mame-gui" / "mame_seed43_MLO_R.dcm"  # asked for as DICOM too
    assert attribute_problems(exported) == []
    dataset = pydicom.dcmread(exported)
    assert (
        dataset.ImageLaterality == "R"
        and dataset.ViewPosition == "MLO"
        and "seed 43" in dataset.DerivationDescription
    )
    assert np.array_equal(dataset.pixel_array, saved if saved.ndim == 2 else saved[..., 0])
    models = LoadedModels(settings)
    conditions = {"vendors": {}, "vendor_in_prompt": True}
    unmirrored, prompt, _, _ = run_generate(
        models,
        conditions,
        "siemens",
        "MLO",
        "very high",
        "big",
        "L",
        "density",
        "blurry",
        5,
        STEPS,
        42,
        False,
        2,
    )
    assert prompt == expected
    assert np.array_equal(saved, unmirrored[1][:, ::-1])
    page.close()


def test_lesion_tab_paints_a_mask_and_changes_only_inside_it(app, browser):
    settings, url = app
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url, wait_until="load")
    page.get_by_role("tab", name="Lesion").click()
    page.click("#inpaint-button")  # nothing picked yet: a clear message, not a crash
    page.wait_for_selector("text=pick or upload a healthy mammogram first", timeout=15000)
    page.click("#random-image")
    page.wait_for_function("document.querySelector('#pick input')?.value.length > 0", timeout=15000)
    picked = page.input_value("#pick input")
    assert picked in healthy_images(settings.data)
    page.wait_for_timeout(1500)  # the editor draws the picked image
    page.click("#inpaint-button")  # nothing painted yet
    page.wait_for_selector("text=the mask is empty", timeout=15000)
    page.reload(wait_until="load")  # a clean page (no error toasts) for the screenshot
    page.get_by_role("tab", name="Lesion").click()
    _choose(page, "pick", Path(picked).name)
    page.wait_for_timeout(1500)
    page.click("#editor button[aria-label=Brush]")
    canvas = page.locator("#editor canvas").first.bounding_box()
    x, y = canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2
    page.mouse.move(x - 12, y - 8)
    page.mouse.down()
    for step in range(8):
        page.mouse.move(x - 12 + 3 * step, y - 8 + 2 * step)
    page.mouse.up()
    _set_number(page, "lesion-steps", STEPS)
    page.click("#inpaint-button")
    page.wait_for_selector("#after img", timeout=120000)
    page.wait_for_selector("#lesion-downloads a", timeout=10000)
    page.screenshot(path=str(SCREENSHOTS / "gui-lesion.png"), full_page=True)
    folder = Path(settings.output) / "mame-gui"
    result = np.asarray(Image.open(folder / "lesion_seed0.png"))
    mask = np.asarray(Image.open(folder / "lesion_seed0_mask.png")) > 127
    original = load_background(picked, result.shape[0])
    assert 0 < mask.mean() < 0.5  # a painted region, not the whole image
    assert np.array_equal(result[~mask], original[~mask])
    assert not np.array_equal(result[mask], original[mask])
    page.close()


def test_lesion_tab_paints_the_full_field_at_full_resolution(app, browser):
    settings, url = app
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url, wait_until="load")
    page.get_by_role("tab", name="Lesion").click()
    page.click("#random-image")
    page.wait_for_function("document.querySelector('#pick input')?.value.length > 0", timeout=15000)
    picked = page.input_value("#pick input")
    page.wait_for_timeout(1500)
    page.click("#use-box input")
    page.click("#full-field input")
    for elem_id, value in (("box-x", 4), ("box-y", 12), ("box-w", 6), ("box-h", 5)):
        _set_number(page, elem_id, value)
    _set_number(page, "lesion-steps", STEPS)
    page.click("#inpaint-button")
    page.wait_for_selector("#lesion-downloads a", timeout=120000)
    folder = Path(settings.output) / "mame-gui"
    result = np.asarray(Image.open(folder / "lesion_full_seed0.png"))
    original = np.asarray(Image.open(Path(picked).with_name(Path(picked).stem + "_full.png")))
    assert result.dtype == np.uint16 and result.shape == (128, 128)  # the full field, not the 32 px view
    ys, xs = np.mgrid[0:128, 0:128] + 0.5
    far = (xs < 16 - 8) | (xs > 40 + 8) | (ys < 48 - 8) | (ys > 68 + 8)  # the box x 4, plus the feather
    assert np.array_equal(result[far], original[far]) and not np.array_equal(result, original)
    page.close()
