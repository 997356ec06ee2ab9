"""The one config validator: the JSON schema (types, allowed values, defaults) and every check that spans
keys (datasets named by models, fusion members, the reader study's model and scale ...).

The Snakefile and `mame check-config` both call `check_config`, so a config the command accepts is a
config the workflow runs. The schema ships inside the package: an installed `mame` validates without
the repository.
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from pathlib import Path

import yaml

from mame.experiments import ExperimentError, check_utility_columns
from mame.shapes import as_shape


class ConfigError(ValueError):
    """A config the workflow cannot run; the message names the key and the allowed values."""


def schema_path() -> Path:
    """The config schema shipped with the package (workflow/schemas/ links to the same file)."""
    return Path(str(resources.files("mame") / "schemas" / "config.schema.yaml"))


@functools.lru_cache(maxsize=1)
def _schema() -> dict:
    """The schema, parsed once per process with libyaml where present: the Snakefile validates twice per
    parse, and every job (each SLURM job too) parses the workflow."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(schema_path().read_text(), Loader=loader)


@functools.lru_cache(maxsize=1)
def _filling_validator():
    """JSON Schema 2020-12 that also fills each missing property's default (jsonschema's FAQ recipe),
    a copy per config so no two configs share a default list."""
    from jsonschema import Draft202012Validator, validators

    check_properties = Draft202012Validator.VALIDATORS["properties"]

    def fill_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(Draft202012Validator, {"properties": fill_defaults})(_schema())


def validate_schema(config: dict) -> dict:
    """Check `config` against the schema and fill its defaults in place; the error names the key."""
    from jsonschema.exceptions import ValidationError

    try:
        _filling_validator().validate(config)
    except ValidationError as err:
        key = ".".join(str(part) for part in err.absolute_path)
        where = f"config key {key}" if key else "config"
        raise ConfigError(f"{where}: {' '.join(err.message.split())[:400]}") from None
    return config


def fusion_datasets(config: dict) -> list[str]:
    """The datasets the fusion manifest joins: as configured, else all of them."""
    return list(config["fusion"]["datasets"] or config["datasets"])


def is_fusion(config: dict, name: str) -> bool:
    """A text-to-image model trained on several vendors (their captions carry the vendor word)."""
    datasets = config["models"]["finetune"][name]["datasets"]
    return datasets == ["fusion"] or len(datasets) > 1


def reader_model(config: dict) -> str:
    """The model whose samples the reader study shows: as configured, else the first fusion model,
    else the first fine-tuned model ('' when there is none)."""
    finetune = list(config["models"]["finetune"])
    fusion = [name for name in finetune if is_fusion(config, name)]
    return config["reader_study"]["model"] or (fusion or finetune or [""])[0]


