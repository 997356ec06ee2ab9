"""Rule fusion_manifest: join datasets' healthy manifests with the vendor word in every caption."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.data.manifest import fusion_manifest, write_metadata_jsonl  # noqa: E402

healthy = {
    name: pd.read_csv(path, keep_default_na=False)
    for name, path in zip(snakemake.params.datasets, snakemake.input.healthy, strict=True)
}
fused = fusion_manifest(healthy, snakemake.params.attributes)
fused.to_csv(snakemake.output.healthy, index=False)
write_metadata_jsonl(fused, snakemake.output.metadata)
