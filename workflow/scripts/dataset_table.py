"""Rule dataset_table: the study's dataset table (CSV + Markdown) and rejects counted by reason."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mame.data.manifest import dataset_notes, dataset_table, healthy_by_rule, rejects_by_reason  # noqa: E402
from mame.io import write_tables  # noqa: E402

names = snakemake.params.datasets


def tables(paths) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(path, keep_default_na=False) for name, path in zip(names, paths, strict=True)}


healthy, lesions = tables(snakemake.input.healthy), tables(snakemake.input.lesions)
rejects, indexes = tables(snakemake.input.rejects), tables(snakemake.input.index)
counts = {name: (len(healthy[name]), len(lesions[name])) for name in names}
# both healthy counts where the dataset records a screening status (OMI-DB's NBSS)
rules = {
    name: healthy_by_rule(healthy[name], rejects[name], snakemake.params.healthy)
    for name in names
    if (indexes[name]["status"] != "").any()
}
table = dataset_table(counts, rules)
notes = dataset_notes(indexes)
notes.to_csv(snakemake.output.notes, index=False)
write_tables(table, Path(snakemake.output.csv).with_suffix(""))
with open(snakemake.output.markdown, "a") as markdown:
    markdown.writelines(f"\nNote ({row.dataset}): {row.note}\n" for row in notes.itertuples(index=False))
rejects_by_reason(rejects).to_csv(snakemake.output.rejects, index=False)
