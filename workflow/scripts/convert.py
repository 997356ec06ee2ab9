"""Rule convert_shard: one shard of the index -> processed PNGs + a table of what was made."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.convert import ConvertSettings, convert_shard, shard_slice  # noqa: E402

index = pd.read_csv(snakemake.input.index, dtype=str, keep_default_na=False)
rows = shard_slice(index, int(snakemake.wildcards.shard), snakemake.params.shard_size)
converted, rejects = convert_shard(
    rows, snakemake.output.images, ConvertSettings.from_dict(snakemake.params.settings)
)
converted.to_csv(snakemake.output.table, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
