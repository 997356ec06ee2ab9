"""GUI requests without a browser: prompts, clear refusals, DICOM uploads, the model list, typed boxes."""

from __future__ import annotations

import numpy as np
import pytest

from mame.gui.actions import (
    GuiSettings,
    LoadedModels,
    load_background,
    prompt_for,
    run_generate,
)
from mame.prompts import build_prompt


def test_prompt_leaves_out_the_vendor_for_single_vendor_models():
    single = {"vendors": {"hologic": {"area": ["big"]}}, "vendor_in_prompt": False}
    assert prompt_for(single, "CC", "big", None, "hologic", "area") == build_prompt("CC", area="big")


def test_missing_model_and_bad_upload_give_clear_messages(tmp_path):
    from mame.gui.actions import RequestError

    models = LoadedModels(GuiSettings(model=str(tmp_path / "nothing")))
    with pytest.raises(RequestError, match="No text-to-image model at .*nothing: run the pipeline first"):
        models.get(inpainting=False)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(RequestError, match="could not read broken.png"):
        load_background(tmp_path / "broken.png", 32)
    with pytest.raises(RequestError, match="number of images must be 1-8"):
        run_generate(models, None, None, "CC", None, None, "L", "area", "", 7, 20, 0, False, 9)


def test_a_dicom_upload_goes_through_the_conversion_chain(write_dicom):
    pixels = np.zeros((120, 90), np.uint16)
    pixels[10:110, :60] = 3000  # a breast on the left
    path = write_dicom(pixels, WindowCenter=2000, WindowWidth=4000)
    image = load_background(path, 48)
    assert image.shape == (48, 48) and image.dtype == np.uint8
    assert image[:, :8].mean() > image[:, -8:].mean()  # breast kept on the left, air on the right


def test_the_model_list_offers_the_workflows_text_to_image_pipelines(tmp_path):
    from mame.gui.actions import text_to_image_models

    for name, kind in (("fusion", "StableDiffusionPipeline"), ("lesions", "StableDiffusionInpaintPipeline")):
        (tmp_path / name / "pipeline").mkdir(parents=True)
        (tmp_path / name / "pipeline" / "model_index.json").write_text(f'{{"_class_name": "{kind}"}}')
    settings = GuiSettings(model="elsewhere/model", models_dir=str(tmp_path))
    assert text_to_image_models(settings) == ["elsewhere/model", str(tmp_path / "fusion" / "pipeline")]


def test_a_typed_box_is_clipped_to_the_image():
    from mame.gui.actions import drawn_box

    assert drawn_box((64, 64), 10.4, 20, 8, 100) == (10, 20, 18, 64)
    assert drawn_box((64, 64), 70, -5, 8, 8) == (64, 0, 64, 3)  # outside: empty, never inverted
