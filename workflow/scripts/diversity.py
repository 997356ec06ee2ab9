"""Rule diversity: MS-SSIM among each (prompt, guidance)'s samples and among real images."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.evaluation.diversity import diversity_table, study_protocol  # noqa: E402
from mame.io import read_manifests  # noqa: E402

settings = snakemake.params.evaluation
samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
real = read_manifests(snakemake.input.real)
real = real[real["split"] == "train"]
diversity_table(samples, real, settings["real_images"], settings["bootstrap"]).to_csv(
    snakemake.output.table, index=False
)
study_protocol(samples, settings["study_pairs"]).to_csv(snakemake.output.study, index=False)
