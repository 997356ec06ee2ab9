"""Rule msssim_table: the study's MS-SSIM-by-guidance table for all models (CSV, Markdown, LaTeX)."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

from mame.evaluation.diversity import wide_table  # noqa: E402
from mame.io import read_table, write_tables  # noqa: E402

wide = wide_table(read_table(snakemake.input.table, "diversity"))
write_tables(wide, Path(snakemake.output.csv).with_suffix(""))
contrasts = read_table(snakemake.input.contrasts, "diversity").round(4)
write_tables(
    contrasts.set_index(["model", "prompt", "guidance"]), Path(snakemake.output.contrasts).with_suffix("")
)
