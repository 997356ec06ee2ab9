"""Rule sample_sweep: images of one model for every prompt x guidance scale, one seed per image."""

from mame.logs import log_to

log_to(snakemake.log[0])

import torch  # noqa: E402

from mame.sampling.specs import describe_samples, mirrored, prompt_of  # noqa: E402
from mame.sampling.sweep import load_pipeline, sweep  # noqa: E402

torch.set_num_threads(snakemake.threads)
settings = snakemake.params.sampling
specs = snakemake.params.specs
rows = sweep(
    load_pipeline(snakemake.input.pipeline),
    [prompt_of(spec) for spec in specs],
    settings["guidance"],
    settings["images_per_prompt"],
    snakemake.output.images,
    seed=settings["seed"],
    steps=settings["steps"],
    negative_prompt=settings["negative_prompt"] or None,
    batch_size=settings["batch_size"],
    model=snakemake.wildcards.model,
    mirror=[mirrored(spec) for spec in specs],
    bit_depth=snakemake.params.bit_depth,
)
describe_samples(rows, specs).to_csv(snakemake.output.samples, index=False)
