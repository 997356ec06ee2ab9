"""Which conditions a model is sampled with, as specs: dicts of prompt-builder arguments plus laterality.

A spec holds `view`, optionally `area`, `density`, `vendor`, `priority` (the prompt builder's arguments)
and `laterality`: R is not in the caption, the image is mirrored (the study's convention).
"""

from __future__ import annotations

import pandas as pd

from mame.config import fusion_datasets, is_fusion
from mame.prompts import ATTRIBUTE_WORDS, VIEWS, build_prompt, extremes

SPEC_COLUMNS = ("vendor", "view", "area", "density", "laterality")
UNSEEN = {"area": "density", "density": "area"}


def member_datasets(config: dict, name: str) -> list[str]:
    """The datasets a text-to-image model learned from (the fusion manifest expanded)."""
    datasets = config["models"]["finetune"][name]["datasets"]
    return fusion_datasets(config) if datasets == ["fusion"] else list(datasets)


def prompt_specs(config: dict, name: str) -> list[dict]:
    """`sampling.prompts.<name>` when given, else the model's views x its datasets' attribute extremes
    (with the vendor when the model is a fusion model)."""
    if name in config["sampling"]["prompts"]:
        return [dict(spec) for spec in config["sampling"]["prompts"][name]]
    fusion = is_fusion(config, name)
    specs = []
    for dataset in member_datasets(config, name):
        settings = config["datasets"][dataset]
        attribute = settings["prompt_attribute"]
        words = extremes(attribute) if attribute in ATTRIBUTE_WORDS else (None,)
        for view in VIEWS:
            for word in words:
                spec = {"view": view, "vendor": settings["vendor"] if fusion else None}
                if word:
                    spec[attribute] = word
                specs.append(spec)
    return specs


def extrapolation_specs(config: dict, name: str) -> list[dict]:
    """Each vendor with every value of the attribute its dataset never captioned: the study's concept
    extrapolation (a dataset captioned with no attribute has nothing to extrapolate)."""
    specs = []
    for dataset in member_datasets(config, name):
        settings = config["datasets"][dataset]
        unseen = UNSEEN.get(settings["prompt_attribute"])
        if unseen is None:
            continue
        for view in VIEWS:
            for word in ATTRIBUTE_WORDS[unseen]:
                specs.append({"vendor": settings["vendor"], "view": view, unseen: word})
    return specs


def prompt_of(spec: dict) -> str:
    """The caption of a spec (laterality is applied to the image, not the prompt)."""
    return build_prompt(**{key: value for key, value in spec.items() if key != "laterality"})


def mirrored(spec: dict) -> bool:
    """Right-breast images are mirrored, as the study stored them."""
    return spec.get("laterality") == "R"


def validation_prompts(config: dict, kind: str, name: str) -> list[str]:
    """Default validation prompts of a training run: the sweep's captions, or the lesion prompt."""
    if kind == "inpaint":
        return [config["models"]["inpaint"][name]["prompt"]]
    return [prompt_of(spec) for spec in prompt_specs(config, name)]


def describe_samples(
    rows: list[dict], specs: list[dict], columns: tuple[str, ...] = SPEC_COLUMNS
) -> pd.DataFrame:
    """The sweep's rows with what each image was asked to show (one column per spec attribute)."""
    table = pd.DataFrame(rows)
    for attribute in columns:
        table[attribute] = [specs[i].get(attribute) or "" for i in table["prompt_index"]]
    return table
