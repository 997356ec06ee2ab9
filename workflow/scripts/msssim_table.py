"""Rule msssim_table: the study's MS-SSIM-by-guidance table for all models (CSV, Markdown, LaTeX)."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.diversity import wide_table  # noqa: E402
from mame.tables import write_latex, write_markdown  # noqa: E402

table = pd.concat([pd.read_csv(p, keep_default_na=False) for p in snakemake.input], ignore_index=True)
wide = wide_table(table)
wide.to_csv(snakemake.output.csv)
write_markdown(wide, snakemake.output.markdown)
write_latex(wide, snakemake.output.latex)
