# Reader study: a blinded kit for readers, an automated observer, and the ROC analysis.


rule reader_kit:
    input:
        samples=f"results/samples/{READER_MODEL}/samples.csv",
        images=f"results/samples/{READER_MODEL}/images",
        real=model_manifests("finetune", READER_MODEL),
    output:
        kit=directory("results/reader_study/kit"),
        key="results/reader_study/key.csv",
    log:
        "logs/reader_study/kit.log",
    benchmark:
        "benchmarks/reader_study/kit.tsv"
    params:
        settings=canonical(
            {
                **{k: config["reader_study"][k] for k in ("real", "synthetic", "seed", "size")},
                "guidance": READER_GUIDANCE,
            }
        ),
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/reader_kit.py"


rule reader_observer:
    input:
        key="results/reader_study/key.csv",
        kit="results/reader_study/kit",
        samples=f"results/samples/{READER_MODEL}/samples.csv",
        real=model_manifests("finetune", READER_MODEL),
    output:
        "results/reader_study/ratings/observer.csv",
    log:
        "logs/reader_study/observer.log",
    benchmark:
        "benchmarks/reader_study/observer.tsv"
    params:
        seed=config["reader_study"]["seed"],
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/reader_observer.py"


rule roc:
    input:
        key="results/reader_study/key.csv",
        ratings=reader_rating_files(),
    output:
        readers=report(
            "results/reader_study/roc.csv", caption=caption("reader_study"), category="Reader study"
        ),
        points="results/reader_study/roc_points.csv",
        pooled="results/reader_study/pooled.csv",
        power="results/reader_study/power.csv",
        warnings="results/reader_study/warnings.txt",
        table="results/tables/reader_study.csv",
        figure=report(
            "results/figures/reader_study/roc.png", caption=caption("reader_study"), category="Reader study"
        ),
        markdown="results/tables/reader_study.md",
        latex="results/tables/reader_study.tex",
    log:
        "logs/reader_study/roc.log",
    benchmark:
        "benchmarks/reader_study/roc.tsv"
    params:
        readers=[entry.get("reader") for entry in config["reader_study"]["ratings"]],
        observer=config["reader_study"]["observer"],
        margin=config["reader_study"]["margin"],
        planning=config["reader_study"]["planning"],
        bootstrap=config["reader_study"]["bootstrap"],
        seed=config["reader_study"]["seed"],
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/roc.py"
