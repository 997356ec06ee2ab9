"""Sampling conditions: the sweep's default specs, configured specs, concept extrapolation, laterality."""

from __future__ import annotations

import copy

import yaml

from mame.config import check_config
from mame.sampling.specs import (
    describe_samples,
    extrapolation_specs,
    mirrored,
    prompt_of,
    prompt_specs,
    validation_prompts,
)

from conftest import REPO

CONFIG = check_config(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))


def test_a_single_vendor_model_is_asked_for_its_views_and_attribute_extremes():
    assert prompt_specs(CONFIG, "hologic") == [
        {"view": "CC", "vendor": None, "area": "small"},
        {"view": "CC", "vendor": None, "area": "big"},
        {"view": "MLO", "vendor": None, "area": "small"},
        {"view": "MLO", "vendor": None, "area": "big"},
    ]
    assert [prompt_of(s) for s in prompt_specs(CONFIG, "siemens")][:2] == [
        "a mammogram in CC view with very low density",
        "a mammogram in CC view with very high density",
    ]


def test_the_fusion_model_names_each_vendor_of_its_members():
    specs = prompt_specs(CONFIG, "fusion")
    assert len(specs) == 8 and {s["vendor"] for s in specs} == {"hologic", "siemens"}
    assert prompt_of(specs[0]) == "a hologic mammogram in CC view with small area"
    assert prompt_of(specs[-1]) == "a siemens mammogram in MLO view with very high density"


def test_configured_specs_replace_the_default_and_laterality_stays_out_of_the_caption():
    config = copy.deepcopy(CONFIG)
    config["sampling"]["prompts"] = {"hologic": [{"view": "CC", "area": "big", "laterality": "R"}]}
    (spec,) = prompt_specs(config, "hologic")
    assert prompt_of(spec) == "a mammogram in CC view with big area"
    assert mirrored(spec) and not mirrored({"view": "CC"}) and not mirrored({"view": "CC", "laterality": "L"})


def test_extrapolation_asks_each_vendor_for_every_value_it_never_saw():
    specs = extrapolation_specs(CONFIG, "fusion")
    hologic = [s for s in specs if s["vendor"] == "hologic"]
    siemens = [s for s in specs if s["vendor"] == "siemens"]
    assert {s["density"] for s in hologic} == {"very low", "low", "high", "very high"} and len(hologic) == 8
    assert {s["area"] for s in siemens} == {"small", "medium", "big"} and len(siemens) == 6
    assert all("area" not in s for s in hologic)


def test_validation_prompts_are_the_sweeps_captions_or_the_lesion_prompt():
    assert validation_prompts(CONFIG, "finetune", "hologic") == [
        prompt_of(s) for s in prompt_specs(CONFIG, "hologic")
    ]
    assert validation_prompts(CONFIG, "inpaint", "lesions") == ["a mammogram with a lesion"]


def test_describe_samples_records_what_each_image_was_asked_to_show():
    specs = [{"view": "CC", "area": "big", "laterality": "R"}, {"view": "MLO", "vendor": "siemens"}]
    table = describe_samples([{"prompt_index": 1}, {"prompt_index": 0}], specs)
    assert table[["vendor", "view", "area", "laterality"]].values.tolist() == [
        ["siemens", "MLO", "", ""],
        ["", "CC", "big", "R"],
    ]
