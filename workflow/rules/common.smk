# Helpers only: input functions and per-dataset settings. No rules here.
import hashlib
import json
import os
import re
import shlex
import sys
from pathlib import Path

import mame
from mame.config import fusion_datasets, is_fusion, reader_guidance, reader_model, superres_enabled, superres_factor
from mame.data.shards import shard_count
from mame.experiments import experiment_points
from mame.sampling.specs import extrapolation_specs, prompt_specs, validation_prompts
from mame.shapes import size_flag


wildcard_constraints:
    dataset=r"[a-z][a-z0-9_]*",
    shard=r"\d{4}",


DATASETS = list(config["datasets"])
# mame/report/captions, found without importing the report's renderer (every cluster job parses this file)
CAPTIONS = Path(mame.__file__).parent / "report" / "captions"


def caption(key):
    """A result's one caption, mame/report/captions/<key>.rst: results/report.html renders the same file."""
    path = CAPTIONS / f"{key}.rst"
    if not path.is_file():
        raise ValueError(f"report() caption {key!r}: {path} does not exist")
    return str(path)


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
    # adapters whose tables vary in name or case (omi, cbis_ddsm, rsna, inbreast, embed, cmmd) find them
    # themselves and stop with a named error when they are missing
    tables = {
        "vindr": [root / "breast-level_annotations.csv", root / "finding_annotations.csv"],
        "table": [settings.get("table", "")],
    }.get(settings["adapter"], [])
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


def phantom_threads(wildcards):
    """Processes for a phantom: one for the demo's small images, eight at the real detector size, where an
    image takes seconds to render. Locally Snakemake caps it at --cores; under SLURM only the profile's
    max-threads does (`mame cluster-check` names a job that asks for more CPUs than its partition's nodes)."""
    phantom = config["phantom"]
    return 8 if phantom.get("rows", 320) * phantom.get("cols", 256) > 2_000_000 else 1


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
            "exclude_spot_magnified": config["index"]["exclude_spot_magnified"],
        }
    )


def convert_settings(dataset):
    settings = {k: v for k, v in config["convert"].items() if k != "shard_size"}
    if config["convert"]["intensity"] == "fixed_max":
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


def data_outputs():
    return [
        *expand("results/data/{dataset}/healthy.csv", dataset=DATASETS),
        "results/data/fusion/healthy.csv",
        "results/tables/dataset_table.csv",
    ]


# --- models ---------------------------------------------------------------------------------------

FINETUNE = list(config["models"]["finetune"])  # with every experiments: point (mame.experiments)
EXPERIMENT_POINTS = experiment_points(config)
EXPERIMENT_MODELS = [point.name for point in EXPERIMENT_POINTS]
STUDY_MODELS = [name for name in FINETUNE if name not in EXPERIMENT_MODELS]
INPAINT = list(config["models"]["inpaint"])
# the super-resolution stage (workflow/rules/superres.smk): one upscaler, trained like the others
SUPERRES = superres_enabled(config)
UPSCALER = ["upscaler"] if SUPERRES else []
# every trained model in name order: a list in params must not change when config keys are reordered
TRAINED = sorted(FINETUNE + INPAINT + UPSCALER)
TINY_DIR = "results/models/base/tiny"
TINY_INPAINT_DIR = "results/models/base/tiny-inpainting"
RANDOM_BASES = ("sd15", "sd2", "sdxl", "sana")  # models.base: <family>-random (the rehearsal), built by rule random_base


def model_manifests(kind, name):
    table = "healthy.csv" if kind == "finetune" else "lesions.csv"
    return [f"results/data/{d}/{table}" for d in config["models"][kind][name]["datasets"]]


# the latent stage: text-to-image models read results/latents/base/<dataset> (healthy images, the base's
# VAE), inpainting models results/latents/inpaint/<dataset> (lesion images, the inpainting base's VAE); a
# text-to-image model with its own base (models.finetune.<name>.base) reads results/latents/base-<slug>
LATENT_TABLES = {"base": "healthy", "inpaint": "lesions"}


def base_slug(setting):
    """A folder-safe name of a base setting: stabilityai/stable-diffusion-2-base -> stable-diffusion-2-base."""
    return re.sub(r"[^a-z0-9]+", "-", Path(setting).name.lower()).strip("-")


def model_base(kind, name):
    """The base a model is fine-tuned from: its own `base`, else models.base (models.inpaint_base)."""
    own = config["models"][kind][name].get("base") if kind == "finetune" else None
    return own or config["models"]["base" if kind == "finetune" else "inpaint_base"]


