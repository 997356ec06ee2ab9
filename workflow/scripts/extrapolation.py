"""Rule concept_extrapolation: the fusion model asked for attributes a vendor never saw, and what a
real-trained classifier reads in the results."""

from mame.logs import log_to

log_to(snakemake.log[0])

import torch  # noqa: E402

from mame.evaluation.fidelity import classify_attributes, extrapolation_agreement  # noqa: E402
from mame.io import read_manifests  # noqa: E402
from mame.plotting import save_png  # noqa: E402
from mame.sampling.figures import extrapolation_grid  # noqa: E402
from mame.sampling.specs import describe_samples, prompt_of  # noqa: E402
from mame.sampling.sweep import load_pipeline, sweep  # noqa: E402

torch.set_num_threads(snakemake.threads)
specs, settings = snakemake.params.specs, snakemake.params.sampling
rows = sweep(
    load_pipeline(snakemake.input.pipeline),
    [prompt_of(spec) for spec in specs],
    [snakemake.params.guidance],
    snakemake.params.images,
    snakemake.output.images,
    seed=settings["seed"],
    steps=settings["steps"],
    negative_prompt=settings["negative_prompt"] or None,
    model=snakemake.wildcards.model,
    bit_depth=snakemake.params.bit_depth,
)
table = describe_samples(rows, specs, columns=("vendor", "view", "area", "density"))
table["attribute"] = ["density" if specs[i].get("density") else "area" for i in table["prompt_index"]]
real = read_manifests(snakemake.input.real)
thresholds = tuple(snakemake.params.area_thresholds)
verdicts = classify_attributes(table.drop(columns=["view"]), real, area_thresholds=thresholds)[
    ["file", "read", "chance"]
]  # the unseen attribute
table = table.merge(verdicts, on="file", how="left")
table.to_csv(snakemake.output.table, index=False)
extrapolation_agreement(table).to_csv(snakemake.output.agreement, index=False)
save_png(extrapolation_grid(table, snakemake.wildcards.model), snakemake.output.figure)
