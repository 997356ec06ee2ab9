"""Rule full_field_distribution: FD / KID / PRDC at the full field, in an encoder trained on real
full-field patches: upscaled samples against bicubic and Lanczos, full-field lesions against the healthy
tissue they replaced, each against real patches with a real-vs-real floor."""

from mame.logs import log_to

log_to(snakemake.log[0])

import torch  # noqa: E402

from mame.evaluation.patch_distribution import (  # noqa: E402
    PatchSettings,
    full_field_table,
    inpainting_rows,
    real_patches,
    superres_rows,
    train_patch_encoder,
)
from mame.io import in_split, read_manifests, read_table, write_tables  # noqa: E402

torch.set_num_threads(snakemake.threads)
params = snakemake.params
settings = PatchSettings.from_config(params.settings, params.patch, params.draws, params.seed)
healthy = read_manifests(snakemake.input.manifests, column="full_image")
train, labels = real_patches(in_split(healthy, "train"), settings, settings.seed)
holdout, _ = real_patches(in_split(healthy, "holdout"), settings, settings.seed + 1)
encoder = train_patch_encoder(train, labels, settings)
encoder.save(snakemake.output.encoder)

samples = {
    model: read_table([path], "upscale_samples")
    for model, path in zip(params.models, snakemake.input.samples, strict=True)
}
painted = {
    model: read_table([path], "inpaint_panels")
    for model, path in zip(params.inpaint, snakemake.input.painted, strict=True)
}
lesions = {model: read_manifests(paths, column="boxes") for model, paths in params.inpaint.items()}
table = full_field_table(
    superres_rows(encoder, samples, train, holdout, settings),
    inpainting_rows(encoder, {m: f for m, f in painted.items() if len(f)}, lesions, settings),
)
write_tables(
    table.set_index(["stage", "model", "method"]).round(4), snakemake.output.table.removesuffix(".csv")
)
