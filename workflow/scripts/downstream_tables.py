"""Rule downstream_tables: every utility experiment's summary as paper tables (CSV, Markdown, LaTeX), the
per-run table, and the AUC-against-real-share figure."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mame.evaluation.downstream import skipped_notes  # noqa: E402
from mame.evaluation.figures import utility_figure  # noqa: E402
from mame.io import write_tables  # noqa: E402
from mame.plotting import save_png  # noqa: E402

summary = pd.concat([pd.read_csv(path) for path in snakemake.input.summaries], ignore_index=True)
summary["skipped"] = skipped_notes(summary)
keys = ["task", "arm", "guidance", "real_fraction"]
write_tables(summary.round(4).set_index(keys), Path(snakemake.output.table).with_suffix(""))
runs = pd.concat([pd.read_csv(path) for path in snakemake.input.runs], ignore_index=True)
runs.round(4).to_csv(snakemake.output.runs, index=False)
save_png(utility_figure(summary[summary["skipped"] == ""]), snakemake.output.figure)
