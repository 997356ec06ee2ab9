"""Rule memorization: nearest training image of every sample and of every held-out real image, by
thumbnail correlation, by aligned pixels (shifts, flip) and in the domain feature space; thresholds
calibrated on held-out real images; planted copies checked."""

from mame.logs import log_to

log_to(snakemake.log[0])

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from mame.evaluation.copies import copy_scores, detection_rates  # noqa: E402
from mame.evaluation.encoder import FEATURES, TrainedEncoder  # noqa: E402
from mame.evaluation.memorization import memorization_table  # noqa: E402
from mame.io import read_manifests, read_pixels  # noqa: E402

torch.set_num_threads(1)
samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
real = read_manifests(snakemake.input.real).drop_duplicates("image")
train, holdout = real[real["split"] == "train"], real[real["split"] == "holdout"]
table = memorization_table(samples, train, holdout, snakemake.params.threshold)
encoder = TrainedEncoder.load(snakemake.input.encoder)
images = {
    name: [read_pixels(p) for p in frame[column]]
    for name, frame, column in (
        ("samples", samples, "file"),
        ("holdout", holdout, "image"),
        ("train", train, "image"),
    )
}
features = {name: encoder.embed_images(v) if v else np.zeros((0, FEATURES)) for name, v in images.items()}
scores, thresholds = copy_scores(
    images["samples"],
    features["samples"],
    images["holdout"],
    features["holdout"],
    images["train"],
    features["train"],
)
table = pd.concat([table, scores.drop(columns="source")], axis=1)  # same order: samples, then held-out
table.assign(model=snakemake.wildcards.model).to_csv(snakemake.output.table, index=False)
planted = detection_rates(
    images["train"], features["train"], images["holdout"], features["holdout"], encoder.embed_images
)
copies = pd.concat([thresholds.assign(planted="none (samples)"), planted], ignore_index=True)
copies.assign(model=snakemake.wildcards.model).to_csv(snakemake.output.copies, index=False)
