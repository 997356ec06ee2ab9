"""Rule inpaint_panels: synthetic lesions painted into held-out healthy images (before/mask/after)."""

from mame.logs import log_to

log_to(snakemake.log[0])

import logging  # noqa: E402

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.sampling.inpaint import inpaint_panels  # noqa: E402
from mame.sampling.sweep import load_pipeline  # noqa: E402

torch.set_num_threads(snakemake.threads)
lesions = pd.concat(
    [pd.read_csv(p, keep_default_na=False) for p in snakemake.input.lesions], ignore_index=True
)
healthy = pd.concat(
    [pd.read_csv(p, keep_default_na=False) for p in snakemake.input.healthy], ignore_index=True
)
held_out = healthy[healthy["split"] == "holdout"].sample(frac=1.0, random_state=0)
if held_out.empty:  # tiny datasets may hold out no patient at all
    logging.warning("no held-out healthy image: painting lesions into training images instead")
    held_out = healthy.sample(frac=1.0, random_state=0)
settings = snakemake.params.sampling
rows = inpaint_panels(
    load_pipeline(snakemake.input.pipeline, inpainting=True),
    held_out["image"].tolist(),
    lesions[lesions["split"] == "train"]["boxes"].tolist(),
    snakemake.params.panels,
    snakemake.output.panels,
    seed=settings["seed"],
    prompt=snakemake.params.prompt,
    steps=settings["steps"],
)
pd.DataFrame(rows).assign(model=snakemake.wildcards.model).to_csv(snakemake.output.table, index=False)