def reader_guidance(config: dict) -> float:
    """The scale of the kit's samples: as configured (one of the sweep's), else the sweep's middle one."""
    scales = sorted(config["sampling"]["guidance"])
    chosen = config["reader_study"]["guidance"]
    return scales[(len(scales) - 1) // 2] if chosen is None else chosen


def check_shapes(config: dict) -> None:
    """Image sizes that the models can take: multiples of the VAE factor times the UNet's downsampling,
    and a tiny model's aspect ratio equal to the processed images' (training must not stretch them)."""
    models = config["models"]
    sizes = {"models.train.resolution": models["train"].get("resolution")}
    if "tiny" in (models["base"], models["inpaint_base"]):
        tiny = models["tiny"]
        factor = 8 * 2 ** (len(tiny.get("unet_channels", (64, 128, 128))) - 1)
        sizes["models.tiny.resolution"] = tiny["resolution"]
        for key, size in sizes.items():
            if size is not None and any(side % factor for side in as_shape(size)):
                raise ConfigError(
                    f"{key} is {size}: each side must be a multiple of {factor} (VAE factor 8 x the tiny "
                    "UNet's downsampling)"
                )
        image_h, image_w = as_shape(config["convert"]["size"])
        for key, size in sizes.items():
            if size is None:
                continue
            height, width = as_shape(size)
            if abs(height / width - image_h / image_w) > 0.02:
                raise ConfigError(
                    f"{key} is {size} (height x width) but convert.size is {config['convert']['size']}: "
                    "give both the same aspect ratio, or training stretches every image"
                )


def check_tiny_family(config: dict) -> None:
    """Sana bases: SanaPipeline's sides (multiples of 32) for a tiny twin, and no inpainting twin for lesion
    models (Sana has no inpainting pipeline)."""
    models = config["models"]
    if models["inpaint"] and models["inpaint_base"] == "sana-random":
        raise ConfigError(
            "models.inpaint_base is sana-random, and Sana has no inpainting pipeline: set it to an SD or "
            "SDXL base (e.g. sdxl-random)"
        )
    if models["tiny"].get("family") != "sana" or "tiny" not in (models["base"], models["inpaint_base"]):
        return
    resolution = models["tiny"]["resolution"]
    if any(side % 32 for side in as_shape(resolution)):
        raise ConfigError(
            f"models.tiny.resolution is {resolution}: SanaPipeline needs each side a multiple of 32"
        )
    if models["inpaint"] and models["inpaint_base"] == "tiny":
        raise ConfigError(
            "models.tiny.family is sana, and Sana has no inpainting pipeline: set models.inpaint_base to an "
            "SD or SDXL base (e.g. sd15-random), or models.inpaint to {}"
        )


def check_utility(config: dict) -> None:
    """The utility experiments name datasets, models and guidance scales that exist."""
    utility, datasets = config["utility"], list(config["datasets"])
    finetune, inpaint = list(config["models"]["finetune"]), list(config["models"]["inpaint"])
    swept = [float(g) for g in config["sampling"]["guidance"]]
    experiments = {f"utility.tasks.{name}": task for name, task in utility["tasks"].items()}
    if utility["cross_vendor"]:
        experiments["utility.cross_vendor"] = utility["cross_vendor"]
    for key, task in experiments.items():
        for field in ("dataset", "train", "test"):
            if field in task and task[field] not in datasets:
                raise ConfigError(
                    f"{key}.{field} names {task[field]!r}; known datasets: {', '.join(datasets)}"
                )
        if task["model"] not in finetune:
            raise ConfigError(
                f"{key}.model names {task['model']!r}; fine-tuned models: {', '.join(finetune)}"
            )
        if task["attribute"] == "lesion" and task.get("inpaint_model") not in inpaint:
            raise ConfigError(
                f"{key}: the lesion task needs inpaint_model, one of: {', '.join(inpaint) or 'none'}"
            )
    for scale in utility["guidance"] if experiments else []:
        if float(scale) not in swept:
            raise ConfigError(
                f"utility.guidance has {scale}, which sampling.guidance ({swept}) does not sample"
            )


def superres_enabled(config: dict) -> bool:
    """The super-resolution stage runs when the conversion writes a full field and it is not off."""
    return bool(config["superres"]["enabled"] and config["convert"]["full_field"]["scale"])


def superres_factor(config: dict) -> int:
    """Full-field pixels per sample pixel: superres.factor, else the full-field size over the training
    resolution (the same on both axes)."""
    chosen = config["superres"]["factor"]
    if chosen:
        return int(chosen)
    models = config["models"]
    resolution = models["train"].get("resolution") or (
        models["tiny"]["resolution"] if models["base"] == "tiny" else None
    )
    if resolution is None:
        raise ConfigError(
            "superres.factor is null and the sample size is unknown (models.train.resolution is unset and "
            "models.base is not tiny): set superres.factor (stabilityai/stable-diffusion-x4-upscaler: 4)"
        )
    scale = config["convert"]["full_field"]["scale"]
    full = [scale * side for side in as_shape(config["convert"]["size"])]
    ratios = {full_side / side for full_side, side in zip(full, as_shape(resolution), strict=True)}
    if len(ratios) != 1 or not float(next(iter(ratios))).is_integer():
        raise ConfigError(
            f"the full field ({full[0]} x {full[1]}) is not a whole multiple of the training resolution "
            f"{resolution} on both axes; set superres.factor, convert.full_field.scale or the resolution"
        )
    return int(next(iter(ratios)))


def check_early_stopping(config: dict) -> None:
    """Early stopping reads the metrics during training: a model that asks for it measures them."""
    models = config["models"]
    for name, model in models["finetune"].items():
        settings = {**models["train"], **model.get("train", {})}
        if settings.get("early_stopping") and not (
            settings.get("validation_metrics") and settings.get("validation_every", 250)
        ):
            raise ConfigError(
                f"models.finetune.{name}: early_stopping reads the validation metrics; set "
                "validation_metrics: true and validation_every > 0 for it"
            )


def check_superres(config: dict) -> None:
    """The upscaler's factor, patch and tile fit its architecture, and it names known datasets and models."""
    if not superres_enabled(config):
        return
    superres = config["superres"]
    factor = superres_factor(config)
    if superres["base"] == "tiny" and factor not in (2, 4, 8, 16):
        raise ConfigError(
            f"the super-resolution factor is {factor}: the tiny upscaler needs 2, 4, 8 or 16 (a VAE halves "
            "the side per block); change convert.full_field.scale or models.tiny.resolution"
        )
    if superres["base"] == "x4-upscaler-random" and factor != 4:
        raise ConfigError(
            f"superres.base x4-upscaler-random is SD's x4 upscaler, but the factor is {factor}: set "
            "superres.factor (or convert.full_field.scale) so that it is 4"
        )
    depth = len(config["models"]["tiny"].get("unet_channels", (64, 128, 128))) - 1
    if superres["base"] == "x4-upscaler-random":
        depth = 3  # its UNet's four blocks
    unit = factor * 2**depth
    if superres["patch"] % unit:
        raise ConfigError(
            f"superres.patch is {superres['patch']}: it must be a multiple of {unit} (factor x UNet)"
        )
    if superres["tile"] % max(factor, 2**depth):
        raise ConfigError(
            f"superres.tile is {superres['tile']}: it must be a multiple of {max(factor, 2**depth)}"
        )
    for name in superres["datasets"]:
        if name not in config["datasets"]:
            raise ConfigError(f"superres.datasets names {name!r}; known: {', '.join(config['datasets'])}")
    for name in superres["models"]:
        if name not in config["models"]["finetune"]:
            known = ", ".join(config["models"]["finetune"])
            raise ConfigError(f"superres.models names {name!r}; fine-tuned models: {known}")
    distribution_patch = config["evaluation"]["full_field_distribution"]["patch"] or superres["patch"]
    full = [config["convert"]["full_field"]["scale"] * side for side in as_shape(config["convert"]["size"])]
    if distribution_patch > min(full):
        raise ConfigError(
            f"evaluation.full_field_distribution.patch is {distribution_patch} px (null: superres.patch) but "
            f"the full field is {full[0]} x {full[1]}: the patch must fit inside it"
        )
    names = set(config["models"]["finetune"]) | set(config["models"]["inpaint"])
    if "upscaler" in names:
        raise ConfigError("a model is named 'upscaler': that name is the super-resolution stage's")


def cross_check(config: dict) -> None:
    """Every rule that spans keys; raise ConfigError naming the key and what it may be."""
    datasets = list(config["datasets"])
    for name in config["fusion"]["datasets"]:
        if name not in datasets:
            raise ConfigError(
                f"fusion.datasets names {name!r}, which is not in datasets ({', '.join(datasets)})"
            )
    if config["convert"]["intensity"] == "fixed_max":
        for name, settings in config["datasets"].items():
            if "fixed_max" not in settings:
                raise ConfigError(
                    f"datasets.{name}.fixed_max is required when convert.intensity is fixed_max"
                )
    models = config["models"]
    finetune, inpaint = list(models["finetune"]), list(models["inpaint"])
    for name in sorted(set(finetune) & set(inpaint)):
        raise ConfigError(
            f"models.finetune and models.inpaint both define {name!r}; model names must be unique"
        )
    for kind, names in (("finetune", finetune), ("inpaint", inpaint)):
        for name in names:
            for dataset in models[kind][name]["datasets"]:
                if dataset not in datasets and not (dataset == "fusion" and kind == "finetune"):
                    known = ", ".join(datasets) + (", fusion" if kind == "finetune" else "")
                    raise ConfigError(f"models.{kind}.{name}.datasets names {dataset!r}; known: {known}")
    shared = models["train"].get("resolution")
    for kind, names in (("finetune", finetune), ("inpaint", inpaint)):
        for name in names:
            own = models[kind][name].get("train", {}).get("resolution", shared)
            if own != shared:
                raise ConfigError(
                    f"models.{kind}.{name}.train.resolution is {own} but models.train.resolution is "
                    f"{shared}: each dataset is encoded once at one resolution; set it in models.train"
                )
    check_shapes(config)
    check_tiny_family(config)
    check_utility(config)
    check_superres(config)
    check_early_stopping(config)
    try:
        check_utility_columns(config)
    except ExperimentError as err:
        raise ConfigError(str(err)) from None
    for name in config["sampling"]["prompts"]:
        if name not in finetune:
            raise ConfigError(
                f"sampling.prompts names {name!r}, which is not in models.finetune ({', '.join(finetune)})"
            )
    if not finetune:
        return
    study = config["reader_study"]
    model = reader_model(config)
    if model not in finetune:
        raise ConfigError(f"reader_study.model is {model!r}; fine-tuned models: {', '.join(finetune)}")
    scales = sorted(config["sampling"]["guidance"])
    if study["guidance"] is not None and not any(float(g) == float(study["guidance"]) for g in scales):
        raise ConfigError(
            f"reader_study.guidance is {study['guidance']}; it must be one of sampling.guidance {scales}"
        )
    if not study["observer"] and not study["ratings"]:
        raise ConfigError("reader_study: no observer and no rating files; set observer: true or list ratings")


def check_config(config: dict) -> dict:
    """Schema (with defaults filled in place) and every cross-check: the workflow's and the CLI's gate."""
    from mame.experiments import expand_experiments

    validate_schema(config)
    try:
        expand_experiments(config)
    except ExperimentError as err:
        raise ConfigError(str(err)) from None
    validate_schema(config)  # the points' values, in the models they became
    cross_check(config)
    return config


def load_config(path: str | Path) -> dict:
    """Read a YAML config and `check_config` it."""
    config = yaml.safe_load(Path(path).read_text()) or {}
    return check_config(config)
