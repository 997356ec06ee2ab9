"""Copy detection: aligned pixels see through shifts and flips, thresholds come from held-out images,
and planted copies of each kind are caught at the rates the report records."""

from __future__ import annotations

import numpy as np
import pytest

from mame.evaluation.copies import (
    KINDS,
    aligned_nearest,
    calibrate,
    copy_scores,
    detection_rates,
    feature_nearest,
    plant,
    thumbnails,
    thumbnails_and_features,
)


def _mammograms(rng, count: int, shape=(96, 64)) -> list[np.ndarray]:
    """Bright half-ellipses of random size on black, with random blobs of tissue."""
    images = []
    for _ in range(count):
        y, x = np.mgrid[: shape[0], : shape[1]]
        a, b = rng.uniform(0.6, 0.95) * shape[1], rng.uniform(0.3, 0.48) * shape[0]
        inside = (x / a) ** 2 + ((y - shape[0] / 2) / b) ** 2 < 1
        tissue = np.kron(rng.random((shape[0] // 8, shape[1] // 8)), np.ones((8, 8)))
        images.append((inside * (0.3 + 0.7 * tissue) * 255).astype(np.uint8))
    return images


def _embed(images: list[np.ndarray]) -> np.ndarray:
    """A stand-in feature space for the plumbing: 8 x 8 thumbnails."""
    return thumbnails(images, side=8).reshape(len(images), -1)


def test_aligned_correlation_sees_through_a_shift_and_a_flip():
    rng = np.random.default_rng(0)
    train = _mammograms(rng, 10)
    moved = [np.roll(train[3], 3, axis=1)[:, ::-1].copy()]
    index, score = aligned_nearest(thumbnails(moved), thumbnails(train))
    assert index[0] == 3 and score[0] > 0.95
    plain = thumbnails(moved).ravel() - thumbnails(moved).mean()
    reference = thumbnails(train)[3].ravel() - thumbnails(train)[3].mean()
    unaligned = float(plain @ reference / np.linalg.norm(plain) / np.linalg.norm(reference))
    assert unaligned < score[0] - 0.2  # without alignment the copy looks like another image


def test_threshold_from_one_half_of_holdout_graded_on_the_other():
    scores = np.linspace(0.1, 0.9, 10)
    threshold, false_positive = calibrate(scores, seed=0)
    assert threshold in scores and 0 <= false_positive <= 1
    assert calibrate(np.array([0.5]))[0] == 0.5 and np.isnan(calibrate(np.array([0.5]))[1])
    index, similarity = feature_nearest(np.array([[1.0, 0.0]]), np.array([[0.0, 2.0], [3.0, 0.1]]))
    assert index[0] == 1 and similarity[0] == pytest.approx(3 / np.hypot(3, 0.1))


def test_planted_copies_of_every_kind_are_caught_and_unseen_images_rarely():
    rng = np.random.default_rng(1)
    train, holdout = _mammograms(rng, 40), _mammograms(rng, 30)
    rates = detection_rates(train, _embed(train), holdout, _embed(holdout), _embed, count=15)
    pixels = rates[rates["detector"] == "aligned pixels"].set_index("planted")
    assert set(pixels.index) == set(KINDS) and (pixels["copies"] == 15).all()
    assert (pixels["rate"] == 1.0).all()  # exact, shifted, flipped and noised copies
    assert pixels["held_out_false_positive_rate"].iloc[0] <= 0.2
    features = rates[rates["detector"] == "features"].set_index("planted")
    assert features.loc["exact", "rate"] == 1.0


def test_samples_are_scored_and_flagged_against_calibrated_thresholds():
    rng = np.random.default_rng(2)
    train, holdout = _mammograms(rng, 30), _mammograms(rng, 20)
    samples = [*_mammograms(rng, 5), *plant(train[:2], "flipped", rng)]
    scores, thresholds = copy_scores(samples, _embed(samples), holdout, _embed(holdout), train, _embed(train))
    assert len(scores) == len(samples) + len(holdout)
    flagged = scores.loc[scores["source"] == "generated", "aligned_flagged"].tolist()
    assert flagged[-2:] == [True, True] and sum(flagged[:5]) <= 1
    assert not scores.loc[scores["source"] == "held-out real", "aligned_flagged"].any()
    assert thresholds.set_index("detector").loc["aligned pixels", "samples_flagged"] == sum(flagged)


def test_no_holdout_images_leaves_thresholds_at_one_and_rates_unknown():
    rng = np.random.default_rng(3)
    train = _mammograms(rng, 8)
    samples = _mammograms(rng, 3)
    scores, thresholds = copy_scores(samples, _embed(samples), [], np.zeros((0, 64)), train, _embed(train))
    assert len(scores) == 3 and thresholds["held_out_false_positive_rate"].isna().all()
    assert (thresholds["threshold"] == 1.0).all()


def test_files_are_read_once_for_thumbnail_and_features(tmp_path):
    from PIL import Image

    class _Encoder:
        model = None

        def embed_images(self, images):
            return np.zeros((len(images), 64))

    rng = np.random.default_rng(4)
    images = _mammograms(rng, 3)
    files = []
    for i, image in enumerate(images):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
        files.append(str(tmp_path / f"{i}.png"))
    empty_thumbs, empty_features = thumbnails_and_features([], _Encoder())
    assert empty_thumbs.shape == (0, 32, 32) and empty_features.shape == (0, 64)
    assert np.allclose(thumbnails(files), thumbnails(images))  # files and pixels give one thumbnail
