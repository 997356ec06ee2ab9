"""The area under the ROC curve and its uncertainty (synthetic or diseased = positive).

The empirical AUC is the Mann-Whitney statistic (ties counted 1/2); its variance comes from DeLong's
placements, also for two scores on the same cases (paired DeLong); Newcombe's score interval holds at
the boundary where Wald's collapses; a stratified bootstrap, the test against chance, and the TOST
equivalence test to a margin around 0.5 complete it. General statistics: no stage's files or tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats


def placements(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components: each positive's share of negatives it outranks, and each
    negative's share of positives that outrank it (ties 1/2)."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    if positive.size == 0 or negative.size == 0:
        raise ValueError(f"need positives and negatives, got {positive.size} and {negative.size}")
    psi = (positive[:, None] > negative[None, :]) + 0.5 * (positive[:, None] == negative[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the empirical ROC = P(positive rated higher) + 1/2 P(tie)."""
    v10, _ = placements(positive, negative)
    return float(v10.mean())


def delong_covariance(positives: list[np.ndarray], negatives: list[np.ndarray]) -> np.ndarray:
    """Covariance of the AUCs of several readers who rated the same cases (DeLong 1988).

    positives[k] / negatives[k]: reader k's ratings of the synthetic / real cases, in one case order.
    """
    v10 = np.stack([placements(p, n)[0] for p, n in zip(positives, negatives, strict=True)])
    v01 = np.stack([placements(p, n)[1] for p, n in zip(positives, negatives, strict=True)])
    m, n = v10.shape[1], v01.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"DeLong needs at least 2 synthetic and 2 real cases, got {m} and {n}")
    return np.atleast_2d(np.cov(v10, ddof=1)) / m + np.atleast_2d(np.cov(v01, ddof=1)) / n


def delong_components(scores: np.ndarray, positive: np.ndarray) -> tuple[float, np.ndarray]:
    """AUC and each case's DeLong component, scaled so that sums of products are DeLong's (co)variances.

    A positive's component is (V10 - AUC) / sqrt(m (m - 1)), a negative's (V01 - AUC) / sqrt(n (n - 1)):
    for two scorings of the same cases, sum(a * b) is DeLong's covariance (sum(a * a) its variance). For
    AUCs of different labellings of the same cases (one-vs-rest classes), the same sums are the
    influence-function covariance; an average of AUCs has the average of the components."""
    scores, positive = np.asarray(scores, float), np.asarray(positive, bool)
    m, n = int(positive.sum()), int((~positive).sum())
    if m < 2 or n < 2:
        raise ValueError(f"DeLong needs at least 2 positive and 2 negative cases, got {m} and {n}")
    v10, v01 = placements(scores[positive], scores[~positive])
    value = float(v10.mean())
    components = np.empty(len(scores))
    components[positive] = (v10 - value) / math.sqrt(m * (m - 1))
    components[~positive] = (v01 - value) / math.sqrt(n * (n - 1))
    return value, components


@dataclass(frozen=True)
class PairedTest:
    """AUC a minus AUC b on the same cases, with DeLong's SE, Wald CI and two-sided p."""

    difference: float
    se: float
    low: float
    high: float
    p: float


def paired_delong(
    a: tuple[float, np.ndarray], b: tuple[float, np.ndarray], level: float = 0.95
) -> PairedTest:
    """DeLong's test of two correlated AUCs from their `delong_components` (same cases, same order)."""
    difference = a[0] - b[0]
    se = math.sqrt(float(np.sum((a[1] - b[1]) ** 2)))
    half = stats.norm.ppf(0.5 + level / 2) * se
    p = float(2 * stats.norm.sf(abs(difference) / se)) if se > 0 else (1.0 if difference == 0 else 0.0)
    return PairedTest(difference, se, difference - half, difference + half, p)


@dataclass(frozen=True)
class Interval:
    estimate: float
    se: float
    low: float
    high: float


def delong(positive: np.ndarray, negative: np.ndarray, level: float = 0.95) -> Interval:
    """AUC with DeLong's SE and the Wald interval, clipped to [0, 1]."""
    value = auc(positive, negative)
    se = math.sqrt(max(0.0, float(delong_covariance([positive], [negative])[0, 0])))
    half = stats.norm.ppf(0.5 + level / 2) * se
    return Interval(value, se, max(0.0, value - half), min(1.0, value + half))


