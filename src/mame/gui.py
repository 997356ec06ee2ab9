"""`mame gui`: one Gradio app to generate mammograms from conditions and paint lesions into them.

The app is a thin face over the pipeline's contracts: prompts come from the one prompt builder,
images from `mame.sample.generate` (R laterality mirrors the output), lesions from
`mame.inpaint.inpaint` (the original is kept outside the mask), uploads go through the same
DICOM chain and geometry as the conversion stage, and models load with `mame.sample.load_pipeline`
(fp16 on a GPU). Models load once; each model runs one request at a time (Gradio's queue).
"""

from __future__ import annotations

import logging
import random
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from PIL import Image

from mame.conditions import extrapolated as extrapolated_attributes
from mame.conditions import read_conditions
from mame.lesions import box_mask
from mame.models import latent_scale
from mame.prompts import AREA_WORDS, DENSITY_WORDS, LESION_PROMPT, PRIORITIES, build_prompt
from mame.training_data import read_grey, read_manifests

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
                from mame.sample import load_pipeline

                pipeline = load_pipeline(path, inpainting=inpainting)
                pipeline.set_progress_bar_config(disable=False, leave=False)  # Gradio tracks tqdm
                self._pipelines[path] = pipeline
                log.info("loaded %s", path)
            return self._pipelines[path]


def text_to_image_models(settings: GuiSettings) -> list[str]:
    """The model given, then every text-to-image pipeline the workflow trained (results/models/*/pipeline)."""
    import json

    found = []
    for index in sorted(Path(settings.models_dir).glob("*/pipeline/model_index.json")):
        if json.loads(index.read_text()).get("_class_name") == "StableDiffusionPipeline":
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


def _output_dir(settings: GuiSettings) -> Path:
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
    model: str | None = None,
) -> tuple[list[np.ndarray], str, list[str], int]:
    """Images, the prompt used, PNG files for download, and the first seed (seeds are seed, seed+1 ...)."""
    from mame.sample import generate

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
    )
    folder = _output_dir(models.settings)
    files = []
    for i, picture in enumerate(pictures):
        path = folder / f"mame_seed{first + i}_{view}_{laterality}.png"
        Image.fromarray(picture).save(path)
        files.append(str(path))
    return pictures, prompt, files, first


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


