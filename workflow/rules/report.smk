# The report: results/report.html (self-contained) built from every stage's outputs.


rule report:
    input:
        index=expand("results/work/{dataset}/index.csv", dataset=DATASETS),
        healthy=expand("results/data/{dataset}/healthy.csv", dataset=DATASETS),
        lesions=expand("results/data/{dataset}/lesions.csv", dataset=DATASETS),
        fusion="results/data/fusion/healthy.csv",
        dataset_table="results/tables/dataset_table.csv",
        rejects="results/tables/rejects_by_reason.csv",
        training_logs=expand("results/models/{model}/training_log.csv", model=FINETUNE + INPAINT),
        validation=expand("results/models/{model}/validation", model=FINETUNE + INPAINT),
        samples=expand("results/samples/{model}/samples.csv", model=FINETUNE),
        diversity=expand("results/metrics/{model}/msssim.csv", model=FINETUNE),
        fidelity=expand("results/metrics/{model}/fidelity.csv", model=FINETUNE),
        msssim_table="results/tables/msssim.csv",
        evaluation_tables="results/tables/fidelity.csv",
        memorization_table="results/tables/memorization.csv",
        memorization=expand("results/metrics/{model}/memorization.csv", model=FINETUNE),
        separability=expand("results/metrics/{model}/separability.csv", model=FINETUNE),
        extrapolation=expand("results/extrapolation/{model}/extrapolation.csv", model=FUSION_MODELS),
        inpainting=expand("results/inpainting/{model}/inpainting.csv", model=INPAINT),
        reader_study=multiext("results/reader_study/", "roc.csv", "roc_points.csv", "pooled.csv", "power.csv", "key.csv", "warnings.txt")
        if FINETUNE
        else [],
        reader_table="results/tables/reader_study.csv" if FINETUNE else [],
    output:
        html="results/report.html",
        figures=directory("results/figures"),
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/report.tsv",
    params:
        datasets=DATASETS,
        models=FINETUNE + INPAINT,
        finetuned=FINETUNE,
        fusion_models=FUSION_MODELS,
        inpaint_models=INPAINT,
        memorization_threshold=config["evaluation"]["memorization_threshold"],
        examples=config["report"]["examples"],
        config=canonical(config),
        benchmarks="benchmarks",
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report.py"
