"""Rule report: assemble results/report.html from the stages' tables and figures, with provenance."""

from mame.logs import log_to

log_to(snakemake.log[0])

from mame.report.provenance import provenance  # noqa: E402
from mame.report.render import write_report  # noqa: E402
from mame.report.sections import (  # noqa: E402
    data_sections,
    export_sections,
    extrapolation_sections,
    guidance_sections,
    image_format,
    inpainting_sections,
    privacy_sections,
    reader_study_sections,
    training_sections,
    utility_sections,
)

inputs, params = snakemake.input, snakemake.params
stages = {
    "Data": data_sections(
        inputs.dataset_table,
        inputs.rejects,
        inputs.raw_vs_processed,
        inputs.image_mask,
        inputs.image_prompt,
        image_format(params.config["convert"], list(inputs.samples)),
        audits=dict(zip(params.datasets, inputs.audits, strict=True)),
        dataset_notes=inputs.dataset_notes,
    )
}
if params.models:
    stages["Training"] = training_sections(
        inputs.loss_curves, inputs.loss_table, dict(zip(params.models, inputs.validation, strict=True))
    )
if params.finetuned:
    stages["Guidance"] = guidance_sections(
        dict(zip(params.finetuned, inputs.guidance_grids, strict=True)),
        inputs.samples,
        inputs.diversity,
        inputs.msssim_table,
        inputs.msssim_contrasts,
        inputs.separability_table,
        inputs.distribution_table,
        inputs.distribution_figure,
        inputs.inception_table,
        inputs.fidelity_table,
        inputs.confusion_table,
        params.reader_guidance,
        inputs.tradeoff,
    )
later = []
if params.fusion_models:
    later += extrapolation_sections(
        {
            model: (agreement, figure)
            for model, agreement, figure in zip(
                params.fusion_models, inputs.agreement, inputs.extrapolation_figures, strict=True
            )
        }
    )
if params.inpaint_models:
    later += inpainting_sections(
        {
            model: (table, figure)
            for model, table, figure in zip(
                params.inpaint_models, inputs.inpainting, inputs.inpainting_figures, strict=True
            )
        }
    )
if later:
    stages["Concept extrapolation and inpainting"] = later
if params.finetuned:
    readers, pooled, power, key, warnings = inputs.reader_study
    stages["Reader study"] = reader_study_sections(
        readers, pooled, power, inputs.reader_table, key, warnings, inputs.roc_figure
    )
    stages["Privacy"] = privacy_sections(
        inputs.memorization_histograms, inputs.memorization_table, inputs.copy_table
    )
if params.utility:
    stages["Downstream utility"] = utility_sections(
        inputs.utility_table, inputs.utility_figure, inputs.utility_runs
    )
if params.exported:
    stages["Export"] = export_sections(dict(zip(params.exported, inputs.dicom_exports, strict=True)))
write_report(snakemake.output.html, stages, provenance(params.config, params.benchmarks))
