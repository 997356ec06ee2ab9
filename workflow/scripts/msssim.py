"""Rule diversity: MS-SSIM among each (prompt, guidance)'s samples and among real images, and each
guidance against the lowest, paired by seed."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.evaluation.diversity import (  # noqa: E402
    diversity_table,
    guidance_contrasts,
    sample_matrices,
    study_protocol,
)
from mame.io import in_split, read_manifests  # noqa: E402

settings = snakemake.params.evaluation
samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
real = read_manifests(snakemake.input.real)
real = in_split(real)
matrices = sample_matrices(samples)
diversity_table(samples, real, settings["real_images"], settings["bootstrap"], matrices=matrices).to_csv(
    snakemake.output.table, index=False
)
guidance_contrasts(matrices, settings["bootstrap"]).to_csv(snakemake.output.contrasts, index=False)
study_protocol(samples, settings["study_pairs"]).to_csv(snakemake.output.study, index=False)
