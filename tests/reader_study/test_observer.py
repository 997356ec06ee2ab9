"""The automated observer: rates every case, separates an obvious difference."""

from __future__ import annotations

import pytest

from mame.reader_study.kit import KitSettings, draw_cases
from mame.reader_study.observer import observer_ratings, observer_training_samples
from mame.reader_study.ratings import join_to_key
from mame.stats.auc import auc

from conftest import read_ratings_frame


def test_observer_rates_every_case_and_separates_an_obvious_difference(study):
    real, samples = study
    key = draw_cases(real, samples, 7, KitSettings(real=4, synthetic=4, seed=0))
    synthetic_train = samples.loc[(samples["guidance"] == 4), "file"].tolist()
    ratings = observer_ratings(key, 48, real.loc[real["split"] == "train", "image"].tolist(), synthetic_train)
    assert ratings["case_id"].tolist() == key["case_id"].tolist()
    assert ratings["rating"].between(1, 5).all()
    joined, _ = join_to_key(read_ratings_frame(ratings), key)
    assert auc(joined.query("synthetic == 1")["rating"], joined.query("synthetic == 0")["rating"]) > 0.9
    with pytest.raises(ValueError, match="also training images"):
        observer_ratings(key, 48, key["source"].tolist(), synthetic_train)


def test_the_observer_learns_from_samples_at_the_kits_scale_that_are_not_in_the_kit(study):
    real, samples = study
    key = draw_cases(real, samples, 7, KitSettings(real=4, synthetic=4, seed=0))
    allowed = observer_training_samples(key, samples)
    assert len(allowed) == 8 - 4
    assert not set(allowed) & set(key["source"])
    assert set(samples.set_index("file").loc[allowed, "guidance"]) == {7}


def test_the_observer_never_learns_from_a_kit_cases_same_seed_siblings(study):
    real, samples = study
    samples = samples.assign(
        seed=[i % 4 for i in range(len(samples))], prompt_index=[i // 4 % 2 for i in range(16)]
    )
    key = draw_cases(real, samples, 7, KitSettings(real=4, synthetic=2, seed=0))
    kit_seeds = set(samples.set_index("file").loc[key.loc[key["truth"] == "synthetic", "source"], "seed"])
    allowed = samples.set_index("file").loc[observer_training_samples(key, samples)]
    assert not set(allowed["seed"]) & kit_seeds and set(allowed["guidance"]) <= {7}