def load_background(path: str | Path, side: int) -> np.ndarray:
    """An uploaded or picked image as grey uint8 side x side: PNG/JPEG box-resized, DICOM through
    the conversion stage's intensity chain and breast geometry."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            is_dicom = handle.read(132)[128:132] == b"DICM"
        if is_dicom or path.suffix.lower() in (".dcm", ".dicom"):
            import pydicom

            from mame.convert import ConvertSettings, convert_image
            from mame.dicom import IntensitySettings

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
    from mame.inpaint import inpaint

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
    folder = _output_dir(models.settings)
    files = [str(folder / f"lesion_seed{int(seed)}.png"), str(folder / f"lesion_seed{int(seed)}_mask.png")]
    Image.fromarray(result).save(files[0])
    Image.fromarray(mask.astype(np.uint8)).save(files[1])
    return result, files


def model_side(models: LoadedModels, inpainting: bool) -> int:
    """Image side the model was trained at (UNet sample size x VAE factor), read from its config."""
    import json

    path = Path(models.settings.inpaint_model if inpainting else models.settings.model)
    unet = json.loads((path / "unet" / "config.json").read_text())
    vae = SimpleNamespace(config=SimpleNamespace(**json.loads((path / "vae" / "config.json").read_text())))
    return int(unet["sample_size"]) * latent_scale(vae)


def _shown(image: np.ndarray, side: int = 256) -> np.ndarray:
    """A small image enlarged (nearest neighbour) for the screen; downloads keep the true size."""
    if image.shape[0] >= side:
        return image
    factor = -(-side // image.shape[0])
    return np.kron(image, np.ones((factor, factor), image.dtype))


def build_app(settings: GuiSettings):
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    models = LoadedModels(settings)
    choices = text_to_image_models(settings)
    known: dict[str, dict | None] = {}

    def conditions_of(model: str) -> dict | None:
        if model not in known:
            known[model] = None if models.missing(False, model) else read_conditions(model)
        return known[model]

    vendors = vendor_choices(conditions_of(settings.model))
    backgrounds = healthy_images(settings.data)
    lesion_side = 512 if models.missing(True) else model_side(models, True)

    def as_error(function):
        def wrapped(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except RequestError as err:
                raise gr.Error(str(err)) from None

        return wrapped

    def on_generate(model, *controls, progress=gr.Progress(track_tqdm=True)):  # noqa: B008 - Gradio's hook
        """controls: the Generate tab's inputs, in run_generate's order after (models, conditions)."""
        return as_error(run_generate)(models, conditions_of(model), *controls, model=model)

    def on_conditions(model, vendor, view, density, area, priority):
        conditions = conditions_of(model)
        prompt = prompt_for(conditions, view, area, density, vendor, priority)
        return prompt, extrapolation_note(conditions, vendor, view, area, density, priority)

    def on_model(model, vendor):
        vendors = vendor_choices(conditions_of(model))
        problem = models.missing(False, model)
        return gr.update(choices=[NONE, *vendors], value=vendor if vendor in vendors else vendors[0]), (
            f"**{problem}**" if problem else ""
        )

    def on_pick(path):
        if not path:
            return None, None
        image = as_error(load_background)(path, lesion_side)
        return image, image

    def on_random():
        if not backgrounds:
            raise gr.Error(f"no held-out healthy images under {settings.data}; upload one instead")
        return random.choice(backgrounds)

    def on_upload(file):
        if file is None:
            return None, None
        return on_pick(file)

    def on_inpaint(
        background,
        editor,
        use_box,
        x,
        y,
        width,
        height,
        prompt,
        steps,
        guidance,
        seed,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008 - Gradio injects progress through this default
    ):
        if background is None:
            raise gr.Error("pick or upload a healthy mammogram first")
        background = np.asarray(background, np.uint8)
        mask = (
            box_mask(background.shape, drawn_box(background.shape, x, y, width, height))
            if use_box
            else editor_mask(editor, background.shape)
        )
        result, files = as_error(run_inpaint)(models, background, mask, prompt, steps, guidance, seed)
        return _shown(background), _shown(mask), _shown(result), files

    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])
    with gr.Blocks(title="MAM-E", analytics_enabled=False) as app:
        gr.Markdown("# MAM-E: text-controlled mammogram synthesis and lesion inpainting")
        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                missing_model = gr.Markdown(f"**{models.missing(False)}**" if models.missing(False) else "")
                with gr.Row():
                    with gr.Column():
                        model = gr.Dropdown(choices, value=settings.model, label="Model", elem_id="model")
                        vendor = gr.Dropdown(
                            [NONE, *vendors], value=vendors[0], label="Vendor", elem_id="vendor"
                        )
                        view = gr.Radio(["CC", "MLO"], value="CC", label="View", elem_id="view")
                        density = gr.Dropdown(
                            [NONE, *DENSITY_WORDS.values()],
                            value=NONE,
                            label="Breast density",
                            elem_id="density",
                        )
                        area = gr.Dropdown(
                            [NONE, *AREA_WORDS], value=NONE, label="Breast area", elem_id="area"
                        )
                        laterality = gr.Radio(
                            ["L", "R"], value="L", label="Laterality (R mirrors)", elem_id="laterality"
                        )
                        priority = gr.Dropdown(
                            list(PRIORITIES), value="area", label="Priority", elem_id="priority"
                        )
                        negative = gr.Textbox("", label="Negative prompt", elem_id="negative")
                        guidance = gr.Slider(
                            0, 20, value=7, step=0.5, label="Guidance scale", elem_id="guidance"
                        )
                        steps = gr.Slider(
                            1,
                            settings.max_steps,
                            value=min(20, settings.max_steps),
                            step=1,
                            label="Steps",
                            elem_id="steps",
                        )
                        with gr.Row():
                            seed = gr.Number(0, precision=0, label="Seed", elem_id="seed")
                            random_seed = gr.Checkbox(False, label="Random seed", elem_id="random-seed")
                        count = gr.Slider(
                            1,
                            settings.max_images,
                            value=min(4, settings.max_images),
                            step=1,
                            label="Number of images",
                            elem_id="count",
                        )
                        go = gr.Button("Generate", variant="primary", elem_id="generate-button")
                    with gr.Column():
                        note = gr.Markdown(elem_id="extrapolation")
                        prompt_shown = gr.Textbox(
                            label="Prompt used", interactive=False, elem_id="prompt-used"
                        )
                        gallery = gr.Gallery(label="Generated", columns=4, elem_id="gallery", format="png")
                        used_seed = gr.Number(label="First seed used", interactive=False, elem_id="used-seed")
                        downloads = gr.File(
                            label="Download (PNG)", file_count="multiple", elem_id="downloads"
                        )
                controls = [model, vendor, view, density, area, priority]
                model.change(on_model, [model, vendor], [vendor, missing_model], queue=False)
                for control in controls:
                    control.change(on_conditions, controls, [prompt_shown, note], queue=False)
                app.load(on_conditions, controls, [prompt_shown, note], queue=False)
                go.click(
                    on_generate,
                    [
                        model,
                        vendor,
                        view,
                        density,
                        area,
                        laterality,
                        priority,
                        negative,
                        guidance,
                        steps,
                        seed,
                        random_seed,
                        count,
                    ],
                    [gallery, prompt_shown, downloads, used_seed],
                    concurrency_id="text-to-image",
                )
            with gr.Tab("Lesion", id="lesion"):
                if models.missing(True):
                    gr.Markdown(f"**{models.missing(True)}**")
                background = gr.State(None)
                with gr.Row():
                    with gr.Column():
                        picked = gr.Dropdown(
                            backgrounds, value=None, label="Held-out healthy image", elem_id="pick"
                        )
                        random_pick = gr.Button("Random healthy image", elem_id="random-image")
                        upload = gr.File(
                            label="Or upload a PNG / DICOM",
                            file_types=[".png", ".jpg", ".dcm", ".dicom"],
                            type="filepath",
                            elem_id="upload",
                        )
                        editor = gr.ImageEditor(
                            type="numpy",
                            image_mode="L",
                            label="Paint the lesion region",
                            brush=gr.Brush(
                                colors=["#ff3030"], default_size=max(2, lesion_side // 12), color_mode="fixed"
                            ),
                            sources=[],
                            transforms=[],
                            layers=False,
                            elem_id="editor",
                        )
                        with gr.Row():
                            use_box = gr.Checkbox(False, label="Use a box instead", elem_id="use-box")
                            box_x = gr.Number(16, label="x", elem_id="box-x", min_width=70)
                            box_y = gr.Number(16, label="y", elem_id="box-y", min_width=70)
                            box_w = gr.Number(16, label="width", elem_id="box-w", min_width=70)
                            box_h = gr.Number(16, label="height", elem_id="box-h", min_width=70)
                        lesion_prompt = gr.Textbox(LESION_PROMPT, label="Prompt", elem_id="lesion-prompt")
                        lesion_steps = gr.Slider(
                            1,
                            settings.max_steps,
                            value=min(20, settings.max_steps),
                            step=1,
                            label="Steps",
                            elem_id="lesion-steps",
                        )
                        lesion_guidance = gr.Slider(
                            0, 20, value=7, step=0.5, label="Guidance", elem_id="lesion-guidance"
                        )
                        lesion_seed = gr.Number(0, precision=0, label="Seed", elem_id="lesion-seed")
                        paint = gr.Button("Inpaint", variant="primary", elem_id="inpaint-button")
                    with gr.Column():
                        with gr.Row():
                            before, mask_shown, after = (
                                gr.Image(
                                    label=label,
                                    type="numpy",
                                    image_mode="L",
                                    elem_id=label.lower(),
                                    format="png",
                                )
                                for label in ("Before", "Mask", "After")
                            )
                        lesion_files = gr.File(
                            label="Download (result + mask PNG)",
                            file_count="multiple",
                            elem_id="lesion-downloads",
                        )
                picked.change(on_pick, picked, [background, editor])
                random_pick.click(on_random, None, picked)
                upload.change(on_upload, upload, [background, editor])
                paint.click(
                    on_inpaint,
                    [
                        background,
                        editor,
                        use_box,
                        box_x,
                        box_y,
                        box_w,
                        box_h,
                        lesion_prompt,
                        lesion_steps,
                        lesion_guidance,
                        lesion_seed,
                    ],
                    [before, mask_shown, after, lesion_files],
                    concurrency_id="inpainting",
                )
    app.queue(default_concurrency_limit=1)
    app.mame_theme = theme
    return app


def launch(
    settings: GuiSettings, host: str = "127.0.0.1", port: int = 7860, share: bool = False, block: bool = True
):
    """Start the app; 127.0.0.1 unless told otherwise, no public share link unless asked."""
    app = build_app(settings)
    app.launch(
        server_name=host,
        server_port=port,
        share=share,
        prevent_thread_lock=not block,
        quiet=not block,
        theme=app.mame_theme,
        footer_links=[],
        allowed_paths=[str(_output_dir(settings)), str(Path(settings.data).resolve())],
    )
    return app
