# Export: the sweep's synthetic mammograms as DICOM Secondary Capture, validated (dciodvfy + IOD check).


rule export_dicom:
    input:
        samples="results/samples/{model}/samples.csv",
        images="results/samples/{model}/images",
    output:
        folder=directory("results/export/dicom/{model}"),
        table="results/export/dicom/{model}.csv",
        summary="results/export/dicom/{model}.json",
    log:
        "logs/export/dicom_{model}.log",
    benchmark:
        "benchmarks/export/dicom_{model}.tsv"
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    wildcard_constraints:
        model=FINETUNED_MODEL,
    script:
        "../scripts/export_dicom.py"
