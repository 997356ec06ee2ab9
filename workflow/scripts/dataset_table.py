"""Rule dataset_table: the study's dataset table (CSV + Markdown) and rejects counted by reason."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mame.data.manifest import dataset_table, rejects_by_reason  # noqa: E402
from mame.io import write_tables  # noqa: E402

names = snakemake.params.datasets
counts = {
    name: (len(pd.read_csv(healthy)), len(pd.read_csv(lesions)))
    for name, healthy, lesions in zip(names, snakemake.input.healthy, snakemake.input.lesions, strict=True)
}
table = dataset_table(counts)
write_tables(table, Path(snakemake.output.csv).with_suffix(""))
rejects = {
    name: pd.read_csv(path, keep_default_na=False)
    for name, path in zip(names, snakemake.input.rejects, strict=True)
}
rejects_by_reason(rejects).to_csv(snakemake.output.rejects, index=False)
