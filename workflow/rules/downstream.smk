# Does synthetic data help? Small CNN classifiers trained on real, synthetic and mixed images, scored on
# held-out real images (rules downstream_task per configured task, downstream_cross_vendor, downstream_tables).

rule downstream_task:
    input:
        unpack(utility_inputs),
    output:
        runs="results/metrics/utility/{task}/runs.csv",
        summary="results/metrics/utility/{task}/summary.csv",
    log:
        "logs/metrics/utility_{task}.log",
    benchmark:
        "benchmarks/metrics/utility_{task}.tsv"
    params:
        settings=lambda wildcards: utility_params(config["utility"]["tasks"][wildcards.task]),
    conda:
        "../../envs/mame.yaml"
    priority: 3  # the longest evaluation jobs first (see concept_extrapolation)
    resources:
        mem_mb=2000,
        runtime=60,
    wildcard_constraints:
        task="|".join(UTILITY_TASKS) or "^$",
    script:
        "../scripts/downstream.py"


rule downstream_cross_vendor:
    input:
        healthy=f"results/data/{CROSS_VENDOR['train']}/healthy.csv" if CROSS_VENDOR else [],
        other=f"results/data/{CROSS_VENDOR['test']}/healthy.csv" if CROSS_VENDOR else [],
        samples=f"results/samples/{CROSS_VENDOR['model']}/samples.csv" if CROSS_VENDOR else [],
        images=f"results/samples/{CROSS_VENDOR['model']}/images" if CROSS_VENDOR else [],
    output:
        runs="results/metrics/utility/cross_vendor/runs.csv",
        summary="results/metrics/utility/cross_vendor/summary.csv",
    log:
        "logs/metrics/downstream_cross_vendor.log",
    benchmark:
        "benchmarks/metrics/downstream_cross_vendor.tsv"
    params:
        settings=utility_params(CROSS_VENDOR),
    conda:
        "../../envs/mame.yaml"
    priority: 3  # the longest evaluation jobs first (see concept_extrapolation)
    resources:
        mem_mb=2000,
        runtime=60,
    script:
        "../scripts/downstream.py"


rule downstream_tables:
    input:
        runs=expand("results/metrics/utility/{task}/runs.csv", task=UTILITY),
        summaries=expand("results/metrics/utility/{task}/summary.csv", task=UTILITY),
    output:
        table=report("results/tables/utility.csv", caption=caption("utility"), category="Utility"),
        runs="results/tables/utility_runs.csv",
        figure=report(
            "results/figures/evaluation/utility.png", caption=caption("utility"), category="Utility"
        ),
    log:
        "logs/tables/utility.log",
    benchmark:
        "benchmarks/tables/utility.tsv"
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/downstream_tables.py"
