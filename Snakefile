# MAM-E pipeline: raw mammography DICOMs -> processed images and manifests -> report.
# The demo runs with `snakemake --cores all results/report.html`; see README.md.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "results/report.html",
        data_outputs(),
    default_target: True
