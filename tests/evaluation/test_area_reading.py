"""Area is read by its definition: the breast-area fraction of the sample, binned at the thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PIL import Image

from mame.evaluation.area_reading import AreaByDefinition, measured_area, nearest_word
from mame.evaluation.fidelity import classify_attributes, fidelity_by_guidance

THRESHOLDS = (0.4, 0.6)


def _breast(fill: float, side: int = 64, seed: int = 0) -> np.ndarray:
    """A grey half-disc-like region covering `fill` of the canvas, on a dark background with noise."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 6, (side, side)).astype(np.uint8)
    width = int(round(fill * side))
    image[:, :width] = rng.integers(110, 170, (side, width))
    return image


def test_a_sample_is_read_by_its_measured_area_and_a_medium_one_by_the_nearest_asked_bin():
    assert abs(measured_area(_breast(0.25)) - 0.25) < 0.03
    assert nearest_word(0.25, ["small", "big"], THRESHOLDS) == "small"
    assert nearest_word(0.65, ["small", "big"], THRESHOLDS) == "big"
    assert nearest_word(0.52, ["small", "big"], THRESHOLDS) == "big"  # 0.08 from big, 0.12 from small
    assert nearest_word(0.47, ["small", "big"], THRESHOLDS) == "small"
    assert nearest_word(0.5, ["small", "medium", "big"], THRESHOLDS) == "medium"
    assert measured_area(np.full((16, 16), 7, np.uint8)) == 0.0  # a blank sample has no breast


def test_the_ceiling_is_the_measurement_reproducing_the_real_labels():
    fills = [0.2, 0.3, 0.5, 0.7, 0.8]
    images = [_breast(f, seed=i) for i, f in enumerate(fills)]
    labels = ["small", "small", "medium", "big", "big"]
    reader = AreaByDefinition.fit(images, labels, ["small", "big"], THRESHOLDS)
    assert reader.ceiling == 1.0 and reader.ceiling_images == 4 and reader.setting[0] == "definition"
    shifted = AreaByDefinition.fit(images, labels, ["small", "big"], (0.75, 0.9))  # not the labels' ones
    assert shifted.ceiling == 0.5  # the big ones (0.7, 0.8) now read small


def test_classify_attributes_reads_area_by_definition_whatever_else_the_image_shows(tmp_path):
    real_rows, sample_rows = [], []
    for i, fill in enumerate([0.2, 0.25, 0.3, 0.5, 0.55, 0.65, 0.7, 0.75]):
        path = tmp_path / f"real{i}.png"
        Image.fromarray(_breast(fill, seed=i)).save(path)
        word = "small" if fill < 0.4 else "medium" if fill < 0.6 else "big"
        real_rows.append({"image": str(path), "patient": f"p{i}", "split": "train", "area": word, "view": ""})
    for i, (asked, fill) in enumerate([("big", 0.7), ("big", 0.72), ("small", 0.2), ("small", 0.68)]):
        path = tmp_path / f"sample{i}.png"
        Image.fromarray(_breast(fill, seed=10 + i)).save(path)
        sample_rows.append({"file": str(path), "guidance": 7, "area": asked, "view": "", "density": ""})
    verdicts = classify_attributes(
        pd.DataFrame(sample_rows), pd.DataFrame(real_rows), area_thresholds=THRESHOLDS
    )
    assert verdicts["read"].tolist() == ["big", "big", "small", "big"]
    table = fidelity_by_guidance(verdicts)
    assert table["hits"].item() == 3 and table["real_ceiling"].item() == 1.0 and table["chance"].item() == 0.5
