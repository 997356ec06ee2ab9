"""ROC statistics against sklearn and against values worked out by hand from the published formulas."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from mame.stats.auc import (
    auc,
    bootstrap,
    delong,
    delong_covariance,
    empirical_roc,
    equivalence_p,
    format_p,
    newcombe,
    p_vs_chance,
)
from mame.stats.binormal import fit_binormal
from mame.stats.multireader import random_reader_test
from mame.stats.planning import Planning, cases_needed, chance_auc_variance, ci_half_width_at_chance


def test_auc_equals_sklearn_on_ordinal_ratings_with_ties():
    rng = np.random.default_rng(3)
    positive, negative = rng.integers(1, 6, 40), rng.integers(1, 5, 37)
    labels = np.r_[np.ones(40), np.zeros(37)]
    assert auc(positive, negative) == pytest.approx(
        roc_auc_score(labels, np.r_[positive, negative]), abs=1e-12
    )


def test_delong_on_a_case_worked_by_hand():
    # psi rows (positives 2, 3, 5) x columns (negatives 1, 3): [1, 0], [1, 1/2], [1, 1]
    # AUC = 4.5 / 6; V10 = [1/2, 3/4, 1] -> S10 = 1/16; V01 = [1, 1/2] -> S01 = 1/8
    # Var = S10 / 3 + S01 / 2 = 1/48 + 1/16 = 1/12
    result = delong([2, 3, 5], [1, 3])
    assert result.estimate == pytest.approx(0.75)
    assert result.se == pytest.approx(math.sqrt(1 / 12))
    assert result.low == pytest.approx(0.75 - 1.959964 * math.sqrt(1 / 12), abs=1e-6)
    assert result.high == 1.0  # clipped


def test_delong_covariance_of_two_readers_worked_by_hand():
    # reader B on the same cases: positives [1, 3, 4], negatives [2, 3]
    # psi = [0, 0], [1, 1/2], [1, 1]: V10 = [0, 3/4, 1], V01 = [2/3, 1/2]
    # Cov10(A, B) = cov([1/2, 3/4, 1], [0, 3/4, 1]) = 1/8; Cov01 = cov([1, 1/2], [2/3, 1/2]) = 1/24
    # Cov = (1/8) / 3 + (1/24) / 2 = 1/24 + 1/48 = 1/16
    covariance = delong_covariance(
        [np.array([2, 3, 5]), np.array([1, 3, 4])], [np.array([1, 3]), np.array([2, 3])]
    )
    assert covariance[0, 1] == pytest.approx(1 / 16)
    assert covariance[1, 0] == pytest.approx(1 / 16)
    assert covariance[0, 0] == pytest.approx(1 / 12)


def _exact_bootstrap(positive, negative):
    """Every stratified resample of a tiny design, equally likely: the ideal bootstrap distribution."""
    values = [
        auc(np.array(p), np.array(n))
        for p in itertools.product(positive, repeat=len(positive))
        for n in itertools.product(negative, repeat=len(negative))
    ]
    return np.array(values)


def test_bootstrap_matches_the_exact_bootstrap_distribution():
    positive, negative = [2, 3, 5, 4], [1, 3, 2]
    exact = _exact_bootstrap(positive, negative)  # 4^4 x 3^3 = 6912 resamples
    result = bootstrap(np.array(positive), np.array(negative), resamples=20000, seed=1)
    assert result.se == pytest.approx(exact.std(), rel=0.03)
    for level, estimate in ((0.025, result.low), (0.975, result.high)):
        # the estimate is an atom of the exact distribution whose CDF brackets the level
        below, at_or_below = (exact < estimate).mean(), (exact <= estimate).mean()
        assert below - 0.01 <= level <= at_or_below + 0.01


def test_bootstrap_se_agrees_with_delong_on_a_large_sample():
    rng = np.random.default_rng(0)
    positive, negative = rng.normal(0.8, 1, 300), rng.normal(0, 1, 300)
    assert bootstrap(positive, negative, 2000, seed=2).se == pytest.approx(
        delong(positive, negative).se, rel=0.1
    )


def test_empirical_roc_runs_from_origin_to_corner_and_integrates_to_the_auc():
    positive, negative = np.array([2, 3, 5, 5]), np.array([1, 3, 3, 4])
    fpf, tpf = empirical_roc(positive, negative)
    assert (fpf[0], tpf[0], fpf[-1], tpf[-1]) == (0, 0, 1, 1)
    assert np.trapezoid(tpf, fpf) == pytest.approx(auc(positive, negative))


def test_binormal_fit_recovers_the_generating_model():
    rng = np.random.default_rng(5)
    a, b, thresholds = 1.2, 0.7, [-0.6, 0.2, 0.9, 1.6]
    negative = np.digitize(rng.normal(0, 1, 4000), thresholds) + 1
    positive = np.digitize(rng.normal(a / b, 1 / b, 4000), thresholds) + 1  # latent mean a/b, sd 1/b
    fit = fit_binormal(positive, negative)
    assert fit.a == pytest.approx(a, abs=0.08)
    assert fit.b == pytest.approx(b, abs=0.06)
    assert np.allclose(fit.thresholds, thresholds, atol=0.08)
    assert fit.az == pytest.approx(stats.norm.cdf(a / math.sqrt(1 + b * b)), abs=0.01)
    assert 0.002 < fit.az_se < 0.02


def test_binormal_fit_refuses_data_without_a_maximum():
    separated = fit_binormal([4, 5, 5], [1, 2, 2])
    assert math.isnan(separated.az) and "separation" in separated.note
    assert "one category" in fit_binormal([3, 3], [3, 3]).note


def test_random_reader_test_worked_by_hand():
    # AUCs 0.6, 0.7, 0.8: MS_R = 0.01; Cov2 = 0.002 -> Var(mean) = 0.01 / 3 + 0.002 = 0.0053333
    # df = (0.01 + 3 * 0.002)^2 / (0.01^2 / 2) = 5.12
    covariance = np.full((3, 3), 0.002) + np.eye(3) * 0.002
    test = random_reader_test(np.array([0.6, 0.7, 0.8]), covariance, cases=50)
    assert test.mean_auc == pytest.approx(0.7)
    assert test.se == pytest.approx(math.sqrt(0.0053333333))
    assert test.df == pytest.approx(5.12)
    assert test.t == pytest.approx(0.2 / math.sqrt(0.0053333333))
    assert test.p == pytest.approx(2 * stats.t(5.12).sf(test.t))


def test_identical_readers_pool_to_the_single_reader_delong_test():
    positive, negative = np.array([2, 3, 5, 4, 4]), np.array([1, 3, 2, 4])
    covariance = delong_covariance([positive, positive], [negative, negative])
    test = random_reader_test(np.array([auc(positive, negative)] * 2), covariance, cases=9)
    assert math.isinf(test.df)
    assert test.se == pytest.approx(delong(positive, negative).se)


def test_power_of_the_studys_design_and_cases_needed():
    # 25 synthetic, 28 real at chance: Var = 54 / (12 * 700); half-width = 1.96 * sqrt(Var) = 0.157
    assert ci_half_width_at_chance(25, 28) == pytest.approx(1.959964 * math.sqrt(54 / 8400), abs=1e-6)
    needed = cases_needed(0.1, 0.5)
    for criterion, z in (("ci", 1.959964), ("equivalence", 1.644854 + 1.281552)):
        counts = needed[criterion]
        assert z * math.sqrt((counts["cases"] + 1) / (12 * counts["synthetic"] * counts["real"])) <= 0.1
        smaller = counts["cases"] - 1
        s = round(smaller * 0.5)
        assert z * math.sqrt((smaller + 1) / (12 * s * (smaller - s))) > 0.1


def test_binormal_fit_reproduces_hanley_and_mcneils_ct_data():
    """Hanley & McNeil (1982): 58 normal and 51 abnormal CT cases on a 5-point scale."""
    negative = np.repeat([1, 2, 3, 4, 5], [33, 6, 6, 11, 2])
    positive = np.repeat([1, 2, 3, 4, 5], [3, 2, 2, 11, 33])
    fit = fit_binormal(positive, negative)
    assert fit.note == ""
    assert fit.a == pytest.approx(1.657, abs=0.01) and fit.b == pytest.approx(0.713, abs=0.01)
    assert fit.az == pytest.approx(0.911, abs=0.002)


def test_binormal_fit_refuses_binary_and_degenerate_ratings():
    binary = fit_binormal([1, 1, 2, 2, 2, 2], [1, 1, 1, 1, 2, 2])
    assert math.isnan(binary.az) and "fewer than 3" in binary.note
    degenerate = fit_binormal([3, 4, 4, 5, 5, 5, 4, 3], [1, 2, 3, 2, 1, 1, 2, 3])
    assert math.isnan(degenerate.az) and math.isnan(degenerate.az_se) and "degenerate" in degenerate.note


def test_a_perfectly_separated_kit_gets_a_boundary_valid_interval_and_an_exact_p():
    """25 synthetic cases all rated above 28 real ones: Newcombe (2006) gives [0.924, 1]; the exact
    Mann-Whitney p is 2 / C(53, 25) = 2.2e-15, shown as < 1e-10, never 0.000."""
    positive, negative = np.arange(28, 53, dtype=float), np.arange(28, dtype=float)
    interval = newcombe(1.0, 25, 28)
    assert interval.low == pytest.approx(0.9237, abs=1e-4) and interval.high == 1.0
    p = p_vs_chance(positive, negative, delong(positive, negative))
    assert p == pytest.approx(2 / math.comb(53, 25), rel=1e-6) and format_p(p) == "< 1e-10"
    tied = p_vs_chance(np.full(25, 5.0), np.full(28, 1.0), delong(np.full(25, 5.0), np.full(28, 1.0)))
    assert tied == pytest.approx(2 / math.comb(53, 25), rel=1e-6)
    assert newcombe(0.5, 25, 28).low == pytest.approx(0.3514, abs=1e-3)  # near DeLong's at chance


def test_the_power_rows_mean_what_their_labels_say_in_simulation():
    """'95 % CI half-width <= 0.1 at AUC 0.5': the median DeLong half-width of chance kits of that size
    is 0.1; 'equivalence at +- 0.1, 80 % power': TOST rejects both bounds in about 80 % of them."""
    needed = cases_needed(0.1)
    rng = np.random.default_rng(0)
    for criterion, counts in needed.items():
        widths, rejected = [], 0
        for _ in range(300):
            positive, negative = rng.normal(size=counts["synthetic"]), rng.normal(size=counts["real"])
            interval = delong(positive, negative)
            widths.append(1.96 * interval.se)
            z_low = (interval.estimate - 0.4) / interval.se
            z_high = (0.6 - interval.estimate) / interval.se
            rejected += min(z_low, z_high) > stats.norm.ppf(0.95)
        if criterion == "ci":
            assert np.median(widths) == pytest.approx(0.1, abs=0.005)
        else:
            assert rejected / 300 == pytest.approx(0.8, abs=0.07)


def test_chance_variance_with_unequal_spreads_matches_simulation_and_exceeds_the_null():
    """N(0, 3^2) synthetic ratings against N(0, 1) real ones: AUC 0.5 on average, but a wider spread."""
    rng = np.random.default_rng(1)
    values = [auc(rng.normal(0, 3, 25), rng.normal(0, 1, 25)) for _ in range(4000)]
    assert math.sqrt(chance_auc_variance(25, 25, 3.0)) == pytest.approx(np.std(values), rel=0.05)
    assert chance_auc_variance(25, 25, 1.0) == pytest.approx((25 + 25 + 1) / (12 * 25 * 25))
    assert chance_auc_variance(25, 25, 3.0) > chance_auc_variance(25, 25, 1.0)
    # the study's kit, 25 synthetic / 28 real: SD 0.088 against the equal-spread null's 0.080
    assert math.sqrt(chance_auc_variance(25, 28, 3.0)) == pytest.approx(0.0882, abs=1e-4)
    assert math.sqrt(chance_auc_variance(25, 28, 1.0)) == pytest.approx(0.0802, abs=1e-4)


def test_planning_with_several_readers_and_reader_variance():
    one = cases_needed(0.1, planning=Planning())
    wide = cases_needed(0.1, planning=Planning(spread_ratio=3.0))
    assert wide["equivalence"]["cases"] > one["equivalence"]["cases"]
    # four readers whose case errors correlate 0.5: fewer cases than one reader needs
    four = cases_needed(0.1, planning=Planning(readers=4, reader_correlation=0.5))
    assert four["ci"]["cases"] < one["ci"]["cases"]
    planning = Planning(readers=4, reader_sd=0.03, reader_correlation=0.5)
    counts = cases_needed(0.1, planning=planning)["ci"]
    v = chance_auc_variance(counts["synthetic"], counts["real"])
    assert planning.variance(counts["synthetic"], counts["real"]) == pytest.approx(0.03**2 / 4 + v * 2.5 / 4)
    # reader variance alone wider than the margin: no number of cases is enough
    assert cases_needed(0.1, planning=Planning(readers=1, reader_sd=0.06))["equivalence"]["cases"] is None


def test_equivalence_is_tost_with_the_tests_own_distribution():
    assert equivalence_p(0.5, 0.03, 0.1) == pytest.approx(stats.norm.sf(0.1 / 0.03))
    assert equivalence_p(0.55, 0.03, 0.1, df=5) == pytest.approx(stats.t(5).cdf((0.55 - 0.6) / 0.03))
    # not significantly different from 0.5 is not equivalence: a wide interval around 0.5
    assert equivalence_p(0.52, 0.2, 0.1) > 0.3
    assert equivalence_p(1.0, 0.0, 0.1) == 1.0
    test = random_reader_test(np.array([0.48, 0.52, 0.5]), np.full((3, 3), 0.0004), cases=200, margin=0.1)
    expected = max(
        stats.t(test.df).sf((test.mean_auc - 0.4) / test.se),
        stats.t(test.df).cdf((test.mean_auc - 0.6) / test.se),
    )
    assert test.equivalence_p == pytest.approx(expected) and test.equivalence_p < 0.05


def test_paired_delong_matches_a_hand_worked_case():
    """Three positives and three negatives scored two ways, worked out by hand with fractions.

    A: positives .9 .8 .3, negatives .7 .2 .1 -> V10 = 1, 1, 2/3; V01 = 2/3, 1, 1; AUC 8/9.
    B: positives .6 .4 .5, negatives .5 .7 .1 -> V10 = 2/3, 1/3, 1/2 (a tie counts 1/2); V01 = 1/2, 0, 1;
    AUC 1/2. Sample covariances (ddof 1): S10 = [[1/27, 0], [0, 1/36]], S01 = [[1/27, 0], [0, 1/4]], so
    var A = 2/81, var B = 5/54, cov 0; var(A - B) = 19/162, z = (7/18) / sqrt(19/162)."""
    from mame.stats.auc import delong_components, paired_delong

    positive = np.array([True, True, True, False, False, False])
    a = delong_components(np.array([0.9, 0.8, 0.3, 0.7, 0.2, 0.1]), positive)
    b = delong_components(np.array([0.6, 0.4, 0.5, 0.5, 0.7, 0.1]), positive)
    assert a[0] == pytest.approx(8 / 9) and b[0] == pytest.approx(1 / 2)
    assert np.sum(a[1] ** 2) == pytest.approx(2 / 81) and np.sum(b[1] ** 2) == pytest.approx(5 / 54)
    assert np.sum(a[1] * b[1]) == pytest.approx(0, abs=1e-15)
    test = paired_delong(a, b)
    assert test.difference == pytest.approx(7 / 18)
    assert test.se == pytest.approx(math.sqrt(19 / 162))
    z = (7 / 18) / math.sqrt(19 / 162)
    assert test.p == pytest.approx(2 * stats.norm.sf(z)) and test.p == pytest.approx(0.2561, abs=1e-3)
    # the components reproduce the covariance-matrix form used for the readers
    covariance = delong_covariance(
        [np.array([0.9, 0.8, 0.3]), np.array([0.6, 0.4, 0.5])],
        [np.array([0.7, 0.2, 0.1]), np.array([0.5, 0.7, 0.1])],
    )
    assert covariance[0, 0] + covariance[1, 1] - 2 * covariance[0, 1] == pytest.approx(test.se**2)
