"""Rule manifest: converted shards -> healthy/lesion manifests, masks and the dataset's rejects."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.data.manifest import (  # noqa: E402
    ManifestSettings,
    build_manifests,
    read_converted,
    write_metadata_jsonl,
)

converted = read_converted(snakemake.input.shards)
healthy, lesions, excluded = build_manifests(
    converted, ManifestSettings.from_dict(snakemake.params.settings), snakemake.output.masks
)
converted.drop(columns=["findings"]).to_csv(snakemake.output.images, index=False)
healthy.to_csv(snakemake.output.healthy, index=False)
lesions.to_csv(snakemake.output.lesions, index=False)
write_metadata_jsonl(healthy, snakemake.output.metadata)
index_rejects = pd.read_csv(snakemake.input.index_rejects, keep_default_na=False).drop(columns=["source"])
shard_rejects = [pd.read_csv(path, keep_default_na=False) for path in snakemake.input.shard_rejects]
rejects = pd.concat([index_rejects, *shard_rejects, excluded], ignore_index=True)
rejects.to_csv(snakemake.output.rejects, index=False)
