"""The blinded kit: seeded design, nothing hints at the truth, the page in a browser."""

from __future__ import annotations

import csv
import re

import pytest
from PIL import Image

from mame.reader_study.kit import KitSettings, draw_cases, write_kit
from mame.reader_study.ratings import RATING_LABELS, join_to_key, read_ratings


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


def test_the_kit_spends_as_few_seeds_as_it_needs(study):
    real, samples = study
    seeded = samples.assign(seed=[i % 8 for i in range(len(samples))])  # 8 seeds, one image each per scale
    key = draw_cases(real, seeded, 7, KitSettings(real=4, synthetic=3, seed=0))
    used = set(seeded.set_index("file").loc[key.loc[key["truth"] == "synthetic", "source"], "seed"])
    assert len(used) == 3  # three seeds for three cases: five seeds stay for the observer
