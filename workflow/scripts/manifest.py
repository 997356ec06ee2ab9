"""Rule manifest: converted shards -> healthy/lesion manifests, masks and the dataset's rejects."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

from mame.data.manifest import ManifestSettings, write_manifests  # noqa: E402

write_manifests(
    snakemake.input.shards,
    ManifestSettings.from_dict(snakemake.params.settings),
    Path(snakemake.output.healthy).parent,
    [snakemake.input.index_rejects, *snakemake.input.shard_rejects],
)