def newcombe(estimate: float, synthetic: int, real: int, level: float = 0.95) -> Interval:
    """Newcombe's (2006) score-type interval for an AUC: the values A whose distance from the estimate
    is z times the Hanley-McNeil SD at A itself (with m* = n* = N/2). Unlike the Wald interval it stays
    valid at AUC = 0 or 1, where the estimated SE is zero: 25 vs 28 perfectly separated gives [0.924, 1]."""
    z = stats.norm.ppf(0.5 + level / 2)
    half_n = (synthetic + real) / 2

    def variance(a: float) -> float:
        extra = (half_n - 1) * (1 - a) / (2 - a) + (half_n - 1) * a / (1 + a)
        return a * (1 - a) / (synthetic * real) * (1 + extra)

    def gap(a: float) -> float:
        return (estimate - a) ** 2 - z * z * variance(a)

    eps = 1e-12
    low = optimize.brentq(gap, 0.0, estimate - eps) if estimate > eps and gap(0.0) > 0 else 0.0
    high = optimize.brentq(gap, estimate + eps, 1.0) if estimate < 1 - eps and gap(1.0) > 0 else 1.0
    return Interval(estimate, math.sqrt(variance(estimate)), float(low), float(high))


def p_vs_chance(positive: np.ndarray, negative: np.ndarray, wald: Interval) -> float:
    """Two-sided p of AUC = 0.5: the exact Mann-Whitney test when there are no ties; perfectly separated
    tied ratings get the exact permutation probability of that split, 2 / C(N, m); otherwise DeLong's z."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    ties = np.unique(np.concatenate([positive, negative])).size < positive.size + negative.size
    if not ties:
        return float(stats.mannwhitneyu(positive, negative, alternative="two-sided", method="exact").pvalue)
    if wald.se == 0:
        if wald.estimate == 0.5:
            return 1.0
        return min(1.0, 2 / math.comb(positive.size + negative.size, positive.size))
    return float(2 * stats.norm.sf(abs(wald.estimate - 0.5) / wald.se))


def equivalence_p(
    estimate: float, se: float, margin: float, df: float = math.inf, centre: float = 0.5
) -> float:
    """TOST p of |AUC - centre| >= margin (small p: equivalent within +-margin), with the same t (or z)
    and df as the test of AUC = centre. A non-significant test of 0.5 is not equivalence; this is."""
    if se == 0 or math.isnan(se):
        return 0.0 if abs(estimate - centre) < margin else 1.0
    distribution = stats.norm if math.isinf(df) else stats.t(df)
    above_low = float(distribution.sf((estimate - (centre - margin)) / se))
    below_high = float(distribution.cdf((estimate - (centre + margin)) / se))
    return max(above_low, below_high)


def format_p(p: float) -> str:
    """A p-value as a table shows it: never 0.000."""
    return "< 1e-10" if p < 1e-10 else f"{p:.2g}" if p < 0.001 else f"{p:.3f}"


def bootstrap(
    positive: np.ndarray, negative: np.ndarray, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> Interval:
    """Percentile interval, resampling synthetic and real cases separately (the design is fixed)."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    rng = np.random.default_rng(seed)
    values = np.empty(resamples)
    for i in range(resamples):
        values[i] = auc(rng.choice(positive, positive.size), rng.choice(negative, negative.size))
    low, high = np.quantile(values, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(auc(positive, negative), float(values.std(ddof=1)), float(low), float(high))


def empirical_roc(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Operating points (FPF, TPF) at every threshold 'rating >= t', from (0, 0) to (1, 1)."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    thresholds = np.unique(np.concatenate([positive, negative]))[::-1]
    fpf = [0.0] + [float((negative >= t).mean()) for t in thresholds]
    tpf = [0.0] + [float((positive >= t).mean()) for t in thresholds]
    return np.array(fpf), np.array(tpf)


def degenerate(positive: np.ndarray, negative: np.ndarray) -> bool:
    """Dorfman & Berbaum (1986): every empirical operating point lies on the FPF = 0 or TPF = 1 edge."""
    for value in np.unique(np.concatenate([positive, negative]))[1:]:
        fpf, tpf = float((negative >= value).mean()), float((positive >= value).mean())
        if fpf > 0 and tpf < 1:
            return False
    return True
