# Evaluation of the sweeps: MS-SSIM diversity, condition fidelity, memorization, separability,
# distribution metrics in a domain feature space, and their tables.


rule msssim:
    input:
        samples="results/samples/{model}/samples.csv",
        images="results/samples/{model}/images",
        real=lambda wildcards: model_manifests("finetune", wildcards.model),
    output:
        table="results/metrics/{model}/msssim.csv",
        study="results/metrics/{model}/msssim_study_protocol.csv",
        contrasts="results/metrics/{model}/msssim_guidance_contrasts.csv",
    log:
        "logs/metrics/{model}_msssim.log",
    benchmark:
        "benchmarks/metrics/{model}_msssim.tsv",
    params:
        evaluation=canonical(config["evaluation"]),
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    wildcard_constraints:
        model=FINETUNED_MODEL,
    script:
        "../scripts/msssim.py"


rule fidelity:
    input:
        samples="results/samples/{model}/samples.csv",
        images="results/samples/{model}/images",
        real=lambda wildcards: model_manifests("finetune", wildcards.model),
    output:
        fidelity="results/metrics/{model}/fidelity.csv",
        confusion="results/metrics/{model}/fidelity_confusion.csv",
    log:
        "logs/metrics/{model}_fidelity.log",
    benchmark:
        "benchmarks/metrics/{model}_fidelity.tsv",
    params:
        area_thresholds=config["manifest"]["area_thresholds"],
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=4000,
        runtime=60,
    wildcard_constraints:
        model=FINETUNED_MODEL,
    script:
        "../scripts/fidelity.py"


rule memorization:
    input:
        samples="results/samples/{model}/samples.csv",
        images="results/samples/{model}/images",
        real=lambda wildcards: model_manifests("finetune", wildcards.model),
        encoder="results/metrics/encoder",
    output:
        table="results/metrics/{model}/memorization.csv",
        copies="results/metrics/{model}/copy_detection.csv",
    log:
        "logs/metrics/{model}_memorization.log",
    benchmark:
        "benchmarks/metrics/{model}_memorization.tsv",
    params:
        threshold=config["evaluation"]["memorization_threshold"],
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    wildcard_constraints:
        model=FINETUNED_MODEL,
    script:
        "../scripts/memorization.py"


rule separability:
    input:
        samples="results/samples/{model}/samples.csv",
        images="results/samples/{model}/images",
        real=lambda wildcards: model_manifests("finetune", wildcards.model),
    output:
        "results/metrics/{model}/separability.csv",
    log:
        "logs/metrics/{model}_separability.log",
    benchmark:
        "benchmarks/metrics/{model}_separability.tsv",
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    wildcard_constraints:
        model=FINETUNED_MODEL,
    script:
        "../scripts/separability.py"


rule msssim_table:
    input:
        table=expand("results/metrics/{model}/msssim.csv", model=FINETUNE),
        contrasts=expand("results/metrics/{model}/msssim_guidance_contrasts.csv", model=FINETUNE),
    output:
        csv=report("results/tables/msssim.csv", caption=caption("msssim"), category="Guidance"),
        markdown="results/tables/msssim.md",
        latex="results/tables/msssim.tex",
        contrasts=report(
            "results/tables/msssim_guidance_contrasts.csv", caption=caption("msssim_contrasts"), category="Guidance"
        ),
    log:
        "logs/tables/msssim.log",
    benchmark:
        "benchmarks/tables/msssim.tsv",
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/msssim_table.py"


rule evaluation_tables:
    input:
        fidelity=expand("results/metrics/{model}/fidelity.csv", model=FINETUNE),
        confusion=expand("results/metrics/{model}/fidelity_confusion.csv", model=FINETUNE),
        separability=expand("results/metrics/{model}/separability.csv", model=FINETUNE),
        distribution=expand("results/metrics/{model}/distribution.csv", model=FINETUNE),
        inception=expand("results/metrics/{model}/inception_fid.csv", model=FINETUNE),
        memorization=expand("results/metrics/{model}/memorization.csv", model=FINETUNE),
        copies=expand("results/metrics/{model}/copy_detection.csv", model=FINETUNE),
        diversity=expand("results/metrics/{model}/msssim.csv", model=FINETUNE),
    output:
        fidelity=report("results/tables/fidelity.csv", caption=caption("fidelity_and_diversity"), category="Guidance"),
        confusion=report(
            "results/tables/fidelity_confusion.csv", caption=caption("fidelity_confusion"), category="Guidance"
        ),
        separability=report(
            "results/tables/separability.csv", caption=caption("separability"), category="Guidance"
        ),
        distribution=report(
            "results/tables/distribution.csv", caption=caption("distribution"), category="Guidance"
        ),
        inception="results/tables/inception_fid.csv",
        distribution_figure=report(
            "results/figures/evaluation/distribution.png",
            caption=caption("distribution"),
            category="Guidance",
        ),
        memorization=report(
            "results/tables/memorization.csv", caption=caption("memorization"), category="Privacy"
        ),
        copies=report("results/tables/copy_detection.csv", caption=caption("copy_detection"), category="Privacy"),
        tradeoff=report(
            "results/figures/evaluation/fidelity_and_diversity.png",
            caption=caption("fidelity_and_diversity"),
            category="Guidance",
        ),
        histograms=report(
            "results/figures/evaluation/memorization.png",
            caption=caption("memorization"),
            category="Privacy",
        ),
    log:
        "logs/tables/evaluation.log",
    benchmark:
        "benchmarks/tables/evaluation.tsv",
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/evaluation_tables.py"


rule domain_encoder:
    input:
        manifests=expand("results/data/{dataset}/healthy.csv", dataset=list(config["datasets"])),
    output:
        folder=directory("results/metrics/encoder"),
    log:
        "logs/metrics/encoder.log",
    benchmark:
        "benchmarks/metrics/encoder.tsv"
    params:
        steps=config["evaluation"]["encoder_steps"],
    conda:
        "../../envs/mame.yaml"
    # right after the base: a model with validation metrics cannot start training without it (at priority
    # 0 it waited behind the other fine-tunes, and the siemens model with it, 150 s of the demo)
    priority: 30
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/domain_encoder.py"


rule distribution:
    input:
        encoder="results/metrics/encoder",
        samples="results/samples/{model}/samples.csv",
        images="results/samples/{model}/images",
        real=lambda wildcards: model_manifests("finetune", wildcards.model),
    output:
        table="results/metrics/{model}/distribution.csv",
        inception="results/metrics/{model}/inception_fid.csv",
    log:
        "logs/metrics/{model}_distribution.log",
    benchmark:
        "benchmarks/metrics/{model}_distribution.tsv"
    params:
        draws=config["evaluation"]["distribution_draws"],
        inception_weights=config["evaluation"]["inception_weights"],
    conda:
        "../../envs/mame.yaml"
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=2000,
        runtime=30,
    wildcard_constraints:
        model=FINETUNED_MODEL,
    script:
        "../scripts/distribution.py"
