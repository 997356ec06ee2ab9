"""What the GUI does, without Gradio: requests checked and run, models loaded once, files written.

The app (`mame.gui.app`) is a thin face over the pipeline's contracts: prompts come from the one
prompt builder, images from `mame.sampling.sweep.generate` (R laterality mirrors the output), lesions from
`mame.sampling.inpaint.inpaint` (the original is kept outside the mask), uploads go through the same
DICOM chain and geometry as the conversion stage, and models load with `mame.sampling.sweep.load_pipeline`
(fp16 on a GPU). Models load once; each model runs one request at a time (Gradio's queue).
"""

from __future__ import annotations

import logging
import random
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from mame.io import read_grey, read_manifests, to_display
from mame.models.components import config_shape
from mame.models.conditions import extrapolated as extrapolated_attributes
from mame.prompts import LESION_PROMPT, build_prompt
from mame.shapes import compact

log = logging.getLogger(__name__)

NONE = "(none)"
DEFAULT_VENDORS = ("hologic", "siemens")


class RequestError(ValueError):
    """A request the app refuses, with the message the user sees."""


@dataclass
class GuiSettings:
    model: str = "results/models/fusion/pipeline"
    inpaint_model: str = "results/models/lesions/pipeline"
    data: str = "results/data"  # processed healthy images to pick lesion backgrounds from
    models_dir: str = "results/models"  # the workflow's models, offered beside --model
    max_images: int = 8
    max_steps: int = 100
    output: str = ""  # where generated files are written for download (default: a temp folder)


@dataclass
class LoadedModels:
    """Pipelines loaded on first use, once, behind a lock (two requests never load twice)."""

    settings: GuiSettings
    _pipelines: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def path(self, inpainting: bool, model: str | None = None) -> str:
        return model or (self.settings.inpaint_model if inpainting else self.settings.model)

    def missing(self, inpainting: bool, model: str | None = None) -> str | None:
        path = Path(self.path(inpainting, model))
        if (path / "model_index.json").exists():
            return None
        kind, flag = ("inpainting", "--inpaint-model") if inpainting else ("text-to-image", "--model")
        return (
            f"No {kind} model at {path}: run the pipeline first (snakemake --cores all) "
            f"or pass {flag} DIR (a diffusers pipeline directory)."
        )

    def get(self, inpainting: bool, model: str | None = None):
        problem = self.missing(inpainting, model)
        if problem:
            raise RequestError(problem)
        path = self.path(inpainting, model)
        with self._lock:
            if path not in self._pipelines:
                from mame.sampling.sweep import load_pipeline

                pipeline = load_pipeline(path, inpainting=inpainting)
                pipeline.set_progress_bar_config(disable=False, leave=False)  # Gradio tracks tqdm
                self._pipelines[path] = pipeline
                log.info("loaded %s", path)
            return self._pipelines[path]


def text_to_image_models(settings: GuiSettings) -> list[str]:
    """The model given, then every text-to-image pipeline the workflow trained (results/models/*/pipeline)."""
    from mame.models.families import is_text_to_image

    found = []
    for index in sorted(Path(settings.models_dir).glob("*/pipeline/model_index.json")):
        if is_text_to_image(index.parent):
            found.append(str(index.parent))
    return list(dict.fromkeys([settings.model, *found]))


def vendor_choices(conditions: dict | None) -> list[str]:
    vendors = [v for v in sorted((conditions or {}).get("vendors", {})) if v]
    return vendors or list(DEFAULT_VENDORS)


def _word(value: str | None) -> str | None:
    return None if value in (None, "", NONE) else value


def prompt_for(
    conditions: dict | None,
    view: str,
    area: str | None,
    density: str | None,
    vendor: str | None,
    priority: str,
) -> str:
    """The caption the model gets; the vendor word only when the model's captions carried one."""
    with_vendor = conditions is None or conditions.get("vendor_in_prompt", False)
    return build_prompt(
        view,
        area=_word(area),
        density=_word(density),
        vendor=_word(vendor) if with_vendor else None,
        priority=priority,
    )


def extrapolation_note(
    conditions: dict | None, vendor: str | None, view, area, density, priority: str
) -> str:
    """A line saying which chosen controls the model never saw captioned (or that all were seen)."""
    if conditions is None:
        return "Training conditions of this model are unknown."
    area, density = _word(area), _word(density)
    if priority == "only area":
        density = None
    elif priority == "only density":
        area = None
    unseen = extrapolated_attributes(conditions, _word(vendor), view=view, area=area, density=density)
    who = _word(vendor) or "any vendor"
    if unseen:
        return f"Extrapolated: {', '.join(unseen)} never appeared in the training captions for {who}."
    return f"All chosen conditions appeared in the training captions for {who}."


def check_limits(images: int, steps: int, settings: GuiSettings) -> None:
    if not 1 <= images <= settings.max_images:
        raise RequestError(f"number of images must be 1-{settings.max_images}, got {images}")
    if not 1 <= steps <= settings.max_steps:
        raise RequestError(f"steps must be 1-{settings.max_steps}, got {steps}")


