# The report: results/report.html (self-contained), assembled from every stage's tables and figures.


rule report:
    input:
        dataset_table="results/tables/dataset_table.csv",
        rejects="results/tables/rejects_by_reason.csv",
        audits=expand("results/tables/audit/{dataset}.csv", dataset=DATASETS),
        dataset_notes="results/tables/dataset_notes.csv",
        raw_vs_processed="results/figures/data/raw_vs_processed.png",
        image_mask="results/figures/data/image_mask_pairs.png",
        image_prompt="results/figures/data/image_prompt_pairs.png",
        loss_curves="results/figures/training/loss_curves.png" if TRAINED else [],
        loss_table="results/tables/training.csv" if TRAINED else [],
        validation=expand("results/figures/training/validation_{model}.png", model=TRAINED),
        guidance_grids=expand("results/figures/guidance/{model}.png", model=FINETUNE),
        samples=expand("results/samples/{model}/samples.csv", model=FINETUNE),
        diversity=expand("results/metrics/{model}/msssim.csv", model=FINETUNE),
        msssim_table="results/tables/msssim.csv" if FINETUNE else [],
        msssim_contrasts="results/tables/msssim_guidance_contrasts.csv" if FINETUNE else [],
        separability_table="results/tables/separability.csv" if FINETUNE else [],
        distribution_table="results/tables/distribution.csv" if FINETUNE else [],
        distribution_figure="results/figures/evaluation/distribution.png" if FINETUNE else [],
        inception_table="results/tables/inception_fid.csv" if FINETUNE else [],
        fidelity_table="results/tables/fidelity.csv" if FINETUNE else [],
        confusion_table="results/tables/fidelity_confusion.csv" if FINETUNE else [],
        tradeoff="results/figures/evaluation/fidelity_and_diversity.png" if FINETUNE else [],
        memorization_table="results/tables/memorization.csv" if FINETUNE else [],
        copy_table="results/tables/copy_detection.csv" if FINETUNE else [],
        memorization_histograms="results/figures/evaluation/memorization.png" if FINETUNE else [],
        agreement=expand("results/extrapolation/{model}/agreement.csv", model=FUSION_MODELS),
        extrapolation_figures=expand("results/figures/extrapolation/{model}.png", model=FUSION_MODELS),
        inpainting=expand("results/inpainting/{model}/inpainting.csv", model=INPAINT),
        inpainting_figures=expand("results/figures/inpainting/{model}.png", model=INPAINT),
        full_field_inpainting=expand("results/inpainting/{model}/full_field.csv", model=INPAINT),
        full_field_validation=expand("results/inpainting/{model}/full_field_dicom.json", model=INPAINT),
        full_field_figures=expand("results/figures/full_field/{model}.png", model=INPAINT),
        reader_rocs="results/reader_study/roc.csv" if FINETUNE else [],
        reader_pooled="results/reader_study/pooled.csv" if FINETUNE else [],
        reader_power="results/reader_study/power.csv" if FINETUNE else [],
        reader_key="results/reader_study/key.csv" if FINETUNE else [],
        reader_warnings="results/reader_study/warnings.txt" if FINETUNE else [],
        reader_table="results/tables/reader_study.csv" if FINETUNE else [],
        roc_figure="results/figures/reader_study/roc.png" if FINETUNE else [],
        dicom_exports=expand("results/export/dicom/{model}.json", model=EXPORT),
        utility_table="results/tables/utility.csv" if UTILITY else [],
        utility_runs="results/tables/utility_runs.csv" if UTILITY else [],
        utility_figure="results/figures/evaluation/utility.png" if UTILITY else [],
        superres_table="results/tables/superres.csv" if SUPERRES else [],
        superres_figure="results/figures/superres/superres.png" if SUPERRES else [],
        full_field_distribution="results/tables/full_field_distribution.csv" if SUPERRES else [],
        superres_samples=expand("results/samples/{model}/full/samples.csv", model=SUPERRES_MODELS),
    output:
        html="results/report.html",
    log:
        "logs/report.log",
    benchmark:
        "benchmarks/report.tsv"
    params:
        models=TRAINED,
        datasets=DATASETS,
        finetuned=FINETUNE,
        fusion_models=FUSION_MODELS,
        inpaint_models=INPAINT,
        reader_guidance=READER_GUIDANCE,
        exported=EXPORT,
        utility=bool(UTILITY),
        superres=SUPERRES,
        config=canonical(config),
        benchmarks="benchmarks",
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/report.py"
