"""Rule upscale_samples: a model's sweep samples enlarged to the full field by the upscaler, tiled."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.sampling.upscale import UpscaleSettings, load_upscaler, upscale_samples  # noqa: E402

torch.set_num_threads(snakemake.threads)
superres = snakemake.params.superres
table = upscale_samples(
    load_upscaler(snakemake.input.upscaler),
    pd.read_csv(snakemake.input.samples, keep_default_na=False),
    superres["samples"],
    snakemake.params.guidance,
    snakemake.output.images,
    UpscaleSettings.from_config(superres, seed=snakemake.params.seed),
)
table.to_csv(snakemake.output.table, index=False)
