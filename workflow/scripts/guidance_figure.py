"""Rule guidance_figure: the first seed of every prompt at every guidance scale of one model."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.plotting import save_png  # noqa: E402
from mame.sampling.figures import guidance_grid  # noqa: E402

samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
save_png(guidance_grid(samples, snakemake.wildcards.model), snakemake.output[0])
