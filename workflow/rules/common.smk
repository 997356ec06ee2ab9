# Helpers only: input functions and per-dataset settings. No rules here.
import json
import os
import shlex
import sys
from pathlib import Path

from mame.convert import shard_count
from mame.prompts import build_prompt


wildcard_constraints:
    dataset=r"[a-z][a-z0-9_]*",
    shard=r"\d{4}",


DATASETS = list(config["datasets"])


def canonical(settings):
    """Settings with sorted keys: Snakemake compares params as text, so reordering keys in a
    config file (or a default filled in by the schema) must not look like a change."""
    if isinstance(settings, dict):
        return {key: canonical(settings[key]) for key in sorted(settings)}
    if isinstance(settings, list):
        return [canonical(item) for item in settings]
    return settings


def dataset_root(dataset):
    settings = config["datasets"][dataset]
    if "phantom" in settings:
        return f"results/phantom/{dataset}"
    return settings["root"]


def index_inputs(wildcards):
    """A phantom dataset depends on the rule that writes it; real data on its label tables."""
    settings = config["datasets"][wildcards.dataset]
    if "phantom" in settings:
        return {"root": f"results/phantom/{wildcards.dataset}"}
    root = Path(settings["root"])
    tables = {
        "vindr": [root / "breast-level_annotations.csv", root / "finding_annotations.csv"],
        "omi": [],
        "table": [settings.get("table", "")],
    }[settings["adapter"]]
    return {"tables": [str(t) for t in tables]}


def phantom_settings(dataset):
    settings = config["datasets"][dataset]
    return canonical(
        {
            **config["phantom"],
            "layout": settings["adapter"],
            "images": settings["phantom"]["images"],
            "seed": settings["phantom"]["seed"],
        }
    )


def index_settings(dataset):
    settings = config["datasets"][dataset]
    return canonical(
        {
            "adapter": settings["adapter"],
            "root": dataset_root(dataset),
            "table": settings.get("table"),
            "vendor": settings["vendor"],
            "views": config["index"]["views"],
            "manufacturers": settings["manufacturers"],
            "exclude_implants": config["index"]["exclude_implants"],
        }
    )


def convert_settings(dataset):
    settings = {k: v for k, v in config["convert"].items() if k != "shard_size"}
    if config["convert"]["intensity"] == "fixed_max":
        if "fixed_max" not in config["datasets"][dataset]:
            raise ValueError(f"datasets.{dataset}.fixed_max is required when convert.intensity is fixed_max")
        settings["fixed_max"] = config["datasets"][dataset]["fixed_max"]
    return canonical(settings)


def manifest_settings(dataset):
    settings = config["datasets"][dataset]
    return canonical(
        {
            "vendor": settings["vendor"],
            "prompt_attribute": settings["prompt_attribute"],
            **config["manifest"],
        }
    )


def shard_ids(dataset):
    """Shards of a dataset, known once its index exists (the index rule is a checkpoint)."""
    index = checkpoints.index.get(dataset=dataset).output.index
    with open(index) as handle:
        rows = sum(1 for _ in handle) - 1
    return [f"{i:04d}" for i in range(shard_count(rows, config["convert"]["shard_size"]))]


def shard_tables(wildcards):
    return [f"results/work/{wildcards.dataset}/shards/{s}.csv" for s in shard_ids(wildcards.dataset)]


def shard_rejects(wildcards):
    return [f"results/work/{wildcards.dataset}/shards/{s}.rejects.csv" for s in shard_ids(wildcards.dataset)]


def fusion_datasets():
    return config["fusion"]["datasets"] or DATASETS


def data_outputs():
    return [
        *expand("results/data/{dataset}/healthy.csv", dataset=DATASETS),
        "results/data/fusion/healthy.csv",
        "results/tables/dataset_table.csv",
    ]


for _name in config["fusion"]["datasets"]:
    if _name not in config["datasets"]:
        raise ValueError(f"fusion.datasets names {_name!r}, which is not in datasets ({', '.join(DATASETS)})")


# --- models ---------------------------------------------------------------------------------------

FINETUNE = list(config["models"]["finetune"])
INPAINT = list(config["models"]["inpaint"])
TINY_DIR = "results/models/base/tiny"
TINY_INPAINT_DIR = "results/models/base/tiny-inpainting"

for _name in set(FINETUNE) & set(INPAINT):
    raise ValueError(f"models.finetune and models.inpaint both define {_name!r}; model names must be unique")
for _kind, _models in (("finetune", FINETUNE), ("inpaint", INPAINT)):
    for _name in _models:
        for _dataset in config["models"][_kind][_name]["datasets"]:
            if _dataset not in DATASETS and not (_dataset == "fusion" and _kind == "finetune"):
                raise ValueError(
                    f"models.{_kind}.{_name}.datasets names {_dataset!r}; known: {', '.join(DATASETS)}"
                    + (", fusion" if _kind == "finetune" else "")
                )


def model_manifests(kind, name):
    table = "healthy.csv" if kind == "finetune" else "lesions.csv"
    return [f"results/data/{d}/{table}" for d in config["models"][kind][name]["datasets"]]


def base_setting(kind):
    return config["models"]["base" if kind == "finetune" else "inpaint_base"]


def base_input(kind):
    """The tiny base is built by a rule; any other base is resolved (and checked) by the training job."""
    setting = base_setting(kind)
    if setting == "tiny":
        return TINY_DIR if kind == "finetune" else TINY_INPAINT_DIR
    return []


