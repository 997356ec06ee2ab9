"""Reader study: the blinded kit, rating files joined to its key, the observer, and the page in a browser."""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mame.observer import observer_ratings
from mame.ratings import RATING_LABELS, RatingsError, join_to_key, rating_value, read_ratings
from mame.reader_kit import KitSettings, draw_cases, write_kit
from mame.roc import analyse, auc


def _png(path, value: int, side: int, mode: str = "L") -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    pixels = np.clip(rng.normal(value, 20, (side, side)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).convert(mode).save(path)
    return str(path)


@pytest.fixture
def study(tmp_path):
    """Held-out real images (96 px, RGB as the study stored them) and samples (48 px) at two guidances."""
    real = pd.DataFrame(
        {
            "image": [_png(tmp_path / "real" / f"r{i:02d}.png", 60 + i, 96, "RGB") for i in range(12)],
            "prompt": "a mammogram in CC view",
            "split": ["holdout"] * 8 + ["train"] * 4,
        }
    )
    samples = pd.DataFrame(
        {
            "file": [
                _png(tmp_path / "gen" / f"p00_g{g}_{i:03d}.png", 150 + i, 48)
                for g in (4, 7)
                for i in range(8)
            ],
            "guidance": [g for g in (4, 7) for _ in range(8)],
            "model": "fusion",
            "prompt": "a mammogram in CC view",
        }
    )
    return real, samples


def test_kit_draws_the_design_seeded_and_shuffled(study):
    real, samples = study
    key = draw_cases(real, samples, 7, KitSettings(real=5, synthetic=4, seed=3))
    assert key["truth"].value_counts().to_dict() == {"real": 5, "synthetic": 4}
    assert key["case_id"].tolist() == [f"case-{i:03d}" for i in range(1, 10)]
    assert set(key.loc[key["truth"] == "real", "source"]) <= set(
        real.loc[real["split"] == "holdout", "image"]
    )
    assert (key.loc[key["truth"] == "synthetic", "guidance"] == 7).all()
    assert key.equals(draw_cases(real, samples, 7, KitSettings(real=5, synthetic=4, seed=3)))
    assert not key.equals(draw_cases(real, samples, 7, KitSettings(real=5, synthetic=4, seed=4)))
    assert key["truth"].tolist() != sorted(key["truth"])  # not grouped by truth


def test_kit_refuses_a_design_larger_than_the_pool(study):
    real, samples = study
    with pytest.raises(ValueError, match="9 held-out real images but only 8"):
        draw_cases(real, samples, 7, KitSettings(real=9, synthetic=2))
    with pytest.raises(ValueError, match="no samples at guidance 10"):
        draw_cases(real, samples, 10, KitSettings(real=2, synthetic=2))


def test_nothing_a_reader_gets_hints_at_the_truth(study, tmp_path):
    real, samples = study
    key = draw_cases(real, samples, 7, KitSettings(real=5, synthetic=5, seed=1))
    page = write_kit(key, 48, tmp_path / "kit")
    files = sorted((tmp_path / "kit" / "images").iterdir())
    assert [f.name for f in files] == [f"{c}.png" for c in key["case_id"]]
    for file in files:
        with Image.open(file) as image:
            assert (image.size, image.mode, image.format) == ((48, 48), "L", "PNG")
            assert not image.info or set(image.info) <= {"dpi"}  # no text chunks
    html = page.read_text()
    for source in key["source"]:
        assert source.split("/")[-1] not in html
    assert "real" not in " ".join(p.name for p in (tmp_path / "kit").rglob("*"))
    assert not (tmp_path / "kit" / "key.csv").exists()
    assert "http://" not in html and "https://" not in html  # offline: nothing to fetch


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


def read_ratings_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(answer=frame["label"])[["reader", "case_id", "rating", "answer"]]


def test_the_kit_page_in_a_browser_rates_goes_back_persists_and_exports(study, tmp_path, browser):
    real, samples = study
    key = draw_cases(real, samples, 7, KitSettings(real=4, synthetic=3, seed=2))
    page_path = write_kit(key, 48, tmp_path / "kit")
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_path.as_uri())
    page.fill("#reader", "Reader A")
    chosen = {}
    for i, case_id in enumerate(key["case_id"]):
        assert page.inner_text("#case-label") == case_id
        src = page.get_attribute("#case-image", "src")
        assert src.startswith("data:image/png;base64,")
        chosen[case_id] = i % 5 + 1
        page.click(f'button[data-rating="{chosen[case_id]}"]')
    assert page.is_visible("#done")
    page.click("#back")  # last case stays shown after rating; back moves to the one before
    previous = key["case_id"].iloc[-2]
    assert page.inner_text("#case-label") == previous
    assert page.get_attribute(f'button[data-rating="{chosen[previous]}"]', "aria-pressed") == "true"
    page.keyboard.press("5")
    chosen[previous] = 5
    page.reload()  # progress survives a reload
    assert page.input_value("#reader") == "Reader A"
    assert page.inner_text("#progress") == f"{len(key)} of {len(key)} rated"
    with page.expect_download() as download_info:
        page.click("#export")
    exported = tmp_path / "exported.csv"
    download_info.value.save_as(exported)
    assert re.match(r"ratings-Reader_A-[0-9a-f]{12}\.csv", download_info.value.suggested_filename)
    with open(exported) as handle:
        rows = list(csv.DictReader(handle))
    assert {r["case_id"]: int(r["rating"]) for r in rows} == chosen
    assert {r["label"] for r in rows} <= set(RATING_LABELS)
    joined, warnings = join_to_key(read_ratings(exported), key)
    assert warnings == [] and set(joined["reader"]) == {"Reader A"}
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requests)
    context.close()
