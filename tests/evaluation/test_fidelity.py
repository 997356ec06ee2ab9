"""Fidelity: classifiers pick shape features for shape attributes and texture for density; what they read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mame.evaluation.fidelity import AttributeClassifier, extrapolation_agreement


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
    assert shape.cv_accuracy > 0.9 and shape.accuracy(fresh, fresh_shapes) > 0.9
    assert texture.cv_accuracy > 0.9 and texture.accuracy(fresh, fresh_textures) > 0.9


def test_a_single_class_cannot_be_learned():
    with pytest.raises(ValueError, match="single value"):
        AttributeClassifier.fit("view", [np.zeros((8, 8), np.uint8)] * 4, ["CC"] * 4)


def test_extrapolation_agreement_counts_how_often_the_classifier_reads_what_was_asked():
    table = pd.DataFrame(
        {
            "vendor": ["hologic", "hologic", "siemens"],
            "area": ["", "", "big"],
            "density": ["low", "high", ""],
            "attribute": ["density", "density", "area"],
            "read": ["low", "low", "big"],
        }
    )
    agreement = extrapolation_agreement(table)
    assert agreement.values.tolist() == [["hologic", "density", 2, 0.5], ["siemens", "area", 1, 1.0]]
    assert list(agreement.columns) == ["vendor", "attribute", "images", "classifier agrees"]
