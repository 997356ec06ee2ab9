"""Rule reader_kit: the blinded kit (images + offline page) and its separate key."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.io import read_manifests  # noqa: E402
from mame.reader_study.kit import KitSettings, draw_cases, kit_side, write_kit  # noqa: E402

settings = dict(snakemake.params.settings)
guidance = settings.pop("guidance")
settings = KitSettings(**settings)
real = read_manifests(snakemake.input.real)
samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
key = draw_cases(real, samples, guidance, settings)
write_kit(key, kit_side(key, settings.size), snakemake.output.kit, settings.title)
key.to_csv(snakemake.output.key, index=False)
