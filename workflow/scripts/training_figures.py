"""Rule training_figures: loss curves and the loss table of every model, validation grids over training."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402

from mame.io import write_tables  # noqa: E402
from mame.plotting import save_png  # noqa: E402
from mame.training.figures import (  # noqa: E402
    loss_curves,
    loss_summary,
    validation_metrics_figure,
    write_validation_figure,
)

models = snakemake.params.models
logs = {name: pd.read_csv(path) for name, path in zip(models, snakemake.input.logs, strict=True)}
save_png(loss_curves(logs), snakemake.output.curves)
phases = {name: pd.read_csv(path) for name, path in zip(models, snakemake.input.phases, strict=True)}
write_tables(loss_summary(logs, phases), Path(snakemake.output.table).with_suffix(""))
for folder, figure in zip(snakemake.input.validation, snakemake.output.validation, strict=True):
    write_validation_figure(folder, figure)
# validation metrics (models.train.validation_metrics), beside each training log where a run kept them
kept = {
    name: Path(path).parent / "validation_metrics.csv"
    for name, path in zip(models, snakemake.input.logs, strict=True)
}
metrics = {name: pd.read_csv(path) for name, path in kept.items() if path.is_file()}
save_png(validation_metrics_figure(metrics), snakemake.output.metrics)
