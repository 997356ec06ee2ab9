"""Rule memorization: nearest training image of every sample and of every held-out real image."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.evaluation.memorization import memorization_table  # noqa: E402
from mame.io import read_manifests  # noqa: E402

samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
real = read_manifests(snakemake.input.real)
table = memorization_table(
    samples, real[real["split"] == "train"], real[real["split"] == "holdout"], snakemake.params.threshold
)
table.assign(model=snakemake.wildcards.model).to_csv(snakemake.output[0], index=False)
