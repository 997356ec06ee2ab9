"""Rule convert_shard: one shard of the index -> processed PNGs + a table of what was made."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

from mame.data.convert import ConvertSettings, convert_index_shard  # noqa: E402

Path(snakemake.output.full).mkdir(parents=True, exist_ok=True)  # empty when convert.full_field is off
converted, rejects = convert_index_shard(
    snakemake.input.index,
    int(snakemake.wildcards.shard),
    snakemake.params.shard_size,
    snakemake.output.images,
    ConvertSettings.from_dict(snakemake.params.settings),
    full_dir=snakemake.output.full,
)
converted.to_csv(snakemake.output.table, index=False)
rejects.to_csv(snakemake.output.rejects, index=False)
