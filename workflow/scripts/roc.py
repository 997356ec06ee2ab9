"""Rule roc: every reader's ratings joined to the key by case id; ROC, CIs, pooled test, power."""

from mame.logs import log_to

log_to(snakemake.log[0])

import logging  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mame.io import write_tables  # noqa: E402
from mame.plotting import save_png  # noqa: E402
from mame.reader_study.analysis import analyse  # noqa: E402
from mame.reader_study.figures import roc_curves  # noqa: E402
from mame.stats.planning import Planning  # noqa: E402

key = pd.read_csv(snakemake.input.key, keep_default_na=False)
files = list(snakemake.input.ratings)
observer = files[0] if snakemake.params.observer else None
names = [None] * (1 if observer else 0) + list(snakemake.params.readers)
result = analyse(
    key,
    files,
    names,
    observer=observer,
    margin=snakemake.params.margin,
    resamples=snakemake.params.bootstrap,
    seed=snakemake.params.seed,
    planning=Planning(**snakemake.params.planning),
)
for line in result.warnings:
    logging.warning(line)
result.readers.to_csv(snakemake.output.readers, index=False)
result.points.to_csv(snakemake.output.points, index=False)
result.pooled.to_csv(snakemake.output.pooled, index=False)
result.power.to_csv(snakemake.output.power, index=False)
with open(snakemake.output.warnings, "w") as handle:
    handle.writelines(line + "\n" for line in result.warnings)
write_tables(result.summary, Path(snakemake.output.table).with_suffix(""))
save_png(roc_curves(result.readers, result.points), snakemake.output.figure)
