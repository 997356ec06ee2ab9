"""The grid comparison reads each point's evaluation tables at one guidance, combines MS-SSIM over
prompts with a propagated interval, and names a winner only where intervals clear."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mame.evaluation.experiments import comparison_table, experiments_figure, point_metrics, verdicts


def _tables(fd: float, accuracy: float, msssim: tuple[float, float], auc: float) -> dict[str, pd.DataFrame]:
    distribution = pd.DataFrame(
        [
            {
                "guidance": "real",
                "compared": "held-out real",
                "n": 40,
                "fd": 1.0,
                "fd_low": 0.5,
                "fd_high": 1.5,
            },
            {"guidance": "4.0", "compared": "samples", "n": 40, "fd": 99.0, "fd_low": 98.0, "fd_high": 100.0},
            {
                "guidance": "7.0",
                "compared": "samples",
                "n": 40,
                "fd": fd,
                "fd_low": fd - 1,
                "fd_high": fd + 1,
            },
        ]
    )
    fidelity = pd.DataFrame(
        [
            {
                "attribute": "density",
                "guidance": 7,
                "images": 40,
                "accuracy": accuracy,
                "ci_low": accuracy - 0.1,
                "ci_high": accuracy + 0.05,
            }
        ]  # fmt: skip
    )
    msssim = pd.DataFrame(
        [
            {"prompt": p, "guidance": 7, "mean": m, "ci_low": m - 0.0392, "ci_high": m + 0.0392}
            for p, m in zip("ab", msssim, strict=True)
        ]
    )
    separability = pd.DataFrame(
        [{"guidance": 7, "auc": auc, "ci_low": auc - 0.05, "ci_high": auc + 0.02, "synthetic": 20}]
    )
    return {
        "distribution": distribution,
        "fidelity": fidelity,
        "msssim": msssim,
        "separability": separability,
    }


def test_a_point_is_read_at_the_guidance_and_ms_ssim_pools_its_prompts():
    rows = {r["metric"]: r for r in point_metrics(guidance=7.0, **_tables(10.0, 0.8, (0.2, 0.4), 0.9))}
    assert set(rows) == {"fd", "fidelity_density", "msssim", "separability_auc"}
    assert (rows["fd"]["value"], rows["fd"]["n"]) == (10.0, 40)  # not guidance 4's row, not the floor
    # each prompt's interval is +-1.96 x 0.02; the mean of two has standard error 0.02 / sqrt(2)
    assert rows["msssim"]["value"] == pytest.approx(0.3)
    assert rows["msssim"]["high"] - rows["msssim"]["value"] == pytest.approx(
        1.959964 * 0.02 / np.sqrt(2), rel=1e-3
    )
    assert rows["msssim"]["n"] == 2 and rows["separability_auc"]["n"] == 20


def test_the_table_holds_every_point_and_names_a_winner_only_when_it_clears():
    points = [
        {"experiment": "steps", "model": "siemens", "role": "reference", "values": {"steps": 720}},
        {"experiment": "steps", "model": "siemens_steps480", "role": "point", "values": {"steps": 480}},
    ]
    tables = {
        "siemens": _tables(10.0, 0.85, (0.3, 0.3), 0.90),
        "siemens_steps480": _tables(20.0, 0.55, (0.31, 0.31), 0.91),
    }
    table = comparison_table(points, tables, 7.0)
    assert len(table) == 8 and set(table["model"]) == {"siemens", "siemens_steps480"}
    assert table[table["model"] == "siemens_steps480"]["steps"].unique().tolist() == [480]
    notes = verdicts(table)
    assert (
        "steps, fd: siemens is best (lower is better) and its interval clears every other point's." in notes
    )
    clears = "and its interval clears every other point's."
    assert f"steps, fidelity_density: siemens is best (higher is better) {clears}" in notes
    assert "steps, msssim: the intervals overlap; no point is better than the others." in notes
    assert "steps, separability_auc: the intervals overlap; no point is better than the others." in notes
    figure = experiments_figure(table)
    assert len(figure.axes) == 4 and figure.axes[0].get_xticklabels()[0].get_text() == "reference\nsteps=720"


def test_a_utility_task_rerun_on_each_points_samples_gives_its_two_columns(tmp_path):
    """Two points' samples through the comparison's utility settings: good samples train a classifier
    that reads the real test images, label-swapped ones one that reads them backwards, and adding the
    swapped ones to the real images lowers the AUC."""
    from test_downstream import blobs

    from mame.evaluation.downstream import Experiment, UtilitySettings
    from mame.experiments import comparison_utility

    shared = {"seeds": 2, "real_fractions": [0.1, 0.25, 1.0], "synthetic_ratios": [0.5, 2.0], "steps": 60,
              "batch_size": 32, "lr": 1e-2, "guidance": [4, 7]}  # fmt: skip
    chosen = comparison_utility(shared, 7.0)
    settings = UtilitySettings.from_config(chosen)
    assert chosen["guidance"] == [7.0] and settings.real_fractions == (1.0,)
    summaries = {}
    for model, swap in (("good", False), ("bad", True)):
        experiment = Experiment("toy", ["dim", "bright"], blobs(60, 1), blobs(60, 2),
                                {7.0: blobs(60, 3, swap=swap)}, settings).run()  # fmt: skip
        assert experiment.trainings() == 2 * 4  # real, synthetic only, pre-trained, mixed: per seed
        experiment.summary().to_csv(tmp_path / f"{model}.csv", index=False)
        summaries[model] = pd.read_csv(tmp_path / f"{model}.csv", keep_default_na=False)  # as read_table
    good = {r["metric"]: r for r in point_metrics(guidance=7.0, **_tables(10, 0.8, (0.2, 0.2), 0.9),
                                                  utility={"toy": summaries["good"]})}  # fmt: skip
    bad = {r["metric"]: r for r in point_metrics(guidance=7.0, **_tables(10, 0.8, (0.2, 0.2), 0.9),
                                                 utility={"toy": summaries["bad"]})}  # fmt: skip
    assert float(good["utility_toy"]["value"]) > 0.9 and float(bad["utility_toy"]["value"]) < 0.2
    assert int(good["utility_toy"]["n"]) == 60
    assert float(bad["utility_toy_gain"]["high"]) < 0  # as many wrong labels as right ones
    elsewhere = point_metrics(guidance=4.0, **_tables(10, 0.8, (0.2, 0.2), 0.9), utility=summaries)
    assert not [r for r in elsewhere if r["metric"].startswith("utility")]  # run at 7 only
    points = [{"experiment": "e", "model": m, "role": r, "values": {"lr": v}}
              for m, r, v in (("good", "reference", 1), ("bad", "point", 2))]  # fmt: skip
    tables = {m: {**_tables(10, 0.8, (0.2, 0.2), 0.9), "utility": {"toy": summaries[m]}} for m in summaries}
    table = comparison_table(points, tables, 7.0)
    clears = "and its interval clears every other point's."
    assert f"e, utility_toy: good is best (higher is better) {clears}" in verdicts(table)
    titles = [axis.get_title() for axis in experiments_figure(table).axes]
    assert "e: toy AUC: trained on synthetic only" in titles


def test_a_separability_too_small_to_cross_validate_gives_no_row_instead_of_failing():
    tables = _tables(10.0, 0.8, (0.2, 0.4), 0.9)
    tables["separability"] = pd.DataFrame(
        [{"guidance": 7, "real": 2, "synthetic": 2, "auc": float("nan"), "note": "too few groups"}]
    )
    rows = {r["metric"] for r in point_metrics(guidance=7.0, **tables)}
    assert rows == {"fd", "fidelity_density", "msssim"}
