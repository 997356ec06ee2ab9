"""Rule evaluation_tables: fidelity, separability and memorization of all models as paper tables."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

from mame.tables import write_tables  # noqa: E402
from mame.training_data import read_manifests  # noqa: E402

fidelity = (
    read_manifests(snakemake.input.fidelity, column=None)
    .round(3)
    .set_index(["model", "attribute", "guidance"])
)
write_tables(fidelity, Path(snakemake.output.fidelity).with_suffix(""))
separability = (
    read_manifests(snakemake.input.separability, column=None).round(3).set_index(["model", "guidance"])
)
write_tables(separability, Path(snakemake.output.separability).with_suffix(""))
memorization = read_manifests(snakemake.input.memorization, column=None)
flagged = memorization["flagged"].astype(str).isin(["True", "true", "1"])
summary = (
    memorization.assign(flagged=flagged)
    .groupby(["model", "source"])
    .agg(
        images=("correlation", "size"),
        median=("correlation", "median"),
        p95=("correlation", lambda c: c.quantile(0.95)),
        flagged=("flagged", "sum"),
    )
    .round(3)
)
write_tables(summary, Path(snakemake.output.memorization).with_suffix(""))
