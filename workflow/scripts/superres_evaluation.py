"""Rule superres_evaluation: the upscaler against bicubic and Lanczos on held-out real full fields
(PSNR, SSIM, patch-level MS-SSIM with intervals), and the figure with the upscaled samples."""

from mame.logs import log_to

log_to(snakemake.log[0])

from dataclasses import replace  # noqa: E402

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.data.patches import box_downsample, unit  # noqa: E402
from mame.evaluation.superres import (  # noqa: E402
    autoencoder_round_trip,
    evaluation_images,
    score_images,
    summarise,
)
from mame.evaluation.superres_figures import superres_figure  # noqa: E402
from mame.io import read_manifests, read_pixels, read_table, write_tables  # noqa: E402
from mame.models.upscaler import upscale_factor  # noqa: E402
from mame.plotting import save_png  # noqa: E402
from mame.sampling.upscale import UpscaleSettings, back_project, load_upscaler, upscale_image  # noqa: E402

torch.set_num_threads(snakemake.threads)
superres, seed = snakemake.params.superres, snakemake.params.seed
pipeline = load_upscaler(snakemake.input.upscaler)
factor = upscale_factor(pipeline.vae.config)
settings = UpscaleSettings.from_config(superres, seed=seed)
chosen = evaluation_images(
    read_manifests(snakemake.input.manifests, column="full_image"), superres["eval_images"], seed
)
prompts = chosen["prompt"].tolist()
kept = {}


raw_settings = replace(settings, back_projection=0)
raw_outputs = {}


def raw(low, number):
    """The upscaler's own output, computed once per image (the back-projected row reuses it)."""
    if number not in raw_outputs:
        raw_outputs.clear()
        raw_outputs[number] = upscale_image(pipeline, low, prompts[number], raw_settings, seed + number)
    return raw_outputs[number]


models = {"upscaler": raw}
if settings.back_projection:
    models = {
        "upscaler": lambda low, number: back_project(raw(low, number), low, factor, settings.back_projection),
        "upscaler, no back-projection": raw,
    }


def keep(number, name, image):
    if number == 0:
        kept[name] = image


per_image = score_images(
    chosen["full_image"].tolist(),
    factor,
    models,
    superres["eval_patch"],
    keep=keep,
    round_trip=lambda original: autoencoder_round_trip(pipeline.vae, original),
)
per_image.to_csv(snakemake.output.scores, index=False)
table = summarise(per_image, resamples=snakemake.params.bootstrap, seed=seed)
write_tables(table.set_index(["method", "metric"]).round(4), snakemake.output.table.removesuffix(".csv"))

first = unit(read_pixels(chosen["full_image"].iloc[0]))
first = first[: first.shape[0] - first.shape[0] % factor, : first.shape[1] - first.shape[1] % factor]
low = box_downsample(first, factor)
methods = {"original": first, "input": low.repeat(factor, 0).repeat(factor, 1), **kept}
samples = (
    read_table(snakemake.input.samples, "upscale_samples") if snakemake.input.samples else pd.DataFrame()
)
save_png(superres_figure(methods, samples, factor), snakemake.output.figure)
