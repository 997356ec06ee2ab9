"""Rule manifest: converted shards -> healthy/lesion manifests, masks and the dataset's rejects."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.manifest import ManifestSettings, build_manifests, write_metadata_jsonl  # noqa: E402

settings = snakemake.params.settings
manifest_settings = ManifestSettings(
    vendor=settings["vendor"],
    prompt_attribute=settings["prompt_attribute"],
    area_thresholds=tuple(settings["area_thresholds"]),
    lesion_categories=tuple(settings["lesion_categories"]),
    holdout_fraction=settings["holdout_fraction"],
)
converted = pd.concat(
    [
        pd.read_csv(path, dtype={"density": str, "split": str}, keep_default_na=False)
        for path in snakemake.input.shards
    ],
    ignore_index=True,
)
healthy, lesions, excluded = build_manifests(converted, manifest_settings, snakemake.output.masks)
converted.drop(columns=["findings"]).to_csv(snakemake.output.images, index=False)
healthy.to_csv(snakemake.output.healthy, index=False)
lesions.to_csv(snakemake.output.lesions, index=False)
write_metadata_jsonl(healthy, snakemake.output.metadata)
index_rejects = pd.read_csv(snakemake.input.index_rejects, keep_default_na=False).drop(columns=["source"])
shard_rejects = [pd.read_csv(path, keep_default_na=False) for path in snakemake.input.shard_rejects]
rejects = pd.concat([index_rejects, *shard_rejects, excluded], ignore_index=True)
rejects.to_csv(snakemake.output.rejects, index=False)
