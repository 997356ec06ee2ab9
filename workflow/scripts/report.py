"""Rule report: assemble results/report.html from the stages' tables and images."""

from mame.logs import log_to

log_to(snakemake.log[0])

import pandas as pd  # noqa: E402

from mame.report.provenance import provenance  # noqa: E402
from mame.report.render import write_figures, write_report  # noqa: E402
from mame.report.sections import (  # noqa: E402
    DatasetFiles,
    data_sections,
    extrapolation_sections,
    guidance_sections,
    inpainting_sections,
    privacy_sections,
    reader_study_sections,
    training_sections,
)

datasets = [
    DatasetFiles(name, index, healthy, lesions)
    for name, index, healthy, lesions in zip(
        snakemake.params.datasets,
        snakemake.input.index,
        snakemake.input.healthy,
        snakemake.input.lesions,
        strict=True,
    )
]
stages = {
    "Data": data_sections(
        datasets,
        pd.read_csv(snakemake.input.dataset_table, index_col=0),
        pd.read_csv(snakemake.input.rejects),
        snakemake.params.examples,
    )
}
models = {
    name: (log, folder)
    for name, log, folder in zip(
        snakemake.params.models, snakemake.input.training_logs, snakemake.input.validation, strict=True
    )
}
if models:
    stages["Training"] = training_sections(models)
if snakemake.params.finetuned:
    stages["Guidance"] = guidance_sections(
        dict(zip(snakemake.params.finetuned, snakemake.input.samples, strict=True)),
        snakemake.input.diversity,
        snakemake.input.fidelity,
        pd.read_csv(snakemake.input.msssim_table, index_col=0),
        snakemake.input.separability,
    )
if snakemake.params.fusion_models:
    stages["Concept extrapolation and inpainting"] = extrapolation_sections(
        dict(zip(snakemake.params.fusion_models, snakemake.input.extrapolation, strict=True))
    )
if snakemake.params.inpaint_models:
    stages.setdefault("Concept extrapolation and inpainting", []).extend(
        inpainting_sections(
            dict(zip(snakemake.params.inpaint_models, snakemake.input.inpainting, strict=True))
        )
    )
if snakemake.params.finetuned:
    roc, points, pooled, power, key, warnings = snakemake.input.reader_study
    stages["Reader study"] = reader_study_sections(
        roc, points, pooled, power, snakemake.input.reader_table, key, warnings
    )
if snakemake.params.finetuned:
    stages["Privacy"] = privacy_sections(
        dict(zip(snakemake.params.finetuned, snakemake.input.memorization, strict=True)),
        pd.read_csv(snakemake.input.memorization_table, index_col=[0, 1]),
        snakemake.params.memorization_threshold,
    )
write_report(snakemake.output.html, stages, provenance(snakemake.params.config, snakemake.params.benchmarks))
write_figures(stages, snakemake.output.figures)
