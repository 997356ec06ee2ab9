"""Rule inpaint_panels: synthetic lesions painted into held-out healthy images (before/mask/after), at
the model's resolution and into the full-field product, with the full-field results as DICOM."""

from mame.logs import log_to

log_to(snakemake.log[0])

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from mame.data.lesions import BoxDistribution  # noqa: E402
from mame.export.full_field import export_painted  # noqa: E402
from mame.export.validation import validate  # noqa: E402
from mame.io import in_split, read_manifests  # noqa: E402
from mame.plotting import blank_figure, save_png  # noqa: E402
from mame.sampling.figures import full_field_panels, inpainting_panels  # noqa: E402
from mame.sampling.full_field_panels import paint_full_fields  # noqa: E402
from mame.sampling.inpaint import inpaint_panels, painting_backgrounds  # noqa: E402
from mame.sampling.sweep import load_pipeline  # noqa: E402

torch.set_num_threads(snakemake.threads)
model = snakemake.wildcards.model
lesions = read_manifests(snakemake.input.lesions, column="boxes")
healthy = read_manifests(snakemake.input.healthy, column="image")
settings = snakemake.params.sampling
pipeline = load_pipeline(snakemake.input.pipeline, inpainting=True)
training_boxes = in_split(lesions)["boxes"].tolist()
backgrounds = painting_backgrounds(healthy, seed=settings["seed"])
rows = inpaint_panels(
    pipeline,
    backgrounds,
    training_boxes,
    snakemake.params.panels,
    snakemake.output.panels,
    seed=settings["seed"],
    prompt=snakemake.params.prompt,
    steps=settings["steps"],
)
table = pd.DataFrame(rows).assign(model=model)
table.to_csv(snakemake.output.table, index=False)
save_png(inpainting_panels(table, model), snakemake.output.figure)

full = snakemake.params.full_field
ordered = healthy.drop_duplicates("image").set_index("image").loc[backgrounds].reset_index()
with Image.open(backgrounds[0]) as first:  # the boxes' grid: the processed images
    processed_shape = (first.height, first.width)
full_rows = paint_full_fields(
    pipeline,
    ordered,
    BoxDistribution.from_manifest(training_boxes, processed_shape),
    full["images"],
    snakemake.output.full,
    model,
    seed=settings["seed"],
    prompt=snakemake.params.prompt,
    steps=settings["steps"],
    margin=full["margin"],
    feather_px=full["feather_px"],
)
full_rows = export_painted(full_rows)
full_table = pd.DataFrame(full_rows)
checks, summary = validate(full_table["dicom"].tolist() if full_rows else [])
if full_rows:
    full_table = full_table.merge(pd.DataFrame(checks), on="dicom")
full_table.to_csv(snakemake.output.full_table, index=False)
Path(snakemake.output.full_validation).write_text(json.dumps(summary, indent=2) + "\n")
if full_rows:
    save_png(full_field_panels(full_table, f"{model}: full field"), snakemake.output.full_figure)
else:
    save_png(blank_figure("no full-field images (convert.full_field.scale: 0)"), snakemake.output.full_figure)
