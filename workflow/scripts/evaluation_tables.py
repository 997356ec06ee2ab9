"""Rule evaluation_tables: fidelity, separability and memorization of all models as paper tables, with
the fidelity-diversity trade-off and the memorization histograms."""

from mame.logs import log_to

log_to(snakemake.log[0])

from pathlib import Path  # noqa: E402

from mame.evaluation.figures import (  # noqa: E402
    distribution_figure,
    fidelity_and_diversity,
    memorization_histograms,
)
from mame.evaluation.memorization import memorization_summary  # noqa: E402
from mame.io import read_table, write_tables  # noqa: E402
from mame.plotting import save_png  # noqa: E402

fidelity = (
    read_table(snakemake.input.fidelity, "fidelity").round(3).set_index(["model", "attribute", "guidance"])
)
write_tables(fidelity, Path(snakemake.output.fidelity).with_suffix(""))
confusion = (
    read_table(snakemake.input.confusion, "fidelity")
    .round(3)
    .set_index(["model", "attribute", "guidance", "asked", "read"])
)
write_tables(confusion, Path(snakemake.output.confusion).with_suffix(""))
separability = (
    read_table(snakemake.input.separability, "separability").round(3).set_index(["model", "guidance"])
)
write_tables(separability, Path(snakemake.output.separability).with_suffix(""))
distribution = read_table(snakemake.input.distribution, "distribution")
write_tables(
    distribution.round(4).set_index(["model", "guidance"]),
    Path(snakemake.output.distribution).with_suffix(""),
)
save_png(distribution_figure(distribution), snakemake.output.distribution_figure)
inception = read_table(snakemake.input.inception, "distribution")
write_tables(inception.set_index(["model", "guidance"]), Path(snakemake.output.inception).with_suffix(""))
copies = read_table(snakemake.input.copies, "memorization").round(4)
write_tables(
    copies.set_index(["model", "detector", "planted"]), Path(snakemake.output.copies).with_suffix("")
)
summary = memorization_summary(read_table(snakemake.input.memorization, "memorization"))
write_tables(summary, Path(snakemake.output.memorization).with_suffix(""))
diversity = read_table(snakemake.input.diversity, "diversity")
fidelity_rows = read_table(snakemake.input.fidelity, "fidelity")
save_png(fidelity_and_diversity(diversity, fidelity_rows, distribution), snakemake.output.tradeoff)
nearest = read_table(snakemake.input.memorization, "memorization", "model")
per_model = dict(tuple(nearest.groupby("model", sort=False)))
save_png(memorization_histograms(per_model), snakemake.output.histograms)
