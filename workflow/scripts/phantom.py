"""Rule phantom: write one phantom dataset tree (the demo's raw DICOMs)."""

from mame.logs import log_to

log_to(snakemake.log[0])

from mame.phantom.generate import PhantomSettings, write_phantom  # noqa: E402

write_phantom(snakemake.output[0], PhantomSettings(**snakemake.params.settings), workers=snakemake.threads)
