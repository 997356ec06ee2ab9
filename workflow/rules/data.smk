# Data stage: phantom (demo only) -> index (headers) -> convert (shards) -> manifests -> dataset table.


rule phantom:
    output:
        directory("results/phantom/{dataset}"),
    log:
        "logs/phantom/{dataset}.log",
    benchmark:
        "benchmarks/phantom/{dataset}.tsv",
    params:
        settings=lambda wildcards: phantom_settings(wildcards.dataset),
    threads: phantom_threads
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/phantom.py"


checkpoint index:
    input:
        unpack(index_inputs),
    output:
        index="results/work/{dataset}/index.csv",
        rejects="results/work/{dataset}/index_rejects.csv",
    log:
        "logs/index/{dataset}.log",
    benchmark:
        "benchmarks/index/{dataset}.tsv",
    params:
        settings=lambda wildcards: index_settings(wildcards.dataset),
        salt=config["privacy"]["salt"],
    conda:
        "../../envs/mame.yaml"
    threads: 4
    resources:
        mem_mb=4000,
        runtime=120,
    script:
        "../scripts/index.py"


rule audit:
    input:
        unpack(index_inputs),
    output:
        csv="results/tables/audit/{dataset}.csv",
        markdown="results/tables/audit/{dataset}.md",
    log:
        "logs/audit/{dataset}.log",
    benchmark:
        "benchmarks/audit/{dataset}.tsv",
    params:
        settings=lambda wildcards: index_settings(wildcards.dataset),
    conda:
        "../../envs/mame.yaml"
    threads: 4
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../scripts/audit.py"


rule convert_shard:
    input:
        index="results/work/{dataset}/index.csv",
    output:
        table="results/work/{dataset}/shards/{shard}.csv",
        rejects="results/work/{dataset}/shards/{shard}.rejects.csv",
        images=directory("results/data/{dataset}/images/{shard}"),
        full=directory("results/data/{dataset}/full/{shard}"),
    log:
        "logs/convert/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/convert/{dataset}/{shard}.tsv",
    params:
        settings=lambda wildcards: convert_settings(wildcards.dataset),
        shard_size=config["convert"]["shard_size"],
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=120,
    script:
        "../scripts/convert.py"


rule manifest:
    input:
        shards=shard_tables,
        shard_rejects=shard_rejects,
        index_rejects="results/work/{dataset}/index_rejects.csv",
    output:
        images="results/data/{dataset}/images.csv",
        healthy="results/data/{dataset}/healthy.csv",
        metadata="results/data/{dataset}/metadata.jsonl",
        lesions="results/data/{dataset}/lesions.csv",
        masks=directory("results/data/{dataset}/masks"),
        rejects="results/data/{dataset}/rejects.csv",
    log:
        "logs/manifest/{dataset}.log",
    benchmark:
        "benchmarks/manifest/{dataset}.tsv",
    params:
        settings=lambda wildcards: manifest_settings(wildcards.dataset),
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../scripts/manifest.py"


rule fusion_manifest:
    input:
        healthy=expand("results/data/{dataset}/healthy.csv", dataset=fusion_datasets(config)),
    output:
        healthy="results/data/fusion/healthy.csv",
        metadata="results/data/fusion/metadata.jsonl",
    log:
        "logs/manifest/fusion.log",
    benchmark:
        "benchmarks/manifest/fusion.tsv",
    params:
        datasets=fusion_datasets(config),
        attributes=canonical({name: config["datasets"][name]["prompt_attribute"] for name in fusion_datasets(config)}),
    conda:
        "../../envs/mame.yaml"
    # a second's work that the longest training job waits on; with the domain encoder it must stay below
    # the base's priority (started together, they held the base back 13 s)
    priority: 15
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/fusion_manifest.py"


rule dataset_table:
    input:
        healthy=expand("results/data/{dataset}/healthy.csv", dataset=DATASETS),
        lesions=expand("results/data/{dataset}/lesions.csv", dataset=DATASETS),
        rejects=expand("results/data/{dataset}/rejects.csv", dataset=DATASETS),
        index=expand("results/work/{dataset}/index.csv", dataset=DATASETS),
    output:
        csv=report("results/tables/dataset_table.csv", caption=caption("dataset_table"), category="Data"),
        markdown="results/tables/dataset_table.md",
        latex="results/tables/dataset_table.tex",
        rejects="results/tables/rejects_by_reason.csv",
        notes="results/tables/dataset_notes.csv",
    log:
        "logs/tables/dataset_table.log",
    benchmark:
        "benchmarks/tables/dataset_table.tsv",
    params:
        datasets=DATASETS,
        healthy=config["manifest"]["healthy"],
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/dataset_table.py"


rule data_figures:
    input:
        index=expand("results/work/{dataset}/index.csv", dataset=DATASETS),
        healthy=expand("results/data/{dataset}/healthy.csv", dataset=DATASETS),
        lesions=expand("results/data/{dataset}/lesions.csv", dataset=DATASETS),
    output:
        raw_vs_processed=report(
            "results/figures/data/raw_vs_processed.png", caption=caption("raw_vs_processed"), category="Data"
        ),
        image_mask=report(
            "results/figures/data/image_mask_pairs.png", caption=caption("image_mask_pairs"), category="Data"
        ),
        image_prompt=report(
            "results/figures/data/image_prompt_pairs.png", caption=caption("image_prompt_pairs"), category="Data"
        ),
    log:
        "logs/figures/data.log",
    benchmark:
        "benchmarks/figures/data.tsv"
    params:
        examples=config["report"]["examples"],
    conda:
        "../../envs/mame.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/data_figures.py"
