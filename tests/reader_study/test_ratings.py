"""Rating files joined to the kit's key by case id, refused when misaligned, then analysed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mame.reader_study.analysis import analyse
from mame.reader_study.ratings import RATING_LABELS, RatingsError, join_to_key, rating_value, read_ratings
from mame.stats.auc import auc


def test_rating_values_accept_the_labels_and_1_to_5_only():
    assert [rating_value(label.upper() + "  ") for label in RATING_LABELS] == [1, 2, 3, 4, 5]
    assert rating_value("4") == 4 and rating_value("") is None and rating_value(float("nan")) is None
    for bad in ("0.25", "6", "maybe real", "0"):
        with pytest.raises(RatingsError, match="unknown answer"):
            rating_value(bad)


def _key(n=6):
    return pd.DataFrame(
        {"case_id": [f"case-{i:03d}" for i in range(1, n + 1)], "truth": ["real", "synthetic"] * (n // 2)}
    )


def test_a_form_export_in_any_row_order_joins_by_case_id(tmp_path):
    key = _key()
    answers = [
        "Definitely real",
        "Probably synthetic",
        "Probably synthetic",
        "Definitely synthetic",
        "probably real",
        "4",
    ]
    frame = pd.DataFrame({"Case ID": key["case_id"], "Answer": answers}).iloc[::-1]
    frame.to_csv(tmp_path / "form.csv", index=False)
    ratings = read_ratings(tmp_path / "form.csv", reader="Reader A")
    joined, warnings = join_to_key(ratings, key)
    assert warnings == []
    assert set(joined["reader"]) == {"Reader A"}
    by_case = joined.set_index("case_id")
    assert by_case.loc["case-002", "rating"] == 4 and by_case.loc["case-002", "synthetic"] == 1
    # synthetic [4, 5, 4] against real [1, 4, 2]: two ties of 4 with 4 count 1/2 each
    assert auc(
        joined.query("synthetic == 1")["rating"], joined.query("synthetic == 0")["rating"]
    ) == pytest.approx(8 / 9)


def test_a_wide_spreadsheet_one_row_per_reader(tmp_path):
    key = _key(4)
    wide = pd.DataFrame(
        [["Ann", "Definitely real", "Definitely synthetic", "Unsure", ""], ["Bob", "2", "3", "1", "5"]],
        columns=["Reader", *key["case_id"]],
    )
    wide.to_excel(tmp_path / "form.xlsx", index=False)
    ratings = read_ratings(tmp_path / "form.xlsx")
    joined, warnings = join_to_key(ratings, key)
    assert len(joined) == 7
    assert warnings == ["Ann did not rate 1 of 4 cases (case-004); they are left out of this reader's ROC"]


def test_misaligned_files_are_refused_with_the_offending_values(tmp_path):
    key = _key(4)
    other_kit = pd.DataFrame({"case_id": ["case-001", "case-099"], "rating": [1, 5]})
    with pytest.raises(RatingsError, match="case-099"):
        join_to_key(read_ratings(_write(tmp_path / "a.csv", other_kit), "A"), key)
    twice = pd.DataFrame({"case_id": ["case-001", "case-001"], "rating": [1, 5]})
    with pytest.raises(RatingsError, match="more than once: A / case-001"):
        join_to_key(read_ratings(_write(tmp_path / "b.csv", twice), "A"), key)
    off_scale = pd.DataFrame({"case_id": ["case-001", "case-002"], "rating": ["real-ish", "0.75"]})
    with pytest.raises(RatingsError, match="2 answers off the scale"):
        read_ratings(_write(tmp_path / "c.csv", off_scale), "A")
    with pytest.raises(RatingsError, match="no case column"):
        read_ratings(_write(tmp_path / "d.csv", pd.DataFrame({"x": [1]})), "A")


def _write(path, frame):
    frame.to_csv(path, index=False)
    return path


def test_analysis_pools_human_readers_and_keeps_the_observer_apart(tmp_path):
    rng = np.random.default_rng(0)
    key = pd.DataFrame(
        {"case_id": [f"case-{i:03d}" for i in range(1, 41)], "truth": ["real", "synthetic"] * 20}
    )
    files = []
    for name, shift in (("ann", 0.8), ("bob", 0.3), ("model", 3.0)):
        latent = rng.normal(0, 1, 40) + shift * (key["truth"] == "synthetic")
        ratings = np.clip(np.round(latent + 3), 1, 5).astype(int)
        files.append(
            _write(tmp_path / f"{name}.csv", pd.DataFrame({"case_id": key["case_id"], "rating": ratings}))
        )
    result = analyse(key, [str(f) for f in files], ["Ann", "Bob", "Observer"], observer=str(files[2]))
    assert result.readers.set_index("reader")["kind"].to_dict() == {
        "Ann": "human",
        "Bob": "human",
        "Observer": "model",
    }
    assert result.pooled.iloc[0]["readers"] == 2 and result.pooled.iloc[0]["reader_names"] == "Ann, Bob"
    assert result.pooled.iloc[0]["mean_auc"] == pytest.approx(result.readers["auc"].iloc[:2].mean())
    assert list(result.summary.index)[-1] == "mean of 2 readers (OR)"
    assert result.power.iloc[0]["cases"] == 40


def test_a_probability_column_beside_the_rating_is_kept_as_the_readers_continuous_score(tmp_path):
    frame = pd.DataFrame(
        {"case_id": ["case-001", "case-002"], "rating": [5, 2], "probability": [0.91, "n/a"]}
    )
    ratings = read_ratings(_write(tmp_path / "observer.csv", frame))
    assert ratings["probability"].iloc[0] == 0.91 and math.isnan(ratings["probability"].iloc[1])
    plain = read_ratings(_write(tmp_path / "human.csv", frame.drop(columns="probability")))
    assert plain["probability"].isna().all()
