# Models: the tiny base (demo), fine-tuned text-to-image models, lesion-inpainting models.


wildcard_constraints:
    model=r"[a-z][a-z0-9_]*",


rule tiny_base:
    input:
        manifests=expand("results/data/{dataset}/{table}.csv", dataset=DATASETS, table=["healthy", "lesions"]),
    output:
        base=directory(TINY_DIR),
        inpainting=directory(TINY_INPAINT_DIR),
    log:
        "logs/models/tiny_base.log",
    benchmark:
        "benchmarks/models/tiny_base.tsv",
    params:
        tiny=canonical(config["models"]["tiny"]),
        vendors=model_vendors(),
    conda:
        "../../envs/mame.yaml"
    # everything else waits on the base: nothing may take a core from it. Snakemake's scheduler sums the
    # priorities of the jobs it starts together, so this exceeds any two one-core jobs ready beside it
    # (the domain encoder's 30 and the fusion manifest's 15)
    priority: 50
    threads: max(2, config["models"]["resources"]["threads"])
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=config["models"]["resources"]["runtime"],
        gpu=0,
    script:
        "../scripts/tiny_base.py"


rule random_base:
    output:
        base=directory("results/models/base/{family}-random"),
        inpainting=directory("results/models/base/{family}-random-inpainting"),
    log:
        "logs/models/random_base_{family}.log",
    benchmark:
        "benchmarks/models/random_base_{family}.tsv"
    wildcard_constraints:
        family="|".join(RANDOM_BASES),
    params:
        vendors=model_vendors(),
    conda:
        "../../envs/mame.yaml"
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=lambda wildcards: 48000 if wildcards.family in ("sdxl", "sana") else 16000,
        runtime=30,
        gpu=0,
    shell:
        '"$MAME_PYTHON" -m mame.cli random-base --family {wildcards.family} --out {output.base:q}'
        " --inpainting-out {output.inpainting:q}"
        " --vendors {params.vendors} > {log:q} 2>&1"


rule encode_latents:
    input:
        base=lambda wildcards: latent_base_input(wildcards.vae),
        manifest=lambda wildcards: f"results/data/{wildcards.dataset}/{LATENT_BASES[wildcards.vae][0]}.csv",
    output:
        directory("results/latents/{vae}/{dataset}"),
    log:
        "logs/latents/{vae}_{dataset}.log",
    benchmark:
        "benchmarks/latents/{vae}_{dataset}.tsv"
    params:
        base=lambda wildcards, input: input.base or LATENT_BASES[wildcards.vae][1],
        resolution=resolution_flag(),
        batch_size=config["models"]["latents"]["batch_size"],
        precision=config["models"]["latents"]["precision"],
        conversion=lambda wildcards: conversion_fingerprint(wildcards.dataset),
        flags=lambda wildcards: "--inpainting" if wildcards.vae == "inpaint" else "",
    conda:
        "../../envs/mame.yaml"
    # the text-to-image models' latents first: their training jobs are the longest
    priority: 10
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=config["models"]["resources"]["runtime"],
        gpu=min(1, config["models"]["resources"]["gpu"]),
    wildcard_constraints:
        vae=r"base(-[a-z0-9-]+)?",
    shell:
        '"$MAME_PYTHON" -m mame.cli encode-latents {input.manifest:q} --base {params.base:q} --out {output:q}'
        " --batch-size {params.batch_size} --precision {params.precision} --conversion {params.conversion}"
        " {params.resolution} {params.flags} > {log:q} 2>&1"


use rule encode_latents as encode_inpaint_latents with:
    # after the text-to-image models start, before the single-vendor sweeps: the lesion model is the
    # longest job left once the fusion model is sampling
    priority: 7
    wildcard_constraints:
        vae="inpaint",


rule finetune:
    input:
        base=lambda wildcards: model_base_input("finetune", wildcards.model),
        manifests=lambda wildcards: model_manifests("finetune", wildcards.model),
        latents=lambda wildcards: model_latents("finetune", wildcards.model),
        # the domain encoder, when the run measures its validation steps (validation_metrics)
        encoder=lambda wildcards: validation_encoder("finetune", wildcards.model),
    output:
        pipeline=directory("results/models/{model}/pipeline"),
        log=report(
            "results/models/{model}/training_log.csv",
            caption=caption("training_log"),
            category="Training",
        ),
        validation=directory("results/models/{model}/validation"),
        phases="results/models/{model}/phases.csv",
    log:
        "logs/models/{model}.log",
    benchmark:
        "benchmarks/models/{model}.tsv",
    params:
        launcher=train_launcher(),
        base=lambda wildcards, input: input.base or model_base("finetune", wildcards.model),
        settings=lambda wildcards: json.dumps(train_settings("finetune", wildcards.model), sort_keys=True),
        checkpoints=lambda wildcards: f"results/checkpoints/{wildcards.model}",
        flags=lambda wildcards, input: f"--encoder {input.encoder}" if input.encoder else "",
    conda:
        "../../envs/mame.yaml"
    # text-to-image models first, the longest (most steps) first: the most work waits on it
    # (a wide gap: the scheduler weighs priority against other terms, and 0.01 apart lost to them)
    priority: lambda wildcards: 10 + train_settings("finetune", wildcards.model)["steps"] / 100
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=config["models"]["resources"]["runtime"],
        gpu=config["models"]["resources"]["gpu"],
    wildcard_constraints:
        model=FINETUNED_MODEL,
    shell:
        '"$MAME_PYTHON" {params.launcher} train {input.manifests:q} --base {params.base:q}'
        " --out {output.pipeline:q} --checkpoints {params.checkpoints:q} --settings {params.settings:q}"
        " --name {wildcards.model} --threads {threads} --latents {input.latents:q} {params.flags} > {log:q} 2>&1"


use rule finetune as train_inpaint with:
    priority: 7
    input:
        base=lambda wildcards: model_base_input("inpaint", wildcards.model),
        manifests=lambda wildcards: model_manifests("inpaint", wildcards.model),
        latents=lambda wildcards: model_latents("inpaint", wildcards.model),
        encoder=[],
    params:
        launcher=train_launcher(),
        base=lambda wildcards, input: input.base or model_base("inpaint", wildcards.model),
        settings=lambda wildcards: json.dumps(train_settings("inpaint", wildcards.model), sort_keys=True),
        checkpoints=lambda wildcards: f"results/checkpoints/{wildcards.model}",
        flags=lambda wildcards: inpaint_flags(wildcards.model),
    wildcard_constraints:
        model=INPAINT_MODEL,


rule training_figures:
    input:
        logs=expand("results/models/{model}/training_log.csv", model=TRAINED),
        phases=expand("results/models/{model}/phases.csv", model=TRAINED),
        validation=expand("results/models/{model}/validation", model=TRAINED),
    output:
        curves=report(
            "results/figures/training/loss_curves.png", caption=caption("loss_curves"), category="Training"
        ),
        table="results/tables/training.csv",
        metrics=report(
            "results/figures/training/metrics_during_training.png",
            caption=caption("validation_metrics"),
            category="Training",
        ),
        markdown="results/tables/training.md",
        latex="results/tables/training.tex",
        validation=[
            report(
                f"results/figures/training/validation_{model}.png",
                caption=caption("validation"),
                category="Training",
            )
            for model in TRAINED
        ],
    log:
        "logs/figures/training.log",
    benchmark:
        "benchmarks/figures/training.tsv"
    params:
        models=TRAINED,
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/training_figures.py"
