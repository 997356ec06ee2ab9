# Sampling: the guidance sweep, its figure, concept extrapolation, lesion inpainting panels.


rule sample_sweep:
    input:
        pipeline="results/models/{model}/pipeline",
    output:
        samples="results/samples/{model}/samples.csv",
        images=directory("results/samples/{model}/images"),
    log:
        "logs/samples/{model}.log",
    benchmark:
        "benchmarks/samples/{model}.tsv",
    params:
        specs=lambda wildcards: canonical(prompt_specs(config, wildcards.model)),
        sampling=sampling_settings(),
        bit_depth=config["convert"]["bit_depth"],
    conda:
        "../../envs/mame.yaml"
    # the longest-trained model's sweep is on the critical path: it goes before the others' sweeps,
    # which once took both cores the moment it could start (40 s of the demo)
    priority: lambda wildcards: 15 if longest_trained(wildcards.model) else 5
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=config["models"]["resources"]["runtime"],
        gpu=min(1, config["models"]["resources"]["gpu"]),
    wildcard_constraints:
        model=FINETUNED_MODEL,
    script:
        "../scripts/sample_sweep.py"


rule guidance_figure:
    input:
        samples="results/samples/{model}/samples.csv",
        images="results/samples/{model}/images",
    output:
        report(
            "results/figures/guidance/{model}.png",
            caption=caption("guidance_grid"),
            category="Guidance",
            subcategory="{model}",
        ),
    log:
        "logs/figures/guidance_{model}.log",
    benchmark:
        "benchmarks/figures/guidance_{model}.tsv"
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    wildcard_constraints:
        model=FINETUNED_MODEL,
    script:
        "../scripts/guidance_figure.py"


rule concept_extrapolation:
    input:
        pipeline="results/models/{model}/pipeline",
        real=lambda wildcards: model_manifests("finetune", wildcards.model),
    output:
        table="results/extrapolation/{model}/extrapolation.csv",
        agreement="results/extrapolation/{model}/agreement.csv",
        images=directory("results/extrapolation/{model}/images"),
        figure=report(
            "results/figures/extrapolation/{model}.png",
            caption=caption("extrapolation"),
            category="Concept extrapolation and inpainting",
        ),
    log:
        "logs/extrapolation/{model}.log",
    benchmark:
        "benchmarks/extrapolation/{model}.tsv",
    params:
        specs=lambda wildcards: extrapolation_specs(config, wildcards.model),
        sampling=sampling_settings(),
        images=config["evaluation"]["extrapolation_images"],
        guidance=config["evaluation"]["extrapolation_guidance"],
        bit_depth=config["convert"]["bit_depth"],
        area_thresholds=config["manifest"]["area_thresholds"],
    conda:
        "../../envs/mame.yaml"
    # the longest evaluation jobs start when their inputs are ready, the one-second ones fill the end
    priority: 3
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=60,
        gpu=min(1, config["models"]["resources"]["gpu"]),
    wildcard_constraints:
        model=FUSION_MODEL,
    script:
        "../scripts/extrapolation.py"


rule inpaint_panels:
    input:
        pipeline="results/models/{model}/pipeline",
        lesions=lambda wildcards: model_manifests("inpaint", wildcards.model),
        healthy=lambda wildcards: inpaint_healthy(wildcards.model),
    output:
        table="results/inpainting/{model}/inpainting.csv",
        panels=directory("results/inpainting/{model}/panels"),
        figure=report(
            "results/figures/inpainting/{model}.png",
            caption=caption("inpainting"),
            category="Concept extrapolation and inpainting",
        ),
        full_table="results/inpainting/{model}/full_field.csv",
        full_validation="results/inpainting/{model}/full_field_dicom.json",
        full=directory("results/inpainting/{model}/full"),
        full_figure=report(
            "results/figures/full_field/{model}.png",
            caption=caption("full_field_inpainting"),
            category="Concept extrapolation and inpainting",
        ),
    log:
        "logs/inpainting/{model}.log",
    benchmark:
        "benchmarks/inpainting/{model}.tsv",
    params:
        panels=config["evaluation"]["inpaint_images"],
        full_field=config["evaluation"]["full_field_inpaint"],
        prompt=lambda wildcards: config["models"]["inpaint"][wildcards.model]["prompt"],
        sampling=sampling_settings(),
    conda:
        "../../envs/mame.yaml"
    # the longest evaluation jobs start when their inputs are ready, the one-second ones fill the end
    priority: 3
    threads: config["models"]["resources"]["threads"]
    resources:
        mem_mb=config["models"]["resources"]["mem_mb"],
        runtime=60,
        gpu=min(1, config["models"]["resources"]["gpu"]),
    wildcard_constraints:
        model=INPAINT_MODEL,
    script:
        "../scripts/inpaint_panels.py"
