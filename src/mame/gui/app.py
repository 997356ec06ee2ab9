"""`mame gui`: one Gradio app to generate mammograms from conditions and paint lesions into them.

Each tab is built by its own function from the request functions of `mame.gui.actions`; Gradio only
lays out controls and wires them to those functions.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from mame.data.lesions import box_mask
from mame.gui.actions import (
    NONE,
    GuiSettings,
    LoadedModels,
    RequestError,
    drawn_box,
    editor_mask,
    extrapolation_note,
    full_field_images,
    healthy_images,
    load_background,
    model_side,
    output_dir,
    prompt_for,
    run_generate,
    run_inpaint,
    run_inpaint_full_field,
    shown_size,
    text_to_image_models,
    vendor_choices,
)
from mame.models.conditions import read_conditions
from mame.prompts import AREA_WORDS, DENSITY_WORDS, LESION_PROMPT, PRIORITIES, VIEWS


def as_error(function):
    """A request function whose refusals show as Gradio errors (the message the user sees)."""
    import gradio as gr

    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RequestError as err:
            raise gr.Error(str(err)) from None

    return wrapped


def generate_tab(app, models: LoadedModels, settings: GuiSettings) -> None:
    """Generate: conditions -> the prompt builder's caption (shown live) -> images to view and download."""
    import gradio as gr

    choices = text_to_image_models(settings)
    known: dict[str, dict | None] = {}

    def conditions_of(model: str) -> dict | None:
        if model not in known:
            known[model] = None if models.missing(False, model) else read_conditions(model)
        return known[model]

    vendors = vendor_choices(conditions_of(settings.model))

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

    with gr.Tab("Generate", id="generate"):
        missing_model = gr.Markdown(f"**{models.missing(False)}**" if models.missing(False) else "")
        with gr.Row():
            with gr.Column():
                model = gr.Dropdown(choices, value=settings.model, label="Model", elem_id="model")
                vendor = gr.Dropdown([NONE, *vendors], value=vendors[0], label="Vendor", elem_id="vendor")
                view = gr.Radio(list(VIEWS), value=VIEWS[0], label="View", elem_id="view")
                density = gr.Dropdown(
                    [NONE, *DENSITY_WORDS.values()],
                    value=NONE,
                    label="Breast density",
                    elem_id="density",
                )
                area = gr.Dropdown([NONE, *AREA_WORDS], value=NONE, label="Breast area", elem_id="area")
                laterality = gr.Radio(
                    ["L", "R"], value="L", label="Laterality (R mirrors)", elem_id="laterality"
                )
                priority = gr.Dropdown(list(PRIORITIES), value="area", label="Priority", elem_id="priority")
                negative = gr.Textbox("", label="Negative prompt", elem_id="negative")
                guidance = gr.Slider(0, 20, value=7, step=0.5, label="Guidance scale", elem_id="guidance")
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
                with gr.Row():
                    as_dicom = gr.Checkbox(
                        False, label="Also as DICOM (marked synthetic)", elem_id="as-dicom"
                    )
                    sixteen_bit = gr.Checkbox(False, label="16-bit PNG / DICOM", elem_id="sixteen-bit")
                go = gr.Button("Generate", variant="primary", elem_id="generate-button")
            with gr.Column():
                note = gr.Markdown(elem_id="extrapolation")
                prompt_shown = gr.Textbox(label="Prompt used", interactive=False, elem_id="prompt-used")
                gallery = gr.Gallery(label="Generated", columns=4, elem_id="gallery", format="png")
                used_seed = gr.Number(label="First seed used", interactive=False, elem_id="used-seed")
                downloads = gr.File(label="Download (PNG, DICOM)", file_count="multiple", elem_id="downloads")
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
                as_dicom,
                sixteen_bit,
            ],
            [gallery, prompt_shown, downloads, used_seed],
            concurrency_id="text-to-image",
        )


def lesion_tab(models: LoadedModels, settings: GuiSettings) -> None:
    """Lesion: a held-out healthy image (or an upload), a painted or typed region, the inpainted result."""
    import gradio as gr

    backgrounds = healthy_images(settings.data)
    full_fields = full_field_images(settings.data)
    lesion_side = 512 if models.missing(True) else model_side(models, True)

    def on_pick(path):
        if not path:
            return None, None, None
        image = as_error(load_background)(path, lesion_side)
        return image, image, full_fields.get(path)

    def on_random():
        if not backgrounds:
            raise gr.Error(f"no held-out healthy images under {settings.data}; upload one instead")
        return random.choice(backgrounds)

    def on_upload(file):
        if file is None:
            return None, None, None
        return on_pick(file)

    def on_inpaint(
        background,
        full_image,
        at_full,
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
        if at_full:
            result, files = as_error(run_inpaint_full_field)(
                models, full_image, mask, prompt, steps, guidance, seed
            )
        else:
            result, files = as_error(run_inpaint)(models, background, mask, prompt, steps, guidance, seed)
        return shown_size(background), shown_size(mask), shown_size(result), files

    with gr.Tab("Lesion", id="lesion"):
        if models.missing(True):
            gr.Markdown(f"**{models.missing(True)}**")
        background = gr.State(None)
        full_image = gr.State(None)  # the picked image's full-field product, when the run wrote one
        with gr.Row():
            with gr.Column():
                picked = gr.Dropdown(backgrounds, value=None, label="Held-out healthy image", elem_id="pick")
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
                at_full = gr.Checkbox(
                    False,
                    label="Paint at full resolution (the full-field image; the region's bounding box)",
                    elem_id="full-field",
                    interactive=bool(full_fields),
                )
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
        picked.change(on_pick, picked, [background, editor, full_image])
        random_pick.click(on_random, None, picked)
        upload.change(on_upload, upload, [background, editor, full_image])
        paint.click(
            on_inpaint,
            [
                background,
                full_image,
                at_full,
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


def build_app(settings: GuiSettings):
    """The Gradio Blocks app (not launched)."""
    import gradio as gr

    models = LoadedModels(settings)
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])
    with gr.Blocks(title="MAM-E", analytics_enabled=False) as app:
        gr.Markdown("# MAM-E: text-controlled mammogram synthesis and lesion inpainting")
        with gr.Tabs():
            generate_tab(app, models, settings)
            lesion_tab(models, settings)
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
        allowed_paths=[str(output_dir(settings)), str(Path(settings.data).resolve())],
    )
    return app
