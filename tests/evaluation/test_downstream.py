"""Downstream utility: AUC statistics, data scarcity, the arms, and whether synthetic data helps or hurts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from mame.evaluation.downstream import (
    PRETRAIN,
    REAL_ONLY,
    SYNTHETIC_ONLY,
    Experiment,
    Images,
    UtilitySettings,
    UtilitySkipped,
    auc_components,
    mixed,
    stratified_share,
    verdict,
)
from mame.evaluation.downstream_data import class_table, real_sets, synthetic_set, with_lesion_column
from mame.stats.auc import delong


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_binary_auc_components_are_delongs():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 40)
    scores = rng.random(40) + 0.4 * labels
    probabilities = np.stack([1 - scores, scores], axis=1)
    value, components = auc_components(probabilities, labels)
    reference = delong(scores[labels == 1], scores[labels == 0])
    assert value == pytest.approx(reference.estimate)
    assert math.sqrt(np.sum(components**2)) == pytest.approx(reference.se)


def test_several_classes_give_the_macro_one_vs_rest_auc():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 60)
    logits = rng.normal(size=(60, 3)) + np.eye(3)[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    value, components = auc_components(probabilities, labels)
    assert value == pytest.approx(roc_auc_score(labels, probabilities, multi_class="ovr", average="macro"))
    assert components.shape == (60,) and np.sum(components**2) > 0


def test_scarcity_keeps_each_class_share_and_at_least_one():
    labels = np.array([0] * 40 + [1] * 10)
    chosen = stratified_share(labels, 0.1, np.random.default_rng(0))
    assert np.bincount(labels[chosen]).tolist() == [4, 1]
    assert len(np.unique(chosen)) == len(chosen)
    assert len(stratified_share(labels, 1.0, np.random.default_rng(0))) == 50


def blobs(n: int, seed: int, noise: float = 0.0, swap: bool = False) -> Images:
    """16 px images whose class is a bright (1) or dim (0) disc; `noise` flips that share of labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    yy, xx = np.mgrid[0:16, 0:16]
    disc = ((xx - 8) ** 2 + (yy - 8) ** 2) < 20
    images = rng.random((n, 1, 16, 16)).astype(np.float32) * 0.3
    images[:, 0] += disc * (0.2 + 0.5 * labels[:, None, None])
    flipped = rng.random(n) < noise
    shown = np.where(flipped, 1 - labels, labels)
    return Images(torch.from_numpy(images), 1 - shown if swap else shown)


SETTINGS = UtilitySettings(seeds=3, real_fractions=(0.1, 1.0), synthetic_ratios=(2.0,), steps=60, lr=1e-2)


def test_good_synthetic_data_helps_when_real_data_are_scarce():
    train, test = blobs(60, 1, noise=0.35), blobs(60, 2)
    experiment = Experiment("toy", ["dim", "bright"], train, test, {4.0: blobs(80, 3)}, SETTINGS).run()
    runs = experiment.runs_table()
    assert len(runs) == experiment.trainings()  # every training is scored; pre-training as synthetic only
    summary = experiment.summary().set_index(["arm", "real_fraction"])
    scarce = summary.loc[(mixed(2.0), 0.1)]
    assert scarce["auc_mean"] > 0.9 and scarce["difference"] > 0.1 and scarce["difference_low"] > 0
    assert summary.loc[(SYNTHETIC_ONLY, 0.0), "auc_mean"] > 0.9
    assert summary.loc[(PRETRAIN, 0.1), "seeds"] == 3 and summary.loc[(REAL_ONLY, 0.1), "real_images"] == 6
    assert "raised the AUC" in verdict(experiment.summary())


def test_wrongly_labelled_synthetic_data_hurts_and_the_report_says_so():
    train, test = blobs(60, 1), blobs(60, 2)
    experiment = Experiment("toy", ["dim", "bright"], train, test, {4.0: blobs(80, 3, swap=True)}, SETTINGS)
    summary = experiment.run().summary().set_index(["arm", "real_fraction"])
    assert summary.loc[(SYNTHETIC_ONLY, 0.0), "auc_mean"] < 0.2
    assert summary.loc[(mixed(2.0), 1.0), "difference_high"] < 0  # twice as many wrong labels as right
    text = verdict(summary.reset_index())
    assert "lowered it" in text and "0 raised" in text


def test_an_experiment_without_two_test_cases_a_class_is_skipped_with_its_reason():
    train, test = blobs(20, 1), blobs(6, 2)
    test.labels[:] = 1
    with pytest.raises(UtilitySkipped, match="2 cases on each side"):
        Experiment("toy", ["dim", "bright"], train, test, {4.0: blobs(10, 3)}, SETTINGS).run()


def test_tasks_take_their_images_from_manifests_and_sweeps():
    names, mapping = class_table({"fatty": ["very low", "low"], "dense": ["high", "very high"]}, [])
    assert names == ["fatty", "dense"] and mapping["low"] == 0 and mapping["very high"] == 1
    # the workflow passes [name, values] pairs (its params sort dict keys): the order is kept
    assert class_table([["fatty", ["low"]], ["dense", ["high"]]], [])[0] == ["fatty", "dense"]
    real = pd.DataFrame(
        {
            "image": [f"r{i}.png" for i in range(6)],
            "patient": ["a", "a", "b", "c", "c", "d"],
            "density": ["very low", "high", "low", "very high", "", "high"],
            "split": ["train", "train", "train", "holdout", "holdout", "holdout"],
        }
    )
    train, test, names, mapping = real_sets(
        real, "density", {"fatty": ["very low", "low"], "dense": ["high"]}
    )
    assert train["label"].tolist() == [0, 1, 0] and test["image"].tolist() == ["r5.png"]  # unknown values out
    assert train["group"].tolist() == ["a", "a", "b"]
    samples = pd.DataFrame(
        {
            "file": ["s0.png", "s1.png", "s2.png", "s3.png"],
            "guidance": [4, 4, 7, 4],
            "density": ["very low", "high", "high", "high"],
            "vendor": ["siemens", "siemens", "siemens", "hologic"],
        }
    )
    chosen = synthetic_set(samples, 4, "density", mapping, vendor="siemens")
    assert chosen["image"].tolist() == ["s0.png", "s1.png"] and chosen["label"].tolist() == [0, 1]
    lesions = pd.DataFrame({"image": ["l0.png"], "patient": ["e"], "split": ["train"]})
    both = with_lesion_column(real, lesions)
    train, _, names, mapping = real_sets(both, "lesion", None)
    assert names == ["healthy", "lesion"] and train["label"].tolist() == [0, 0, 0, 1]
    inpainted = pd.DataFrame({"after": ["i0.png", "i1.png"]})
    synthetic = synthetic_set(samples, 4, "lesion", mapping, inpainted=inpainted)
    assert synthetic["label"].tolist() == [0, 0, 0, 1, 1]


def test_ratios_capped_at_the_same_pool_share_one_model():
    settings = UtilitySettings(seeds=1, real_fractions=(1.0,), synthetic_ratios=(0.5, 1.0, 2.0), steps=5)
    experiment = Experiment(
        "toy", ["dim", "bright"], blobs(40, 1), blobs(20, 2), {4.0: blobs(30, 3)}, settings
    )
    runs = experiment.run().runs_table().set_index("arm")
    assert runs.loc[mixed(0.5), "synthetic_images"] == 20
    assert runs.loc[mixed(1.0), "synthetic_images"] == runs.loc[mixed(2.0), "synthetic_images"] == 30
    assert runs.loc[mixed(1.0), "auc"] == runs.loc[mixed(2.0), "auc"]  # 1x and 2x both take all 30
