"""Rule concept_extrapolation: the fusion model asked for attributes a vendor never saw, and what a
real-trained classifier reads in the results."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.fidelity import read_attributes  # noqa: E402
from mame.prompts import build_prompt  # noqa: E402
from mame.sample import load_pipeline, sweep  # noqa: E402
from mame.training_data import read_manifests  # noqa: E402

torch.set_num_threads(snakemake.threads)
specs, settings = snakemake.params.specs, snakemake.params.sampling
rows = sweep(
    load_pipeline(snakemake.input.pipeline),
    [build_prompt(**spec) for spec in specs],
    [snakemake.params.guidance],
    snakemake.params.images,
    snakemake.output.images,
    seed=settings["seed"],
    steps=settings["steps"],
    negative_prompt=settings["negative_prompt"] or None,
    model=snakemake.wildcards.model,
)
table = pd.DataFrame(rows)
for attribute in ("vendor", "view", "area", "density"):
    table[attribute] = [specs[i].get(attribute) or "" for i in table["prompt_index"]]
table["attribute"] = ["density" if specs[i].get("density") else "area" for i in table["prompt_index"]]
real = read_manifests(snakemake.input.real)
verdicts = read_attributes(table.drop(columns=["view"]), real)[["file", "read"]]  # only the unseen attribute
table.merge(verdicts, on="file", how="left").to_csv(snakemake.output.table, index=False)
