"""Rule export_dicom: every sample of a model's sweep as a validated DICOM Secondary Capture."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.export.sweep import export_sweep  # noqa: E402

samples = pd.read_csv(snakemake.input.samples, keep_default_na=False)
export_sweep(samples, snakemake.output.folder, snakemake.output.table, snakemake.output.summary)