def latent_key(kind, name):
    """The latent stores' folder under results/latents/ for a model: by the base whose VAE encodes them."""
    if kind == "inpaint":
        return "inpaint"
    setting = model_base(kind, name)
    return "base" if setting == config["models"]["base"] else f"base-{base_slug(setting)}"


# every latent folder -> (its table, the base setting that encodes it)
LATENT_BASES = {"inpaint": ("lesions", config["models"]["inpaint_base"]), "base": ("healthy", config["models"]["base"])}
LATENT_BASES.update(
    {latent_key("finetune", name): ("healthy", model_base("finetune", name)) for name in config["models"]["finetune"]}
)


def model_latents(kind, name):
    """The latent stores a model trains from: one per dataset it learns from (fusion: each member's)."""
    datasets = config["models"][kind][name]["datasets"]
    members = fusion_datasets(config) if datasets == ["fusion"] else datasets
    return [f"results/latents/{latent_key(kind, name)}/{d}" for d in members]


def resolution_flag():
    """Latents are encoded at the training resolution: models.train.resolution, else the base's own."""
    resolution = config["models"]["train"].get("resolution")
    return f"--resolution {size_flag(resolution)}" if resolution else ""


def conversion_fingerprint(dataset):
    """A short hash of what made a dataset's images: stamped into its latent store."""
    text = json.dumps([convert_settings(dataset), index_settings(dataset)], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def base_input(setting, inpainting=False):
    """The tiny and the random true-size bases are built by rules; any other base is resolved (and
    checked) by the job that loads it."""
    if setting == "tiny":
        return TINY_INPAINT_DIR if inpainting else TINY_DIR
    if setting.removesuffix("-random") in RANDOM_BASES and setting.endswith("-random"):
        folder = f"results/models/base/{setting}"
        return f"{folder}-inpainting" if inpainting else folder
    return []


def model_base_input(kind, name):
    return base_input(model_base(kind, name), inpainting=kind == "inpaint")


def latent_base_input(key):
    return base_input(LATENT_BASES[key][1], inpainting=key == "inpaint")


def longest_trained(model):
    """Whether `model` has the most training steps of the text-to-image models (the critical path)."""
    steps = {name: train_settings("finetune", name)["steps"] for name in config["models"]["finetune"]}
    return steps[model] == max(steps.values())


def train_settings(kind, name):
    """models.train defaults, the model's own overrides, and default validation prompts."""
    settings = {**config["models"]["train"], **config["models"][kind][name].get("train", {})}
    settings.setdefault("validation_prompts", validation_prompts(config, kind, name))
    return canonical(settings)


def validation_encoder(kind, name):
    """The domain encoder a text-to-image run with validation_metrics measures its steps in."""
    measured = kind == "finetune" and train_settings(kind, name).get("validation_metrics")
    return "results/metrics/encoder" if measured else []


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


FUSION_MODELS = [name for name in FINETUNE if is_fusion(config, name)]


def one_of(names):
    """A wildcard pattern matching exactly these names (and nothing when there are none)."""
    return "|".join(names) or "^$"


FINETUNED_MODEL = one_of(FINETUNE)
INPAINT_MODEL = one_of(INPAINT)
FUSION_MODEL = one_of(FUSION_MODELS)
EXPORT = STUDY_MODELS if config["export"]["dicom"] else []  # grid points are compared, not exported


# --- super-resolution -----------------------------------------------------------------------------

SUPERRES_DATASETS = config["superres"]["datasets"] or DATASETS
SUPERRES_MODELS = sorted(config["superres"]["models"] or STUDY_MODELS) if SUPERRES else []  # name order
SUPERRES_MODEL = one_of(SUPERRES_MODELS)
SUPERRES_FACTOR = superres_factor(config) if SUPERRES else 0
TINY_UPSCALER_DIR = "results/models/base/tiny-upscaler"
RANDOM_UPSCALER = "x4-upscaler-random"  # superres.base: SD x4 upscaler's true size, random (the rehearsal)
RANDOM_UPSCALER_DIR = f"results/models/base/{RANDOM_UPSCALER}"


def superres_manifests():
    return [f"results/data/{d}/healthy.csv" for d in SUPERRES_DATASETS]


def upscaler_base_input():
    """The upscaler base the workflow builds itself: the tiny twin, or the random true-size x4 upscaler."""
    return {"tiny": TINY_UPSCALER_DIR, RANDOM_UPSCALER: RANDOM_UPSCALER_DIR}.get(config["superres"]["base"], [])


def upscaler_train_settings():
    """models.train under superres.train; the patch is the resolution; the caption kept for validation."""
    settings = {**config["models"]["train"], **config["superres"]["train"], "resolution": config["superres"]["patch"]}
    settings.setdefault("validation_prompts", ["a mammogram"])
    return canonical(settings)


def inpaint_healthy(name):
    """Healthy manifests of the datasets an inpainting model learned from: their held-out images."""
    return [f"results/data/{d}/healthy.csv" for d in config["models"]["inpaint"][name]["datasets"]]


def sampling_settings():
    """The sweep's settings shared by all models (the per-model prompts travel separately)."""
    return canonical({key: value for key, value in config["sampling"].items() if key != "prompts"})


# --- reader study ---------------------------------------------------------------------------------


def reader_rating_files():
    """What the ROC analysis reads: the observer's ratings (when on) and every configured file."""
    files = ["results/reader_study/ratings/observer.csv"] if config["reader_study"]["observer"] else []
    return files + [entry["file"] for entry in config["reader_study"]["ratings"]]


READER_MODEL = reader_model(config)
READER_GUIDANCE = reader_guidance(config)


# the downstream utility experiments (workflow/rules/downstream.smk)
UTILITY_TASKS = list(config["utility"]["tasks"])
CROSS_VENDOR = config["utility"]["cross_vendor"]
UTILITY = UTILITY_TASKS + (["cross_vendor"] if CROSS_VENDOR else [])


def utility_inputs(wildcards):
    """The real manifests, the synthetic sweep and (lesion task) the inpainting model's outputs."""
    return task_inputs(wildcards.task, config["utility"]["tasks"][wildcards.task]["model"])


def task_inputs(name, model):
    """A utility task's inputs with `model`'s sweep as its synthetic images."""
    task = config["utility"]["tasks"][name]
    inputs = {
        "healthy": f"results/data/{task['dataset']}/healthy.csv",
        "samples": f"results/samples/{model}/samples.csv",
        "images": f"results/samples/{model}/images",
    }
    if task["attribute"] == "lesion":
        inputs["lesions"] = f"results/data/{task['dataset']}/lesions.csv"
        inputs["inpainted"] = f"results/inpainting/{task['inpaint_model']}/inpainting.csv"
    return inputs


def utility_params(task):
    """The shared utility settings with this experiment's own (what its job's code fingerprint sees)."""
    shared = {k: v for k, v in config["utility"].items() if k not in ("tasks", "cross_vendor")}
    if task.get("classes"):  # their order matters (the last class is the positive one): pairs keep it
        task = {**task, "classes": [[name, values] for name, values in task["classes"].items()]}
    return canonical({**shared, "task": task})


# --- experiments ----------------------------------------------------------------------------------


def effective_value(model, key):
    """What a model trains with for `key`: its own base, or its merged training settings (the Trainer's
    default where the config leaves it unset)."""
    from mame.training.settings import TrainSettings

    if key == "base":
        return model_base("finetune", model)
    return train_settings("finetune", model).get(key, getattr(TrainSettings(), key, ""))


def experiment_rows():
    """Per block: its reference model with its own values of the varied keys, then each point."""
    rows = []
    for name in sorted(config["experiments"]):
        points = [p for p in EXPERIMENT_POINTS if p.experiment == name]
        keys = sorted({key for p in points for key in p.values})
        reference = points[0].model
        rows.append({"experiment": name, "model": reference, "role": "reference",
                     "values": {key: effective_value(reference, key) for key in keys}})  # fmt: skip
        rows += [{"experiment": name, "model": p.name, "role": "point", "values": p.values} for p in points]
    return canonical(rows)


EXPERIMENT_COMPARED = sorted({row["model"] for row in experiment_rows()})


def experiment_utility():
    """(model, task) for each compared model of a block and each of its `utility` tasks."""
    pairs = {(row["model"], task) for row in experiment_rows()
             for task in config["experiments"][row["experiment"]]["utility"]}  # fmt: skip
    return sorted(pairs)


EXPERIMENT_UTILITY = experiment_utility()


def experiment_utility_params(wildcards):
    """The task's settings as a grid comparison runs them (mame.experiments.comparison_utility)."""
    from mame.experiments import comparison_utility

    return canonical(comparison_utility(utility_params(config["utility"]["tasks"][wildcards.task]), READER_GUIDANCE))
