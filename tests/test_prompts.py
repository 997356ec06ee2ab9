"""The one prompt builder: the study's templates, the GUI's priorities, area bins, density words."""

from __future__ import annotations

import pytest

from mame.prompts import area_word, build_prompt, density_word


def test_study_templates():
    assert build_prompt("MLO", area="small") == "a mammogram in MLO view with small area"
    assert build_prompt("cc", density="very high") == "a mammogram in CC view with very high density"


def test_fusion_inserts_the_vendor():
    assert build_prompt("CC", area="big", vendor="Hologic") == "a hologic mammogram in CC view with big area"


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        ("area", "a siemens mammogram in MLO view with small area and low density"),
        ("density", "a siemens mammogram in MLO view with low density and small area"),
        ("only area", "a siemens mammogram in MLO view with small area"),
        ("only density", "a siemens mammogram in MLO view with low density"),
    ],
)
def test_priorities_order_or_drop_attributes(priority, expected):
    assert build_prompt("MLO", area="small", density="low", vendor="siemens", priority=priority) == expected


def test_no_attribute_gives_the_bare_view_prompt():
    assert build_prompt("CC") == "a mammogram in CC view"


@pytest.mark.parametrize(
    ("fraction", "word"),
    [(0.0, "small"), (0.399, "small"), (0.4, "medium"), (0.599, "medium"), (0.6, "big"), (1.0, "big")],
)
def test_area_bins_at_the_study_thresholds(fraction, word):
    assert area_word(fraction) == word


def test_area_thresholds_are_configurable():
    assert area_word(0.45, (0.3, 0.5)) == "medium"
    assert area_word(0.55, (0.3, 0.5)) == "big"


@pytest.mark.parametrize(
    ("density", "word"), [("A", "very low"), ("B", "low"), ("DENSITY C", "high"), ("d", "very high")]
)
def test_density_words(density, word):
    assert density_word(density) == word


def test_bad_values_are_named():
    with pytest.raises(ValueError, match="E"):
        density_word("E")
    with pytest.raises(ValueError, match="huge"):
        build_prompt("CC", area="huge")
    with pytest.raises(ValueError, match="sideways"):
        build_prompt("CC", priority="sideways")
    with pytest.raises(ValueError, match="1.2"):
        area_word(1.2)


@pytest.mark.parametrize(
    "spec",
    [
        {"view": "CC", "area": "big"},
        {"view": "MLO", "density": "very low", "vendor": "siemens"},
        {"view": "CC", "area": "small", "density": "very high"},
        {"view": "MLO"},
    ],
)
def test_a_built_prompt_parses_back_to_what_it_asks(spec):
    from mame.prompts import parse_prompt

    assert parse_prompt(build_prompt(**spec)) == spec
    assert parse_prompt("a mammogram with a lesion") == {}
