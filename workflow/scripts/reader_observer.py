"""Rule reader_observer: the automated observer's ratings of the kit (a model, not a radiologist)."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mame.io import in_split, read_manifests  # noqa: E402
from mame.reader_study.kit import image_shape  # noqa: E402
from mame.reader_study.observer import observer_ratings, observer_training_samples  # noqa: E402

key = pd.read_csv(snakemake.input.key, keep_default_na=False)
side = image_shape(next(Path(snakemake.input.kit, "images").glob("*.png")))
real = read_manifests(snakemake.input.real)
samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
ratings = observer_ratings(
    key,
    side,
    in_split(real)["image"].tolist(),
    observer_training_samples(key, samples),
    seed=snakemake.params.seed,
)
ratings.to_csv(snakemake.output[0], index=False)
