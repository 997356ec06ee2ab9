"""ROC statistics against sklearn and against values worked out by hand from the published formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mame.reader_study.analysis import reader_table


def test_the_reader_table_switches_to_newcombe_only_at_the_boundary():
    cases = np.arange(12)
    separated = pd.DataFrame(
        {
            "reader": "observer",
            "case_id": cases,
            "rating": np.r_[np.full(6, 5), np.full(6, 1)],
            "synthetic": np.r_[np.ones(6), np.zeros(6)].astype(int),
        }
    )
    rng = np.random.default_rng(0)
    mixed = separated.assign(reader="reader", rating=rng.integers(1, 6, 12))
    table, _ = reader_table(pd.concat([separated, mixed]), {"observer": "model"}, resamples=200)
    rows = table.set_index("reader")
    assert (
        rows.loc["observer", "ci_method"] == "Newcombe (boundary)" and rows.loc["observer", "ci_low"] < 0.95
    )
    assert rows.loc["reader", "ci_method"] == "DeLong"


def test_the_observers_probability_gets_its_own_auc_beside_the_rating():
    rng = np.random.default_rng(4)
    truth = np.r_[np.ones(20), np.zeros(20)].astype(int)
    probability = np.clip(0.5 + 0.3 * (truth - 0.5) + rng.normal(0, 0.2, 40), 0, 1)
    joined = pd.DataFrame(
        {
            "reader": "observer",
            "case_id": np.arange(40),
            "rating": np.digitize(probability, (0.2, 0.4, 0.6, 0.8)) + 1,
            "probability": probability,
            "synthetic": truth,
        }
    )
    row = reader_table(joined, {"observer": "model"}, resamples=100)[0].iloc[0]
    assert row["probability_auc"] == pytest.approx(roc_auc_score(truth, probability))
    assert row["probability_auc"] != row["auc"]  # five categories lose ties
    assert row["probability_ci_low"] < row["probability_auc"] < row["probability_ci_high"]
    human = reader_table(joined.drop(columns="probability"), {}, resamples=100)[0].iloc[0]
    assert math.isnan(human["probability_auc"])
