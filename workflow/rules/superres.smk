# Super-resolution: an upscaler (SD x4 upscaler architecture) trained on full-field patches, applied
# tiled to the sweeps' samples, and measured on held-out real full fields against interpolation.


rule tiny_upscaler:
    input:
        manifests=superres_manifests(),
        # its tokenizer is the tiny base's; this also keeps it off the cores the base needs first
        base=TINY_DIR if config["models"]["base"] == "tiny" else [],
    output:
        directory(TINY_UPSCALER_DIR),
    log:
        "logs/models/tiny_upscaler.log",
    benchmark:
        "benchmarks/models/tiny_upscaler.tsv"
    params:
        tiny=canonical(config["models"]["tiny"]),
        superres=canonical(config["superres"]),
        factor=SUPERRES_FACTOR,
        vendors=model_vendors(),
    conda:
        "../../envs/mame.yaml"
    # the super-resolution chain (four jobs in series) ends the run: at priority 0 it waited behind the
    # evaluation's one-second jobs and ran alone at the end, 2 minutes with the other core mostly idle
    priority: 6
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=config["models"]["resources"]["runtime"],
        gpu=0,
    script:
        "../scripts/tiny_upscaler.py"


rule random_upscaler:
    output:
        directory(RANDOM_UPSCALER_DIR),
    log:
        "logs/models/random_upscaler.log",
    benchmark:
        "benchmarks/models/random_upscaler.tsv"
    params:
        vendors=model_vendors(),
    conda:
        "../../envs/mame.yaml"
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=16000,
        runtime=30,
        gpu=0,
    shell:
        '"$MAME_PYTHON" -m mame.cli random-base --family x4-upscaler --out {output:q}'
        " --vendors {params.vendors} > {log:q} 2>&1"


rule train_upscaler:
    input:
        base=upscaler_base_input(),
        manifests=superres_manifests(),
    output:
        pipeline=directory("results/models/upscaler/pipeline"),
        log=report(
            "results/models/upscaler/training_log.csv", caption=caption("training_log"), category="Training"
        ),
        validation=directory("results/models/upscaler/validation"),
        phases="results/models/upscaler/phases.csv",
    log:
        "logs/models/upscaler.log",
    benchmark:
        "benchmarks/models/upscaler.tsv"
    params:
        launcher=train_launcher(),
        base=lambda wildcards, input: input.base or config["superres"]["base"],
        settings=json.dumps(upscaler_train_settings(), sort_keys=True),
        checkpoints="results/checkpoints/upscaler",
        patches=config["superres"]["patches_per_image"],
    conda:
        "../../envs/mame.yaml"
    priority: 6
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=config["models"]["resources"]["runtime"],
        gpu=config["models"]["resources"]["gpu"],
    shell:
        '"$MAME_PYTHON" {params.launcher} train {input.manifests:q} --base {params.base:q} --upscaler'
        " --patches-per-image {params.patches} --out {output.pipeline:q} --checkpoints {params.checkpoints:q}"
        " --settings {params.settings:q} --name upscaler --threads {threads} > {log:q} 2>&1"


rule upscale_samples:
    input:
        upscaler="results/models/upscaler/pipeline",
        samples="results/samples/{model}/samples.csv",
        images="results/samples/{model}/images",
    output:
        table="results/samples/{model}/full/samples.csv",
        images=directory("results/samples/{model}/full/images"),
    log:
        "logs/samples/full_{model}.log",
    benchmark:
        "benchmarks/samples/full_{model}.tsv"
    params:
        superres=canonical(config["superres"]),
        guidance=READER_GUIDANCE,
        seed=config["sampling"]["seed"],
    conda:
        "../../envs/mame.yaml"
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=config["models"]["resources"]["runtime"],
        gpu=min(1, config["models"]["resources"]["gpu"]),
    priority: 5
    wildcard_constraints:
        model=SUPERRES_MODEL,
    script:
        "../scripts/upscale_samples.py"


rule superres_evaluation:
    input:
        upscaler="results/models/upscaler/pipeline",
        manifests=superres_manifests(),
        samples=expand("results/samples/{model}/full/samples.csv", model=SUPERRES_MODELS),
    output:
        scores="results/superres/scores.csv",
        table="results/tables/superres.csv",
        markdown="results/tables/superres.md",
        latex="results/tables/superres.tex",
        figure=report(
            "results/figures/superres/superres.png", caption=caption("superres"), category="Super-resolution"
        ),
    log:
        "logs/superres/evaluation.log",
    benchmark:
        "benchmarks/superres/evaluation.tsv"
    params:
        superres=canonical(config["superres"]),
        seed=config["sampling"]["seed"],
        bootstrap=config["evaluation"]["bootstrap"],
    conda:
        "../../envs/mame.yaml"
    priority: 5
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=60,
        gpu=min(1, config["models"]["resources"]["gpu"]),
    script:
        "../scripts/superres_evaluation.py"


rule full_field_distribution:
    input:
        manifests=superres_manifests(),
        samples=expand("results/samples/{model}/full/samples.csv", model=SUPERRES_MODELS),
        painted=expand("results/inpainting/{model}/full_field.csv", model=sorted(INPAINT)),
        lesions=sorted({m for model in INPAINT for m in model_manifests("inpaint", model)}),
    output:
        table="results/tables/full_field_distribution.csv",
        markdown="results/tables/full_field_distribution.md",
        latex="results/tables/full_field_distribution.tex",
        encoder=directory("results/metrics/patch_encoder"),
    log:
        "logs/metrics/full_field_distribution.log",
    benchmark:
        "benchmarks/metrics/full_field_distribution.tsv"
    params:
        settings=canonical(config["evaluation"]["full_field_distribution"]),
        patch=config["superres"]["patch"],
        models=SUPERRES_MODELS,
        inpaint=canonical({model: model_manifests("inpaint", model) for model in INPAINT}),
        draws=config["evaluation"]["distribution_draws"],
        seed=config["sampling"]["seed"],
    conda:
        "../../envs/mame.yaml"
    priority: 5
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=60,
        gpu=0,
    script:
        "../scripts/full_field_distribution.py"
