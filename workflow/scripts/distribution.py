"""Rule distribution: FD, KID and precision / recall / density / coverage of one model's samples per
guidance, in the domain feature space, against its real training images, with the real-vs-real floor."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.evaluation.distribution import distribution_table  # noqa: E402
from mame.evaluation.encoder import TrainedEncoder  # noqa: E402
from mame.evaluation.inception import inception_fid  # noqa: E402
from mame.io import in_split, read_manifests  # noqa: E402

torch.set_num_threads(snakemake.threads)
encoder = TrainedEncoder.load(snakemake.input.encoder)
samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
real = read_manifests(snakemake.input.real).drop_duplicates("image")
features = {float(g): encoder.embed_paths(group["file"].tolist()) for g, group in samples.groupby("guidance")}
table = distribution_table(
    features,
    encoder.embed_paths(in_split(real)["image"].tolist()),
    encoder.embed_paths(in_split(real, "holdout")["image"].tolist()),
    draws=snakemake.params.draws,
)
table.assign(model=snakemake.wildcards.model).to_csv(snakemake.output.table, index=False)
fid = inception_fid(
    {float(g): group["file"].tolist() for g, group in samples.groupby("guidance")},
    in_split(real)["image"].tolist(),
    in_split(real, "holdout")["image"].tolist(),
    snakemake.params.inception_weights,
)
fid.assign(model=snakemake.wildcards.model).to_csv(snakemake.output.inception, index=False)