def output_dir(settings: GuiSettings) -> Path:
    folder = Path(settings.output or tempfile.gettempdir()) / "mame-gui"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_generate(
    models: LoadedModels,
    conditions: dict | None,
    vendor: str | None,
    view: str,
    density: str | None,
    area: str | None,
    laterality: str,
    priority: str,
    negative_prompt: str,
    guidance: float,
    steps: int,
    seed: int,
    random_seed: bool,
    images: int,
    dicom: bool = False,
    sixteen_bit: bool = False,
    model: str | None = None,
) -> tuple[list[np.ndarray], str, list[str], int]:
    """Images to show (8-bit), the prompt used, PNG files (16-bit with `sixteen_bit`; and, with `dicom`,
    DICOM Secondary Captures marked synthetic) for download, and the first seed (seeds are seed,
    seed+1 ...)."""
    from mame.sampling.sweep import generate

    images, steps = int(images), int(steps)
    check_limits(images, steps, models.settings)
    prompt = prompt_for(conditions, view, area, density, vendor, priority)
    first = random.SystemRandom().randrange(2**31 - images) if random_seed else int(seed)
    pictures = generate(
        models.get(inpainting=False, model=model),
        [prompt] * images,
        [first + i for i in range(images)],
        guidance=float(guidance),
        steps=steps,
        negative_prompt=negative_prompt.strip() or None,
        mirror=[laterality == "R"] * images,
        bit_depth=16 if sixteen_bit else 8,
    )
    folder = output_dir(models.settings)
    files = []
    for i, picture in enumerate(pictures):
        path = folder / f"mame_seed{first + i}_{view}_{laterality}.png"
        Image.fromarray(picture).save(path)
        files.append(str(path))
        if dicom:
            files.append(
                export_one(
                    picture,
                    path.with_suffix(".dcm"),
                    model_name(model or models.settings.model),
                    prompt,
                    float(guidance),
                    first + i,
                    steps,
                    view,
                    laterality,
                    negative_prompt.strip(),
                )
            )
    shown = [to_display(p) for p in pictures]
    return shown, prompt, files, first


def model_name(path: str) -> str:
    """results/models/fusion/pipeline -> fusion: the name a model goes by in the pipeline."""
    parts = Path(path).parts
    return parts[-2] if len(parts) > 1 and parts[-1] == "pipeline" else Path(path).name


def export_one(
    picture: np.ndarray,
    target: Path,
    model: str,
    prompt: str,
    guidance: float,
    seed: int,
    steps: int,
    view: str,
    laterality: str,
    negative_prompt: str = "",
) -> str:
    """One GUI result as a DICOM Secondary Capture (mame.export.dicom), next to its PNG."""
    from mame.export.dicom import SampleRecord, secondary_capture

    record = SampleRecord(
        str(target), model, prompt, guidance, seed, steps, view, laterality, negative_prompt=negative_prompt
    )
    grey = picture if picture.ndim == 2 else picture[..., 0]
    secondary_capture(record, np.ascontiguousarray(grey)).save_as(target, enforce_file_format=True)
    return str(target)


def healthy_images(data: str | Path) -> list[str]:
    """Held-out healthy processed images from the pipeline's manifests (training images would be
    a poor test of a lesion model)."""
    # fusion/ holds the same images as the datasets' own manifests
    manifests = [str(m) for m in sorted(Path(data).glob("*/healthy.csv")) if m.parent.name != "fusion"]
    if not manifests:
        return []
    frame = read_manifests(manifests)
    paths = frame.loc[frame["split"] == "holdout", "image"] if "split" in frame else []
    return sorted(p for p in paths if Path(p).exists())


