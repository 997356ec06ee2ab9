"""Rule domain_encoder: the CNN whose features the distribution metrics and the feature-space
memorization check compare, trained on the real training images only."""

from mame.logs import log_to

log_to(snakemake.log[0])

import torch  # noqa: E402

from mame.evaluation.encoder import train_encoder  # noqa: E402
from mame.io import in_split, read_manifests  # noqa: E402

torch.set_num_threads(snakemake.threads)
torch.manual_seed(0)
real = read_manifests(snakemake.input.manifests)
real = in_split(real).drop_duplicates("image")
train_encoder(real, steps=snakemake.params.steps).save(snakemake.output.folder)
