"""Rule fidelity: accuracy of real-trained attribute classifiers on the samples, per guidance."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.evaluation.fidelity import fidelity_by_guidance  # noqa: E402
from mame.io import read_manifests  # noqa: E402

samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
real = read_manifests(snakemake.input.real)
fidelity_by_guidance(samples, real).assign(model=snakemake.wildcards.model).to_csv(
    snakemake.output[0], index=False
)
