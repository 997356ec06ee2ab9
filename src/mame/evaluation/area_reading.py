"""Breast area read by its definition, not by a learned classifier.

A caption's area word is defined by a measurement: breast pixels over all pixels of the processed
image, binned at the thresholds (the study's 0.4 / 0.6). A sample is read by the same measurement, so a
generated breast that fills 0.65 of its canvas reads "big" whatever else it looks like. A classifier
learned from 24 px copies of the real images read the demo's area samples "small" nine times in ten
while their measured areas were big (bench/README.md, 2026-12-03).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mame.data.breast import area_fraction
from mame.data.rejections import Rejection
from mame.prompts import AREA_WORDS, area_word


def measured_area(image: np.ndarray) -> float:
    """The breast-area fraction of one image; 0 for an image with no breast (a blank sample)."""
    grey = image.mean(axis=-1) if image.ndim == 3 else image
    try:
        return area_fraction(grey)
    except Rejection:
        return 0.0


def bin_bounds(word: str, thresholds: tuple[float, float]) -> tuple[float, float]:
    """The [low, high) fractions an area word covers."""
    low, high = thresholds
    return {"small": (0.0, low), "medium": (low, high), "big": (high, math.inf)}[word]


def nearest_word(fraction: float, words: list[str], thresholds: tuple[float, float]) -> str:
    """The word among `words` whose bin holds `fraction`, else the one whose bin lies nearest."""

    def distance(word: str) -> float:
        low, high = bin_bounds(word, thresholds)
        return max(low - fraction, fraction - high, 0.0)

    return min(words, key=lambda word: (distance(word), AREA_WORDS.index(word)))


@dataclass
class AreaByDefinition:
    """The area reader: the same interface as fidelity.AttributeClassifier."""

    classes: list[str]
    asked: list[str]
    thresholds: tuple[float, float]
    ceiling: float  # balanced recall over `asked` of the measurement on the real images
    ceiling_images: int

    @property
    def setting(self) -> tuple[str, tuple[float, float]]:
        return ("definition", self.thresholds)

    @classmethod
    def fit(
        cls, images: list[np.ndarray], labels: list[str], asked: list[str], thresholds: tuple[float, float]
    ) -> AreaByDefinition:
        """Nothing is learned: the real images only give the ceiling (the measurement reproducing their
        labels; below 1 where the stored labels came from other thresholds or another measurement)."""
        labels = [str(label) for label in labels]
        reader = cls(sorted(set(labels)), sorted(set(asked)), tuple(thresholds), math.nan, 0)
        scored = [
            (image, label) for image, label in zip(images, labels, strict=True) if label in reader.asked
        ]
        if scored:
            from mame.evaluation.fidelity import balanced_recall  # fidelity imports this module

            read = reader.read([image for image, _ in scored])
            truth = [label for _, label in scored]
            reader.ceiling = balanced_recall(truth, read, reader.asked)
            reader.ceiling_images = len(scored)
        return reader

    def read(self, images: list[np.ndarray]) -> list[str]:
        """Among the asked words: the nearest bin."""
        return self.readings(images)[0]

    def readings(self, images: list[np.ndarray]) -> tuple[list[str], list[str]]:
        """Among the asked words, and among all three."""
        fractions = [measured_area(image) for image in images]
        asked = [nearest_word(f, self.asked, self.thresholds) for f in fractions]
        return asked, [area_word(min(1.0, f), self.thresholds) for f in fractions]
