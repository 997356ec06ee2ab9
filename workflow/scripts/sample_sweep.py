"""Rule sample_sweep: images of one model for every prompt x guidance scale, one seed per image."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.prompts import build_prompt  # noqa: E402
from mame.sample import load_pipeline, sweep  # noqa: E402

torch.set_num_threads(snakemake.threads)
settings = snakemake.params.sampling
specs = snakemake.params.specs
prompts = [build_prompt(**{k: v for k, v in spec.items() if k != "laterality"}) for spec in specs]
rows = sweep(
    load_pipeline(snakemake.input.pipeline),
    prompts,
    settings["guidance"],
    settings["images_per_prompt"],
    snakemake.output.images,
    seed=settings["seed"],
    steps=settings["steps"],
    negative_prompt=settings["negative_prompt"] or None,
    batch_size=settings["batch_size"],
    model=snakemake.wildcards.model,
    mirror=[spec.get("laterality") == "R" for spec in specs],
)
table = pd.DataFrame(rows)
for attribute in ("vendor", "view", "area", "density", "laterality"):  # what each image was asked to show
    table[attribute] = [specs[i].get(attribute) or "" for i in table["prompt_index"]]
table.to_csv(snakemake.output.samples, index=False)
