"""Rule data_figures: raw vs processed with boxes, image-mask and image-prompt pairs of a seeded pick."""

from mame.logs import log_to

log_to(snakemake.log[0])

from mame.data.figures import write_data_figures  # noqa: E402

write_data_figures(
    snakemake.input.index,
    snakemake.input.healthy,
    snakemake.input.lesions,
    snakemake.params.examples,
    snakemake.output.raw_vs_processed,
    snakemake.output.image_mask,
    snakemake.output.image_prompt,
)
