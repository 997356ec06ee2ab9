# MAM-E pipeline: raw mammography DICOMs -> processed images and manifests -> report.
# The demo runs with `snakemake --cores all results/report.html`; see README.md.
from snakemake.utils import min_version

from mame.config import check_config

min_version("9.0")


# A config file given with --configfile is complete by itself (config/thesis.yaml is): it replaces
# the demo default instead of being merged over it, so no demo dataset leaks into a real run.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# the schema (defaults filled in) and every cross-key check, the same gate as `mame check-config`
check_config(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/sample.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/reader_study.smk"
include: "workflow/rules/downstream.smk"
include: "workflow/rules/export.smk"
include: "workflow/rules/superres.smk"
include: "workflow/rules/experiments.smk"
include: "workflow/rules/report.smk"


# cheap aggregation steps run on the submitting node, not as cluster jobs
localrules:
    all,
    manifest,
    fusion_manifest,
    dataset_table,
    data_figures,
    training_figures,
    guidance_figure,
    msssim_table,
    evaluation_tables,
    report,
    roc,
    reader_kit,
    downstream_tables,
    tables,
    experiments,


rule all:
    input:
        "results/report.html",
        data_outputs(),
        model_outputs(),
    default_target: True


# `snakemake --cores all tables`: the study's tables (and ours) without the report
rule tables:
    input:
        "results/tables/dataset_table.csv",
        "results/tables/msssim.csv",
        "results/tables/fidelity.csv",
        "results/tables/reader_study.csv",
        "results/tables/superres.csv" if SUPERRES else [],
        "results/tables/full_field_distribution.csv" if SUPERRES else [],
        "results/tables/experiments.csv" if EXPERIMENT_POINTS else [],
