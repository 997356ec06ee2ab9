"""Rule separability: cross-validated real-vs-synthetic AUC of one model, per guidance scale."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.evaluation.separability import separability_by_guidance  # noqa: E402
from mame.io import in_split, read_manifests  # noqa: E402

samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
real = read_manifests(snakemake.input.real)
table = separability_by_guidance(samples, in_split(real))
table.assign(model=snakemake.wildcards.model).to_csv(snakemake.output[0], index=False)
