"""Rule experiments: each hyperparameter grid's points against their reference model, at one guidance
(table, figure)."""

from mame.logs import log_to

log_to(snakemake.log[0])

from mame.evaluation.experiments import comparison_table, experiments_figure  # noqa: E402
from mame.io import read_table, write_tables  # noqa: E402
from mame.plotting import save_png  # noqa: E402

inputs, params = snakemake.input, snakemake.params
tables = {
    model: {
        "distribution": read_table([inputs.distribution[i]], "distribution"),
        "fidelity": read_table([inputs.fidelity[i]], "fidelity"),
        "msssim": read_table([inputs.msssim[i]], "msssim"),
        "separability": read_table([inputs.separability[i]], "separability"),
    }
    for i, model in enumerate(params.models)
}
for (model, task), path in zip(params.utility, inputs.utility, strict=True):
    tables[model].setdefault("utility", {})[task] = read_table([path], "utility")
table = comparison_table(params.rows, tables, float(params.guidance))
write_tables(table.set_index(["experiment", "model"]).round(4), snakemake.output.table.removesuffix(".csv"))
save_png(experiments_figure(table), snakemake.output.figure)
