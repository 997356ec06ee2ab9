"""Rule report: assemble results/report.html from the stages' tables and figures, with provenance.
Every input is passed by its name in the rule's input: a swapped pair cannot land under the wrong caption."""

from mame.logs import log_to

log_to(snakemake.log[0])

from mame.report import sections  # noqa: E402
from mame.report.provenance import provenance  # noqa: E402
from mame.report.render import write_report  # noqa: E402

inputs, params = snakemake.input, snakemake.params


def per_model(models: list[str], files) -> dict[str, str]:
    """One input file per model, in the order the rule expanded them."""
    return dict(zip(models, files, strict=True))


stages = {
    "Data": sections.data_sections(
        dataset_table=inputs.dataset_table,
        rejects=inputs.rejects,
        raw_vs_processed=inputs.raw_vs_processed,
        image_mask=inputs.image_mask,
        image_prompt=inputs.image_prompt,
        format_note=sections.image_format(params.config["convert"], list(inputs.samples)),
        audits=per_model(params.datasets, inputs.audits),
        dataset_notes=inputs.dataset_notes,
    )
}
if params.models:
    stages["Training"] = sections.training_sections(
        loss_curves=inputs.loss_curves,
        loss_table=inputs.loss_table,
        validation=per_model(params.models, inputs.validation),
        metrics=inputs.validation_metrics if params.validation_metrics else "",
    )
if params.finetuned:
    stages["Guidance"] = [
        *sections.guidance_grid_sections(
            grids=per_model(params.finetuned, inputs.guidance_grids),
            samples=per_model(params.finetuned, inputs.samples),
        ),
        *sections.msssim_sections(
            table=inputs.msssim_table, contrasts=inputs.msssim_contrasts, per_model=list(inputs.diversity)
        ),
        sections.separability_section(table=inputs.separability_table),
        sections.distribution_section(
            table=inputs.distribution_table,
            figure=inputs.distribution_figure,
            inception=inputs.inception_table,
        ),
        *sections.fidelity_sections(
            table=inputs.fidelity_table,
            confusion=inputs.confusion_table,
            tradeoff=inputs.tradeoff,
            confusion_guidance=params.reader_guidance,
        ),
    ]
later = []
if params.fusion_models:
    later += sections.extrapolation_sections(
        agreements=per_model(params.fusion_models, inputs.agreement),
        figures=per_model(params.fusion_models, inputs.extrapolation_figures),
    )
if params.inpaint_models:
    later += sections.inpainting_sections(
        tables=per_model(params.inpaint_models, inputs.inpainting),
        figures=per_model(params.inpaint_models, inputs.inpainting_figures),
    )
    later += sections.full_field_inpainting_sections(
        tables=per_model(params.inpaint_models, inputs.full_field_inpainting),
        validations=per_model(params.inpaint_models, inputs.full_field_validation),
        figures=per_model(params.inpaint_models, inputs.full_field_figures),
    )
if later:
    stages["Concept extrapolation and inpainting"] = later
if params.finetuned:
    stages["Reader study"] = sections.reader_study_sections(
        readers=inputs.reader_rocs,
        pooled=inputs.reader_pooled,
        power=inputs.reader_power,
        summary=inputs.reader_table,
        key=inputs.reader_key,
        warnings=inputs.reader_warnings,
        roc=inputs.roc_figure,
    )
    stages["Privacy"] = [
        sections.memorization_section(
            histograms=inputs.memorization_histograms, summary=inputs.memorization_table
        ),
        sections.copy_detection_section(table=inputs.copy_table),
    ]
if params.utility:
    stages["Downstream utility"] = sections.utility_sections(
        table=inputs.utility_table, figure=inputs.utility_figure, runs=inputs.utility_runs
    )
if params.superres:
    stages["Super-resolution"] = [
        sections.superres_section(
            table=inputs.superres_table, figure=inputs.superres_figure, samples=list(inputs.superres_samples)
        ),
        sections.full_field_distribution_section(table=inputs.full_field_distribution),
    ]
if params.experiments:
    stages["Experiments"] = [
        sections.experiments_section(table=inputs.experiments, figure=inputs.experiments_figure)
    ]
if params.exported:
    stages["Export"] = sections.export_sections(summaries=per_model(params.exported, inputs.dicom_exports))
write_report(snakemake.output.html, stages, provenance(params.config, params.benchmarks))