def load_background(path: str | Path, side: int | tuple[int, int]) -> np.ndarray:
    """An uploaded or picked image as grey uint8 at `side` (a side, or (height, width)): PNG/JPEG
    box-resized, DICOM through the conversion stage's intensity chain and breast geometry."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            is_dicom = handle.read(132)[128:132] == b"DICM"
        if is_dicom or path.suffix.lower() in (".dcm", ".dicom"):
            import pydicom

            from mame.data.convert import ConvertSettings, convert_image
            from mame.data.dicom import IntensitySettings

            laterality = str(
                pydicom.dcmread(path, stop_before_pixels=True).get("ImageLaterality", "L") or "L"
            )
            settings = ConvertSettings(size=side, intensity=IntensitySettings(bit_depth=8))
            return convert_image(path, laterality, np.zeros((0, 4)), settings).image
        return read_grey(path, side)
    except RequestError:
        raise
    except Exception as err:  # noqa: BLE001 - any unreadable upload is the user's message, not a crash
        raise RequestError(f"could not read {path.name}: {type(err).__name__}: {err}") from None


def editor_mask(editor_value: dict | None, shape: tuple[int, int]) -> np.ndarray:
    """255 where the user painted on any layer of the image editor, resized to the image."""
    if not editor_value or not editor_value.get("layers"):
        return np.zeros(shape, np.uint8)
    painted = np.zeros(np.asarray(editor_value["layers"][0]).shape[:2], bool)
    for layer in editor_value["layers"]:
        layer = np.asarray(layer)
        painted |= layer[..., 3] > 0 if layer.ndim == 3 and layer.shape[2] == 4 else layer > 0
    mask = Image.fromarray(painted.astype(np.uint8) * 255)
    if mask.size != (shape[1], shape[0]):
        mask = mask.resize((shape[1], shape[0]), Image.Resampling.NEAREST)
    return np.asarray(mask)


def drawn_box(shape: tuple[int, int], x: float, y: float, width: float, height: float) -> tuple[int, ...]:
    """A box typed in pixels of the shown image as (x1, y1, x2, y2), clipped to the image."""
    x1, y1 = min(shape[1], max(0, round(x))), min(shape[0], max(0, round(y)))
    x2, y2 = min(shape[1], round(x + width)), min(shape[0], round(y + height))
    return x1, y1, max(x1, x2), max(y1, y2)


def run_inpaint(
    models: LoadedModels,
    background: np.ndarray | None,
    mask: np.ndarray,
    prompt: str,
    steps: int,
    guidance: float,
    seed: int,
) -> tuple[np.ndarray, list[str]]:
    """The inpainted image and the files to download (result and mask PNGs)."""
    from mame.sampling.inpaint import inpaint

    if background is None:
        raise RequestError("pick or upload a healthy mammogram first")
    check_limits(1, int(steps), models.settings)
    if not (mask > 127).any():
        raise RequestError("the mask is empty: paint the lesion region (or give a box) first")
    result = inpaint(
        models.get(inpainting=True),
        background,
        mask,
        prompt or LESION_PROMPT,
        steps=int(steps),
        guidance=guidance,
        seed=int(seed),
    )
    folder = output_dir(models.settings)
    files = [str(folder / f"lesion_seed{int(seed)}.png"), str(folder / f"lesion_seed{int(seed)}_mask.png")]
    Image.fromarray(result).save(files[0])
    Image.fromarray(mask.astype(np.uint8)).save(files[1])
    return result, files


def full_field_images(data: str | Path) -> dict[str, str]:
    """Processed image -> its full-field product, from the pipeline's manifests (those it wrote one for)."""
    manifests = [str(m) for m in sorted(Path(data).glob("*/healthy.csv")) if m.parent.name != "fusion"]
    if not manifests:
        return {}
    frame = read_manifests(manifests)
    if "full_image" not in frame:
        return {}
    rows = frame[frame["full_image"].astype(str) != ""]
    return {
        image: full
        for image, full in zip(rows["image"], rows["full_image"], strict=True)
        if Path(full).exists()
    }


def run_inpaint_full_field(
    models: LoadedModels,
    full_image: str | None,
    mask: np.ndarray,
    prompt: str,
    steps: int,
    guidance: float,
    seed: int,
) -> tuple[np.ndarray, list[str]]:
    """Paint the drawn region's bounding box into the picked image's full-field product at full
    resolution (mame.sampling.full_field_panels.paint_image); the result downscaled to the mask's size
    for the screen, and the files to download: the full-field 16-bit PNG and a 1:1 crop around the box."""
    from mame.io import read_pixels, to_display
    from mame.sampling.full_field_panels import paint_image, scale_box

    if not full_image:
        raise RequestError(
            "this image has no full-field product: pick a held-out image of a run with "
            "convert.full_field.scale > 0, or untick full resolution"
        )
    check_limits(1, int(steps), models.settings)
    rows, cols = np.nonzero(mask > 127)
    if not len(rows):
        raise RequestError("the mask is empty: paint the lesion region (or give a box) first")
    box = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    full = read_pixels(full_image)
    full_box = scale_box(box, mask.shape, full.shape)
    result, record = paint_image(
        models.get(inpainting=True), full, full_box, prompt or LESION_PROMPT, int(steps), guidance, int(seed)
    )
    folder = output_dir(models.settings)
    top, left, height, width = record["window"]
    files = [
        str(folder / f"lesion_full_seed{int(seed)}.png"),
        str(folder / f"lesion_full_seed{int(seed)}_crop.png"),
    ]
    Image.fromarray(result).save(files[0])
    Image.fromarray(result[top : top + height, left : left + width]).save(files[1])
    shown = Image.fromarray(to_display(result)).resize((mask.shape[1], mask.shape[0]), Image.Resampling.BOX)
    return np.asarray(shown), files


def model_side(models: LoadedModels, inpainting: bool) -> int | tuple[int, int]:
    """Image size the model was trained at (UNet sample size x VAE factor), read from its config: a side
    for square models, (height, width) otherwise."""
    import json

    path = Path(models.settings.inpaint_model if inpainting else models.settings.model)
    unet = json.loads((path / "unet" / "config.json").read_text())
    vae = json.loads((path / "vae" / "config.json").read_text())
    height, width = config_shape(unet, vae)
    return compact(height, width)


def shown_size(image: np.ndarray, side: int = 256) -> np.ndarray:
    """A small image enlarged (nearest neighbour) for the screen; downloads keep the true size."""
    if image.shape[0] >= side:
        return image
    factor = -(-side // image.shape[0])
    return np.kron(image, np.ones((factor, factor), image.dtype))
