# Hyperparameter grids (mame.experiments): every point is a fine-tuned model, sampled and evaluated as
# the study's; this compares each block's points with its reference model at the reader study's guidance.


rule experiments:
    input:
        distribution=expand("results/metrics/{model}/distribution.csv", model=EXPERIMENT_COMPARED),
        fidelity=expand("results/metrics/{model}/fidelity.csv", model=EXPERIMENT_COMPARED),
        msssim=expand("results/metrics/{model}/msssim.csv", model=EXPERIMENT_COMPARED),
        separability=expand("results/metrics/{model}/separability.csv", model=EXPERIMENT_COMPARED),
        utility=[f"results/metrics/experiments/{model}/utility_{task}/summary.csv" for model, task in EXPERIMENT_UTILITY],
    output:
        table=report("results/tables/experiments.csv", caption=caption("experiments"), category="Experiments"),
        markdown="results/tables/experiments.md",
        latex="results/tables/experiments.tex",
        figure=report(
            "results/figures/experiments/experiments.png", caption=caption("experiments"), category="Experiments"
        ),
    log:
        "logs/tables/experiments.log",
    benchmark:
        "benchmarks/tables/experiments.tsv"
    params:
        rows=experiment_rows(),
        models=EXPERIMENT_COMPARED,
        utility=[list(pair) for pair in EXPERIMENT_UTILITY],
        guidance=READER_GUIDANCE,
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/experiments.py"


rule experiment_utility:
    input:
        unpack(lambda wildcards: task_inputs(wildcards.task, wildcards.model)),
    output:
        runs="results/metrics/experiments/{model}/utility_{task}/runs.csv",
        summary="results/metrics/experiments/{model}/utility_{task}/summary.csv",
    log:
        "logs/metrics/experiments/{model}_utility_{task}.log",
    benchmark:
        "benchmarks/metrics/experiments/{model}_utility_{task}.tsv"
    params:
        settings=experiment_utility_params,
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    wildcard_constraints:
        model="|".join(EXPERIMENT_COMPARED) or "^$",
        task="|".join(UTILITY_TASKS) or "^$",
    script:
        "../scripts/downstream.py"
