# Hyperparameter grids (mame.experiments): every point is a fine-tuned model, sampled and evaluated as
# the study's; this compares each block's points with its reference model at the reader study's guidance.


rule experiments:
    input:
        distribution=expand("results/metrics/{model}/distribution.csv", model=EXPERIMENT_COMPARED),
        fidelity=expand("results/metrics/{model}/fidelity.csv", model=EXPERIMENT_COMPARED),
        msssim=expand("results/metrics/{model}/msssim.csv", model=EXPERIMENT_COMPARED),
        separability=expand("results/metrics/{model}/separability.csv", model=EXPERIMENT_COMPARED),
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
        guidance=READER_GUIDANCE,
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/experiments.py"
