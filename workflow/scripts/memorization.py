"""Rule memorization: nearest training image of every sample and of every held-out real image, by
thumbnail correlation, by aligned pixels (shifts, flip) and in the domain feature space; thresholds
calibrated on held-out real images; planted copies checked."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.evaluation.copies import copy_scores, detection_rates, thumbnails_and_features  # noqa: E402
from mame.evaluation.encoder import TrainedEncoder  # noqa: E402
from mame.evaluation.memorization import memorization_table  # noqa: E402
from mame.io import in_split, read_manifests  # noqa: E402

torch.set_num_threads(1)
samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
real = read_manifests(snakemake.input.real).drop_duplicates("image")
train, holdout = in_split(real), in_split(real, "holdout")
table = memorization_table(samples, train, holdout, snakemake.params.threshold)
encoder = TrainedEncoder.load(snakemake.input.encoder)
paths = {
    "samples": samples["file"].tolist(),
    "holdout": holdout["image"].tolist(),
    "train": train["image"].tolist(),
}
thumbs, features = {}, {}
for name, files in paths.items():  # each file read once for both detectors
    thumbs[name], features[name] = thumbnails_and_features(files, encoder)
scores, thresholds = copy_scores(
    paths["samples"],
    features["samples"],
    paths["holdout"],
    features["holdout"],
    paths["train"],
    features["train"],
    thumbs=thumbs,
)
table = pd.concat([table, scores.drop(columns="source")], axis=1)  # same order: samples, then held-out
table.assign(model=snakemake.wildcards.model).to_csv(snakemake.output.table, index=False)
planted = detection_rates(
    paths["train"],
    features["train"],
    paths["holdout"],
    features["holdout"],
    encoder.embed_images,
    train_thumbs=thumbs["train"],
    holdout_thumbs=thumbs["holdout"],
)
copies = pd.concat([thresholds.assign(planted="none (samples)"), planted], ignore_index=True)
copies.assign(model=snakemake.wildcards.model).to_csv(snakemake.output.copies, index=False)
