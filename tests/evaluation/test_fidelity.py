"""Fidelity: classifiers learn shape and texture attributes from real images; samples are read
among the asked values (chance 1/k), the ceiling is patient-grouped and nested, every share has a CI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mame.evaluation.fidelity import (
    AttributeClassifier,
    balanced_recall,
    classify_among,
    extrapolation_agreement,
    fidelity_by_guidance,
    fidelity_confusion,
)
from mame.stats.proportions import wilson


def _images(rng, count: int):
    images, shapes, textures = [], [], []
    for i in range(count):
        image = np.zeros((48, 48), np.uint8)
        wide = i % 2 == 0
        region = (slice(4, 44), slice(0, 30)) if wide else (slice(0, 24), slice(0, 44))
        dense = rng.random() < 0.5
        tissue = rng.choice([90, 200], size=image[region].shape, p=[0.2, 0.8] if dense else [0.8, 0.2])
        image[region] = tissue
        images.append(image)
        shapes.append("wide" if wide else "tall")
        textures.append("dense" if dense else "fatty")
    return images, shapes, textures


def test_shape_and_texture_attributes_are_learned_and_read_back():
    rng = np.random.default_rng(0)
    images, shapes, textures = _images(rng, 60)
    shape = AttributeClassifier.fit("view", images, shapes)
    texture = AttributeClassifier.fit("density", images, textures)
    fresh, fresh_shapes, fresh_textures = _images(np.random.default_rng(1), 30)
    assert shape.ceiling > 0.9 and shape.accuracy(fresh, fresh_shapes) > 0.9
    assert texture.ceiling > 0.9 and texture.accuracy(fresh, fresh_textures) > 0.9


def test_a_single_class_or_an_unknown_asked_value_cannot_be_read():
    with pytest.raises(ValueError, match="single value"):
        AttributeClassifier.fit("view", [np.zeros((8, 8), np.uint8)] * 4, ["CC"] * 4)
    images, shapes, _ = _images(np.random.default_rng(0), 12)
    with pytest.raises(ValueError, match="never occur"):
        AttributeClassifier.fit("view", images, shapes, asked=["wide", "round"])


class _ConstantMedium:
    """A classifier that ignores the image: 'medium' first, then 'big', then 'small'."""

    classes_ = np.array(["big", "medium", "small"])

    def predict_proba(self, x):
        return np.tile([0.3, 0.6, 0.1], (len(x), 1))


def _verdicts(read, read_all, asked):
    return pd.DataFrame(
        {
            "file": [f"{i}.png" for i in range(len(asked))],
            "guidance": 7.0,
            "attribute": "area",
            "asked": asked,
            "read": read,
            "read_all_classes": read_all,
            "chance": 1 / len(set(asked)),
            "real_ceiling": 0.9,
            "ceiling_images": 40,
        }
    )


def test_a_classifier_that_ignores_the_image_scores_chance_among_the_asked_extremes():
    asked = ["big", "small"] * 32  # a balanced two-extreme prompt set
    x = np.zeros((len(asked), 3))
    model = _ConstantMedium()
    read = classify_among(model, x, ["big", "small"])
    table = fidelity_by_guidance(_verdicts(read, model.classes_[model.predict_proba(x).argmax(1)], asked))
    row = table.iloc[0]
    assert row["chance"] == 0.5 and row["accuracy"] == 0.5  # at chance, not 'below chance'
    assert row["read_outside_asked"] == 1.0  # an all-class reading would score it 0
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(32, 64))
    assert row["ci_high"] - row["ci_low"] == pytest.approx(0.24, abs=0.01)  # n = 64: about +-0.12


def test_confusion_cells_are_shares_of_their_asked_row_with_wilson_intervals():
    asked = ["big"] * 4 + ["small"] * 4
    read = ["big", "big", "big", "small", "small", "small", "big", "big"]
    confusion = fidelity_confusion(_verdicts(read, read, asked)).set_index(["asked", "read"])
    assert confusion["count"].to_dict() == {
        ("big", "big"): 3,
        ("big", "small"): 1,
        ("small", "big"): 2,
        ("small", "small"): 2,
    }
    assert confusion.loc[("big", "big"), "share"] == 0.75
    assert (confusion.loc[("small", "big"), ["ci_low", "ci_high"]].tolist()) == pytest.approx(wilson(2, 4))


def test_balanced_recall_weighs_each_asked_class_alike():
    truth = np.array(["a", "a", "a", "b"])
    assert balanced_recall(truth, np.array(["a", "a", "a", "a"]), ["a", "b"]) == 0.5
    assert balanced_recall(truth, np.array(["a", "a", "a", "b"]), ["a", "b"]) == 1.0


def _patients(rng, count: int, images_each: int = 4):
    """Each woman's images share her own pattern; her density is a coin flip the pattern does not show."""
    images, labels, groups = [], [], []
    for patient in range(count):
        pattern = np.kron(rng.random((6, 6)), np.ones((8, 8)))
        label = "very high" if patient % 2 else "very low"
        for _ in range(images_each):
            image = np.clip(pattern + 0.02 * rng.standard_normal(pattern.shape), 0, 1)
            images.append((image * 255).astype(np.uint8))
            labels.append(label)
            groups.append(f"p{patient}")
    return images, labels, groups


def test_the_ceiling_is_patient_grouped_so_recognising_a_woman_is_not_reading_her_density():
    images, labels, groups = _patients(np.random.default_rng(3), 30)
    by_image = AttributeClassifier.fit("density", images, labels)  # folds that split a woman's images
    by_patient = AttributeClassifier.fit("density", images, labels, groups)
    assert by_image.ceiling > 0.9  # memorised patients look like a ceiling
    assert by_patient.ceiling < 0.75  # the density itself is not in the images
    assert by_patient.ceiling_images == len(images)


def test_wilson_interval_known_values_and_boundaries():
    low, high = wilson(0, 10)
    assert low == 0 and high == pytest.approx(3.8415 / 13.8415, abs=1e-4)
    assert wilson(10, 10) == pytest.approx((1 - high, 1.0))
    assert wilson(32, 64) == pytest.approx((0.3810, 0.6190), abs=1e-4)
    assert np.isnan(wilson(0, 0)[0])


def test_extrapolation_agreement_counts_how_often_the_classifier_reads_what_was_asked():
    table = pd.DataFrame(
        {
            "vendor": ["hologic", "hologic", "siemens"],
            "area": ["", "", "big"],
            "density": ["low", "high", ""],
            "attribute": ["density", "density", "area"],
            "read": ["low", "low", "big"],
            "chance": [0.25, 0.25, 1 / 3],
        }
    )
    agreement = extrapolation_agreement(table).set_index(["vendor", "attribute"])
    assert agreement["images"].tolist() == [2, 1]
    assert agreement["classifier agrees"].tolist() == [0.5, 1.0]
    assert agreement["chance"].tolist() == [0.25, 0.333]
    assert agreement.loc[("hologic", "density"), ["ci_low", "ci_high"]].tolist() == pytest.approx(
        np.round(wilson(1, 2), 3)
    )
