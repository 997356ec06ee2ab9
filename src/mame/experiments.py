"""Hyperparameter grids as models: each point of an `experiments:` block is a fine-tuned model.

The study tried batch sizes, step counts and learning rates by hand. Here a block names a model and
lists values per key, as a full grid (`grid`) or as explicit points (`points`); each point becomes a
model under `models.finetune` that inherits its model's datasets, base, prompts and training settings
and overrides the point's values. It is named from those values (`siemens_steps480`, `hologic_lr0p0001`),
so the name is readable and stable: extending a grid adds models and leaves the trained ones alone, and
Snakemake retrains only the new points. Every point then goes through the sweep and the evaluation as
the study's models do, and rule `experiments` compares them (mame.evaluation.experiments).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

MODEL_KEYS = ("base",)  # keys of the model itself; every other key is one of models.train's


class ExperimentError(ValueError):
    """A grid that cannot become models: named by its key."""


@dataclass(frozen=True)
class Point:
    experiment: str
    model: str  # the model the point varies
    name: str  # its own model name
    values: dict  # the varied keys' values


@cache
def train_keys() -> frozenset[str]:
    """models.train's keys, as the schema lists them (libyaml's loader where built: every parse asks)."""
    text = (Path(__file__).parent / "schemas" / "config.schema.yaml").read_text()
    schema = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return frozenset(schema["properties"]["models"]["properties"]["train"]["properties"])


def value_text(value) -> str:
    """A value as it appears in a model name: 0.0001 -> 0p0001, 1e-05 -> 1em05, True -> on."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        value = f"{value:g}"
    text = str(value).lower().replace(".", "p").replace("-", "m").replace("+", "")
    return re.sub(r"[^a-z0-9]+", "", text)


def point_name(model: str, values: dict) -> str:
    """`model` and each key with its value, keys in sorted order: siemens_lr0p0001_steps480."""
    keys = sorted(values)
    return "_".join([model, *(f"{key.replace('_', '')}{value_text(values[key])}" for key in keys)])


def block_points(name: str, block: dict) -> list[Point]:
    """The points of one block: its grid's full product (keys sorted), then its explicit points."""
    grid = block.get("grid") or {}
    keys = sorted(grid)
    combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*(grid[k] for k in keys))]
    combos = [c for c in combos if c] + [dict(p) for p in block.get("points") or []]
    if not combos:
        raise ExperimentError(f"experiments.{name} lists no grid values and no points")
    points, seen = [], set()
    for values in combos:
        point = Point(name, block["model"], point_name(block["model"], values), values)
        if point.name not in seen:
            seen.add(point.name)
            points.append(point)
    return points


def experiment_points(config: dict) -> list[Point]:
    """Every block's points, blocks in name order."""
    return [
        p
        for name in sorted(config.get("experiments") or {})
        for p in block_points(name, config["experiments"][name])
    ]


def point_settings(config: dict, point: Point, allowed: set[str]) -> dict:
    """The point's `models.finetune` entry: its model's, with the point's values over it."""
    finetune = config["models"]["finetune"]
    if point.model not in finetune:
        known = ", ".join(finetune)
        raise ExperimentError(
            f"experiments.{point.experiment}.model is {point.model!r}; fine-tuned models: {known}"
        )
    settings = {key: value for key, value in finetune[point.model].items()}
    train = dict(settings.get("train", {}))
    for key, value in point.values.items():
        if key in MODEL_KEYS:
            settings[key] = value
        elif key in allowed:
            train[key] = value
        else:
            raise ExperimentError(
                f"experiments.{point.experiment} varies {key!r}, which is neither a models.train key nor "
                f"one of {', '.join(MODEL_KEYS)}"
            )
    if train:
        settings["train"] = train
    return settings


def check_utility_columns(config: dict) -> None:
    """A block's `utility` tasks exist and learn from the block's model's samples (so each point's own
    samples can stand in for them)."""
    tasks = (config.get("utility") or {}).get("tasks") or {}
    for name, block in sorted((config.get("experiments") or {}).items()):
        for task in block.get("utility") or []:
            if task not in tasks:
                known = ", ".join(tasks) or "none"
                raise ExperimentError(f"experiments.{name}.utility names {task!r}; utility.tasks: {known}")
            if tasks[task]["model"] != block["model"]:
                raise ExperimentError(
                    f"experiments.{name}.utility: utility.tasks.{task} learns from {tasks[task]['model']}'s "
                    f"samples, not from {block['model']}'s (the block's model)"
                )


def comparison_utility(utility: dict, guidance: float) -> dict:
    """The utility settings a grid comparison runs a task with, per compared model: all real training
    images, as many synthetic as real, at the comparison's guidance (4 trainings per seed, not the
    task's full design of shares and ratios)."""
    return {**utility, "real_fractions": [1.0], "synthetic_ratios": [1.0], "guidance": [guidance]}


def expand_experiments(config: dict) -> list[Point]:
    """Add every point to `models.finetune` (and its model's `sampling.prompts`, where set). Idempotent: a
    point already there with the same settings stays; a different model of that name is an error."""
    allowed = train_keys()
    points = experiment_points(config)
    for point in points:
        settings = point_settings(config, point, allowed)
        present = config["models"]["finetune"].get(point.name)
        if present is not None and present != settings:
            raise ExperimentError(
                f"models.finetune.{point.name} exists and differs from experiments.{point.experiment}'s "
                "point of that name: rename the model"
            )
        config["models"]["finetune"][point.name] = settings
        prompts = config["sampling"].get("prompts") or {}
        if point.model in prompts:
            prompts.setdefault(point.name, prompts[point.model])
    return points


def varied_keys(points: list[Point]) -> list[str]:
    """The keys any point of these varies, sorted."""
    return sorted({key for point in points for key in point.values})