def prompt_specs(name):
    """Conditions a text-to-image model is sampled with: `sampling.prompts.<name>` when given, else its
    views x its datasets' attribute extremes."""
    if name in config["sampling"]["prompts"]:
        return config["sampling"]["prompts"][name]
    datasets = config["models"]["finetune"][name]["datasets"]
    fusion = datasets == ["fusion"] or len(datasets) > 1
    members = fusion_datasets() if datasets == ["fusion"] else datasets
    words = {"area": ["small", "big"], "density": ["very low", "very high"], "none": [None]}
    specs = []
    for dataset in members:
        settings = config["datasets"][dataset]
        for view in ("CC", "MLO"):
            for word in words[settings["prompt_attribute"]]:
                spec = {"view": view, "vendor": settings["vendor"] if fusion else None}
                if word:
                    spec[settings["prompt_attribute"]] = word
                specs.append(spec)
    return specs


def default_validation_prompts(kind, name):
    if kind == "inpaint":
        return [config["models"]["inpaint"][name]["prompt"]]
    return [prompt_of(spec) for spec in prompt_specs(name)]


def train_settings(kind, name):
    """models.train defaults, the model's own overrides, and default validation prompts."""
    settings = {**config["models"]["train"], **config["models"][kind][name].get("train", {})}
    settings.setdefault("validation_prompts", default_validation_prompts(kind, name))
    return canonical(settings)


def model_vendors():
    return sorted({settings["vendor"] for settings in config["datasets"].values()})


def model_outputs():
    return [
        *expand("results/models/{model}/pipeline", model=FINETUNE + INPAINT),
        *(["results/tables/msssim.csv", "results/tables/fidelity.csv", "results/tables/reader_study.csv"] if FINETUNE else []),
    ]


def python_command():
    """The interpreter for shell rules: the rule's conda env under --sdm conda, else Snakemake's own
    (so a venv works without being activated)."""
    from snakemake_interface_executor_plugins.settings import DeploymentMethod

    if DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method:
        return "python"
    return shlex.quote(sys.executable)


def train_launcher():
    """`accelerate launch` over all of a job's GPUs when it has several, a plain process otherwise."""
    gpus = config["models"]["resources"]["gpu"]
    if gpus > 1:
        return f"-m accelerate.commands.launch --multi_gpu --num_processes {gpus} -m mame.cli"
    return "-m mame.cli"


def inpaint_flags(name):
    flags = ["--inpainting", "--prompt", shlex.quote(config["models"]["inpaint"][name]["prompt"])]
    if config["models"]["widen_unet"]:
        flags.append("--widen-unet")
    return " ".join(flags)


# Shell rules run Python as $MAME_PYTHON: where the interpreter lives is not a setting of the job,
# so it stays out of params (moving a venv must not retrain models).
os.environ.setdefault("MAME_PYTHON", python_command())


def is_fusion(name):
    datasets = config["models"]["finetune"][name]["datasets"]
    return datasets == ["fusion"] or len(datasets) > 1


FUSION_MODELS = [name for name in FINETUNE if is_fusion(name)]


def extrapolation_specs(name):
    """Each vendor with the attribute its dataset never captioned: the study's concept extrapolation."""
    from mame.prompts import AREA_WORDS, DENSITY_WORDS

    datasets = config["models"]["finetune"][name]["datasets"]
    members = fusion_datasets() if datasets == ["fusion"] else datasets
    values = {"area": list(AREA_WORDS), "density": list(DENSITY_WORDS.values())}
    specs = []
    for dataset in members:
        settings = config["datasets"][dataset]
        unseen = {"area": "density", "density": "area"}.get(settings["prompt_attribute"])
        if unseen is None:
            continue
        for view in ("CC", "MLO"):
            for word in values[unseen]:
                specs.append({"vendor": settings["vendor"], "view": view, unseen: word})
    return specs


def inpaint_healthy(name):
    """Healthy manifests of the datasets an inpainting model learned from: their held-out images."""
    return [f"results/data/{d}/healthy.csv" for d in config["models"]["inpaint"][name]["datasets"]]


def prompt_of(spec):
    """The caption of a sampling condition (laterality is applied to the image, not the prompt)."""
    return build_prompt(**{key: value for key, value in spec.items() if key != "laterality"})


for _name in config["sampling"]["prompts"]:
    if _name not in FINETUNE:
        raise ValueError(f"sampling.prompts names {_name!r}, which is not in models.finetune ({', '.join(FINETUNE)})")


def sampling_settings():
    """The sweep's settings shared by all models (the per-model prompts travel separately)."""
    return canonical({key: value for key, value in config["sampling"].items() if key != "prompts"})


# --- reader study ---------------------------------------------------------------------------------


def reader_model():
    """The model whose samples the reader study shows: as configured, else fusion, else the first."""
    name = config["reader_study"]["model"] or (FUSION_MODELS or FINETUNE or [""])[0]
    if name not in FINETUNE:
        raise ValueError(f"reader_study.model is {name!r}; fine-tuned models: {', '.join(FINETUNE) or 'none'}")
    return name


def reader_rating_files():
    """What the ROC analysis reads: the observer's ratings (when on) and every configured file."""
    files = ["results/reader_study/ratings/observer.csv"] if config["reader_study"]["observer"] else []
    return files + [entry["file"] for entry in config["reader_study"]["ratings"]]


def reader_guidance():
    """The scale of the kit's samples: as configured (one of the sweep's), else the sweep's middle one."""
    scales = sorted(config["sampling"]["guidance"])
    chosen = config["reader_study"]["guidance"]
    if chosen is None:
        return scales[(len(scales) - 1) // 2]
    if not any(float(g) == float(chosen) for g in scales):
        raise ValueError(f"reader_study.guidance is {chosen}; it must be one of sampling.guidance {scales}")
    return chosen


READER_MODEL = ""
if FINETUNE:
    READER_MODEL = reader_model()
    if not reader_rating_files():
        raise ValueError("reader_study: no observer and no rating files; set observer: true or list ratings")
