"""Hyperparameter grids become models: names from values, stable and readable; a point inherits its
model's settings; bad keys and values are config errors before any job runs."""

from __future__ import annotations

import copy

import pytest
import yaml

from mame.config import ConfigError, check_config
from mame.experiments import block_points, point_name, value_text

from conftest import REPO

DEMO = yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_values_become_readable_name_parts():
    assert [value_text(v) for v in (0.0001, 1e-05, 480, True, False, "cosine")] == [
        "0p0001", "1em05", "480", "on", "off", "cosine",
    ]  # fmt: skip
    assert point_name("siemens", {"steps": 480, "lr": 1e-4}) == "siemens_lr0p0001_steps480"
    assert point_name("hologic", {"caption_dropout": 0.2}) == "hologic_captiondropout0p2"


def test_a_grid_is_the_full_product_then_the_explicit_points_without_repeats():
    block = {
        "model": "m",
        "grid": {"steps": [1, 2], "lr": [0.1, 0.2]},
        "points": [{"steps": 1, "lr": 0.1}, {"batch_size": 4}],
    }
    names = [p.name for p in block_points("g", block)]
    assert names == ["m_lr0p1_steps1", "m_lr0p1_steps2", "m_lr0p2_steps1", "m_lr0p2_steps2", "m_batchsize4"]


def test_each_point_is_a_model_with_its_model_s_settings_and_its_own_values():
    config = copy.deepcopy(DEMO)
    config["experiments"] = {"steps": {"model": "siemens", "grid": {"steps": [240, 360]}}}
    config["sampling"]["prompts"] = {"siemens": [{"view": "CC", "density": "very low"}]}
    check_config(config)
    finetune = config["models"]["finetune"]
    siemens_train = DEMO["models"]["finetune"]["siemens"]["train"]
    assert finetune["siemens_steps240"] == {"datasets": ["vindr"], "train": {**siemens_train, "steps": 240}}
    assert (
        finetune["siemens_steps360"]["train"]["steps"] == 360
        and finetune["siemens"]["train"]["steps"] == siemens_train["steps"]
    )
    assert config["sampling"]["prompts"]["siemens_steps240"] == config["sampling"]["prompts"]["siemens"]
    again = copy.deepcopy(config)
    assert check_config(again)["models"]["finetune"] == finetune  # checking twice changes nothing


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"model": "ge", "grid": {"lr": [0.1]}}, "experiments.bad.model is 'ge'"),
        ({"model": "hologic", "grid": {"learning_rate": [0.1]}}, "varies 'learning_rate', which is neither"),
        ({"model": "hologic", "grid": {"steps": [0]}}, "0 is less than the minimum of 1"),
        ({"model": "hologic"}, "lists no grid values and no points"),
    ],
)
def test_a_bad_grid_is_a_config_error_naming_it(block, message):
    config = copy.deepcopy(DEMO)
    config["experiments"] = {"bad": block}
    with pytest.raises(ConfigError, match=message):
        check_config(config)


def test_a_model_already_named_as_a_point_but_different_is_refused():
    config = copy.deepcopy(DEMO)
    config["models"]["finetune"]["hologic_lr0p1"] = {"datasets": ["vindr"]}
    config["experiments"] = {"lr": {"model": "hologic", "grid": {"lr": [0.1]}}}
    with pytest.raises(ConfigError, match="hologic_lr0p1 exists and differs"):
        check_config(config)
