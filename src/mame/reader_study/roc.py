"""ROC analysis of a real-vs-synthetic reader study (synthetic = positive).

Per reader: the empirical ROC, its AUC (the Mann-Whitney statistic, ties counted 1/2), DeLong's
standard error and 95 % CI, a stratified bootstrap CI, and the binormal maximum-likelihood fit
(Dorfman-Alf) for ordinal ratings. Several readers: the Obuchowski-Rockette random-reader test of
mean AUC = 0.5 with DeLong covariances and Hillis' degrees of freedom. Planning: how many cases
it takes to show an AUC within a margin of 0.5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats


def _placements(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's structural components: each positive's share of negatives it outranks, and each
    negative's share of positives that outrank it (ties 1/2)."""
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    if positive.size == 0 or negative.size == 0:
        raise ValueError(f"need positives and negatives, got {positive.size} and {negative.size}")
    psi = (positive[:, None] > negative[None, :]) + 0.5 * (positive[:, None] == negative[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Area under the empirical ROC = P(positive rated higher) + 1/2 P(tie)."""
    v10, _ = _placements(positive, negative)
    return float(v10.mean())


def delong_covariance(positives: list[np.ndarray], negatives: list[np.ndarray]) -> np.ndarray:
    """Covariance of the AUCs of several readers who rated the same cases (DeLong 1988).

    positives[k] / negatives[k]: reader k's ratings of the synthetic / real cases, in one case order.
    """
    v10 = np.stack([_placements(p, n)[0] for p, n in zip(positives, negatives, strict=True)])
    v01 = np.stack([_placements(p, n)[1] for p, n in zip(positives, negatives, strict=True)])
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
    v10, v01 = _placements(scores[positive], scores[~positive])
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


@dataclass(frozen=True)
class Binormal:
    """TPF = Phi(a + b * Phi^-1(FPF)); Az = Phi(a / sqrt(1 + b^2)). NaN when the fit is undefined."""

    a: float
    b: float
    az: float
    az_se: float
    thresholds: tuple[float, ...]
    note: str = ""

    def tpf(self, fpf: np.ndarray) -> np.ndarray:
        return stats.norm.cdf(self.a + self.b * stats.norm.ppf(np.clip(fpf, 1e-9, 1 - 1e-9)))


def _unpack(theta: np.ndarray) -> tuple[float, float, np.ndarray]:
    a, b = theta[0], math.exp(theta[1])
    thresholds = theta[2] + np.concatenate([[0.0], np.cumsum(np.exp(theta[3:]))])
    return a, b, thresholds


def _binormal_nll(theta: np.ndarray, neg_counts: np.ndarray, pos_counts: np.ndarray) -> float:
    a, b, z = _unpack(theta)
    edges = np.concatenate([[-np.inf], z, [np.inf]])
    p0 = np.diff(stats.norm.cdf(edges))
    p1 = np.diff(stats.norm.cdf(b * edges - a))
    return -float(
        neg_counts @ np.log(np.clip(p0, 1e-300, None)) + pos_counts @ np.log(np.clip(p1, 1e-300, None))
    )


def _hessian(function, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    size = x.size
    hessian = np.empty((size, size))
    for i in range(size):
        for j in range(i, size):
            shift_i, shift_j = np.eye(size)[i] * step, np.eye(size)[j] * step
            value = (
                function(x + shift_i + shift_j)
                - function(x + shift_i - shift_j)
                - function(x - shift_i + shift_j)
                + function(x - shift_i - shift_j)
            ) / (4 * step * step)
            hessian[i, j] = hessian[j, i] = value
    return hessian


def fit_binormal(positive: np.ndarray, negative: np.ndarray) -> Binormal:
    """Maximum-likelihood binormal fit of ordinal ratings (Dorfman & Alf 1969).

    Categories nobody used carry no threshold (it is not identified), so ratings are first
    mapped to the ranks of the values that occur. Degenerate data (one category, or perfect
    separation, where the likelihood has no maximum) give NaN with a note, never a number.
    """
    positive, negative = np.asarray(positive, float), np.asarray(negative, float)
    values = np.unique(np.concatenate([positive, negative]))
    nan = Binormal(math.nan, math.nan, math.nan, math.nan, ())
    if values.size < 2:
        return Binormal(**{**nan.__dict__, "note": "all ratings in one category"})
    if positive.min() > negative.max() or negative.min() > positive.max():
        return Binormal(**{**nan.__dict__, "note": "perfect separation: no finite ML estimate"})
    if values.size < 3:
        return Binormal(**{**nan.__dict__, "note": "fewer than 3 rating categories used: not identified"})
    if degenerate(positive, negative):
        note = "degenerate data: every ROC point on the FPF = 0 or TPF = 1 edge (no unique ML fit)"
        return Binormal(**{**nan.__dict__, "note": note})
    pos_counts = np.array([(positive == v).sum() for v in values], float)
    neg_counts = np.array([(negative == v).sum() for v in values], float)
    cumulative = np.clip(np.cumsum(neg_counts)[:-1] / neg_counts.sum(), 0.02, 0.98)
    z0 = np.maximum.accumulate(stats.norm.ppf(cumulative) + np.arange(cumulative.size) * 1e-3)
    start = np.concatenate([[1.0, 0.0, z0[0]], np.log(np.maximum(np.diff(z0), 0.05))])
    result = optimize.minimize(
        _binormal_nll, start, args=(neg_counts, pos_counts), method="BFGS", options={"gtol": 1e-7}
    )
    theta = result.x
    a, b, z = _unpack(theta)
    az = float(stats.norm.cdf(a / math.sqrt(1 + b * b)))
    # converged is judged by the gradient: BFGS's "precision loss" often comes at the optimum itself
    gradient_norm = float(
        np.max(np.abs(optimize.approx_fprime(theta, _binormal_nll, 1e-7, neg_counts, pos_counts)))
    )
    if not result.success and gradient_norm > 1e-3 * (positive.size + negative.size):
        return Binormal(
            **{**nan.__dict__, "note": f"no convergence (gradient {gradient_norm:.2g}): {result.message}"}
        )
    az_se, note = math.nan, ""
    try:
        covariance = np.linalg.inv(_hessian(lambda t: _binormal_nll(t, neg_counts, pos_counts), theta))
        # delta method for Az over (a, log b)
        scale = math.sqrt(1 + b * b)
        density = stats.norm.pdf(a / scale)
        gradient = np.zeros_like(theta)
        gradient[0] = density / scale
        gradient[1] = density * (-a * b * b / scale**3)
        variance = float(gradient @ covariance @ gradient)
        az_se = math.sqrt(variance) if variance >= 0 else math.nan
    except np.linalg.LinAlgError:
        note = note or "information matrix singular: no SE"
    return Binormal(float(a), float(b), az, az_se, tuple(float(t) for t in z), note)


def degenerate(positive: np.ndarray, negative: np.ndarray) -> bool:
    """Dorfman & Berbaum (1986): every empirical operating point lies on the FPF = 0 or TPF = 1 edge."""
    for value in np.unique(np.concatenate([positive, negative]))[1:]:
        fpf, tpf = float((negative >= value).mean()), float((positive >= value).mean())
        if fpf > 0 and tpf < 1:
            return False
    return True


@dataclass(frozen=True)
class RandomReaderTest:
    """Obuchowski-Rockette test of mean AUC = null over readers treated as random (Hillis df)."""

    readers: int
    cases: int
    mean_auc: float
    se: float
    df: float
    t: float
    p: float
    low: float
    high: float
    reader_variance: float  # MS_R: between-reader mean square of the AUCs
    covariance: float  # Cov2: mean DeLong covariance of two readers' AUCs
    margin: float
    equivalence_p: float  # TOST of |mean AUC - null| >= margin, same t and df


def random_reader_test(
    aucs: np.ndarray, covariance: np.ndarray, cases: int, null: float = 0.5, margin: float = 0.1
) -> RandomReaderTest:
    """One modality, r readers, AUC covariance from the same cases (e.g. DeLong's).

    Var(mean AUC) = MS_R / r + max(Cov2, 0); df = (MS_R + r max(Cov2, 0))^2 / (MS_R^2 / (r - 1)).
    """
    aucs = np.asarray(aucs, float)
    readers = aucs.size
    if readers < 2:
        raise ValueError("the random-reader test needs at least 2 readers")
    mean = float(aucs.mean())
    ms_r = float(aucs.var(ddof=1))
    off_diagonal = covariance[~np.eye(readers, dtype=bool)]
    cov2 = max(0.0, float(off_diagonal.mean()))
    variance = ms_r / readers + cov2
    df = math.inf if ms_r == 0 else (ms_r + readers * cov2) ** 2 / (ms_r**2 / (readers - 1))
    se = math.sqrt(variance)
    t = (mean - null) / se if se > 0 else math.nan
    distribution = stats.norm if math.isinf(df) else stats.t(df)
    p = float(2 * distribution.sf(abs(t))) if se > 0 else math.nan
    half = float(distribution.ppf(0.975)) * se
    tost = equivalence_p(mean, se, margin, df, null)
    return RandomReaderTest(
        readers, cases, mean, se, df, t, p, mean - half, mean + half, ms_r, cov2, margin, tost
    )


def null_auc_variance(synthetic: int, real: int) -> float:
    """Variance of the AUC of an observer who cannot tell (AUC = 0.5) with continuous ratings of equal
    spread for both kinds (the Mann-Whitney null). It is not an upper bound: see chance_auc_variance."""
    return (synthetic + real + 1) / (12 * synthetic * real)


def chance_auc_variance(synthetic: int, real: int, spread_ratio: float = 1.0) -> float:
    """Variance of the empirical AUC when both kinds are rated alike on average (AUC = 0.5) but with
    rating SDs in the ratio `spread_ratio` (synthetic / real): Hanley-McNeil's exact form with Q1, Q2 the
    orthant probabilities 1/4 + asin(rho) / (2 pi) of normal ratings. N(0, 3^2) against N(0, 1) with
    25 synthetic / 28 real cases gives SD 0.088 where the equal-spread null gives 0.080."""
    rho_two_synthetic = 1.0 / (1.0 + spread_ratio**2)  # two synthetic cases against one real share the real
    rho_two_real = spread_ratio**2 / (1.0 + spread_ratio**2)
    q1 = 0.25 + math.asin(rho_two_synthetic) / (2 * math.pi)
    q2 = 0.25 + math.asin(rho_two_real) / (2 * math.pi)
    return (0.25 + (synthetic - 1) * (q1 - 0.25) + (real - 1) * (q2 - 0.25)) / (synthetic * real)


@dataclass(frozen=True)
class Planning:
    """What a design is planned against: an observer at chance whose rating spreads may differ by kind,
    and several readers whose AUCs vary (reader_sd) and whose case errors correlate (reader_correlation)."""

    readers: int = 1
    spread_ratio: float = 1.0
    reader_sd: float = 0.0
    reader_correlation: float = 0.5

    def variance(self, synthetic: int, real: int) -> float:
        """Variance of the readers' mean AUC: reader_sd^2 / r + V (1 + (r - 1) rho) / r (the
        Obuchowski-Rockette model, V one reader's case variance)."""
        case = chance_auc_variance(synthetic, real, self.spread_ratio)
        r = self.readers
        return self.reader_sd**2 / r + case * (1 + (r - 1) * self.reader_correlation) / r


def cases_needed(
    margin: float = 0.1,
    synthetic_share: float = 0.5,
    alpha: float = 0.05,
    power: float = 0.8,
    planning: Planning | None = None,
    limit: int = 100_000,
) -> dict:
    """Total cases so that an observer at chance is shown to be within +-margin of 0.5.

    'ci': the 95 % CI half-width at AUC 0.5 is at most `margin` (a planning width, not a probability
    that the interval lies within 0.5 +- margin: that needs the estimate to be exactly 0.5);
    'equivalence': two one-sided tests at `alpha` reject both bounds with probability `power`.
    Both use the variance of `planning` (normal approximation); a criterion that reader variance alone
    puts out of reach, whatever the cases, gets cases None.
    """
    planning = planning or Planning()
    needs = {
        "ci": stats.norm.ppf(0.975),
        "equivalence": stats.norm.ppf(1 - alpha) + stats.norm.ppf(0.5 + power / 2),
    }
    found = {}
    for criterion, z in needs.items():
        if z * planning.reader_sd / math.sqrt(planning.readers) >= margin:
            found[criterion] = {"cases": None, "synthetic": None, "real": None}
            continue
        total = 4
        while total <= limit:
            synthetic = max(1, round(total * synthetic_share))
            real = max(1, total - synthetic)
            if z * math.sqrt(planning.variance(synthetic, real)) <= margin:
                found[criterion] = {"cases": total, "synthetic": synthetic, "real": real}
                break
            total += 1
        else:
            found[criterion] = {"cases": None, "synthetic": None, "real": None}
    return found


def ci_half_width_at_chance(synthetic: int, real: int, planning: Planning | None = None) -> float:
    return float(stats.norm.ppf(0.975) * math.sqrt((planning or Planning()).variance(synthetic, real)))


def interval(positive: np.ndarray, negative: np.ndarray) -> tuple[Interval, str]:
    """DeLong's Wald interval, or Newcombe's where Wald reaches past 0 or 1 (or has no width)."""
    wald = delong(positive, negative)
    if wald.se == 0 or wald.low <= 0 or wald.high >= 1:
        return newcombe(wald.estimate, positive.size, negative.size), "Newcombe (boundary)"
    return wald, "DeLong"


def _probability_auc(group: pd.DataFrame) -> Interval | None:
    """The AUC of a reader's continuous probability (the observer's), when every case has one."""
    if "probability" not in group or group["probability"].isna().any():
        return None
    positive = group.loc[group["synthetic"] == 1, "probability"].to_numpy(float)
    negative = group.loc[group["synthetic"] == 0, "probability"].to_numpy(float)
    return interval(positive, negative)[0]


def reader_table(
    joined: pd.DataFrame, kinds: dict[str, str], resamples: int = 2000, seed: int = 0, margin: float = 0.1
):
    """One row per reader: design, AUC with DeLong and bootstrap CIs, tests of AUC = 0.5 and of
    equivalence within +-margin (TOST), binormal fit, and the AUC of a continuous probability if given.

    `joined`: rows (reader, case_id, rating, synthetic[, probability]) from ratings.join_to_key.
    """
    rows, points = [], []
    for reader, group in joined.groupby("reader", sort=False):
        positive = group.loc[group["synthetic"] == 1, "rating"].to_numpy(float)
        negative = group.loc[group["synthetic"] == 0, "rating"].to_numpy(float)
        wald, method = interval(positive, negative)
        probability = _probability_auc(group)
        boot = bootstrap(positive, negative, resamples, seed)
        fit = fit_binormal(positive, negative)
        rows.append(
            {
                "reader": reader,
                "kind": kinds.get(reader, "human"),
                "cases": len(group),
                "synthetic": positive.size,
                "real": negative.size,
                "auc": wald.estimate,
                "se": wald.se,
                "ci_low": wald.low,
                "ci_high": wald.high,
                "bootstrap_low": boot.low,
                "bootstrap_high": boot.high,
                "ci_method": method,
                "p_vs_chance": p_vs_chance(positive, negative, wald),
                "equivalence_p": equivalence_p(wald.estimate, delong(positive, negative).se, margin),
                "probability_auc": probability.estimate if probability else math.nan,
                "probability_ci_low": probability.low if probability else math.nan,
                "probability_ci_high": probability.high if probability else math.nan,
                "binormal_a": fit.a,
                "binormal_b": fit.b,
                "az": fit.az,
                "az_se": fit.az_se,
                "binormal_note": fit.note,
            }
        )
        fpf, tpf = empirical_roc(positive, negative)
        points.append(pd.DataFrame({"reader": reader, "fpf": fpf, "tpf": tpf}))
    return pd.DataFrame(rows), pd.concat(points, ignore_index=True)


def pooled_test(joined: pd.DataFrame, readers: list[str], margin: float = 0.1) -> RandomReaderTest:
    """Random-reader test over `readers`, on the cases every one of them rated."""
    subset = joined[joined["reader"].isin(readers)]
    common = set.intersection(*(set(g["case_id"]) for _, g in subset.groupby("reader")))
    subset = subset[subset["case_id"].isin(common)].sort_values(["reader", "case_id"])
    positives, negatives, aucs = [], [], []
    for reader in readers:
        group = subset[subset["reader"] == reader]
        positives.append(group.loc[group["synthetic"] == 1, "rating"].to_numpy(float))
        negatives.append(group.loc[group["synthetic"] == 0, "rating"].to_numpy(float))
        aucs.append(auc(positives[-1], negatives[-1]))
    return random_reader_test(
        np.array(aucs), delong_covariance(positives, negatives), len(common), margin=margin
    )


@dataclass
class Analysis:
    readers: pd.DataFrame  # one row per reader (reader_table)
    points: pd.DataFrame  # empirical ROC points per reader
    pooled: pd.DataFrame  # the random-reader test over human readers (empty below 2)
    power: pd.DataFrame  # this design at chance, and the cases a +-margin result needs
    summary: pd.DataFrame  # the paper's table, indexed by reader
    warnings: list[str]


def _interval(estimate: float, low: float, high: float) -> str:
    if math.isnan(estimate):
        return "-"
    return f"{estimate:.3f} [{low:.3f}, {high:.3f}]"


def analyse(
    key: pd.DataFrame,
    files: list[str],
    names: list[str | None],
    observer: str | None = None,
    margin: float = 0.1,
    resamples: int = 2000,
    seed: int = 0,
    planning: Planning | None = None,
) -> Analysis:
    """Every rating file joined to the key by case id, and the whole analysis of the study.

    names[i] names the reader of files[i] when that file has none; `observer` is the file written by
    the automated observer (its reader is a model, and stays out of the random-reader test).
    """
    from mame.reader_study.ratings import join_to_key, read_ratings

    frames = [read_ratings(path, name) for path, name in zip(files, names, strict=True)]
    ratings = pd.concat(frames, ignore_index=True)
    joined, warnings = join_to_key(ratings, key)
    model_readers = set(frames[files.index(observer)]["reader"]) if observer in files else set()
    readers, points = reader_table(joined, {name: "model" for name in model_readers}, resamples, seed, margin)
    humans = readers.loc[readers["kind"] == "human", "reader"].tolist()
    pooled = pd.DataFrame(columns=["reader_names", *RandomReaderTest.__dataclass_fields__])
    if len(humans) >= 2:
        test = pooled_test(joined, humans, margin)
        pooled = pd.DataFrame([{"reader_names": ", ".join(humans), **test.__dict__}])
    elif humans:
        warnings.append("one human reader: the random-reader test needs at least two")
    synthetic, real = int((key["truth"] == "synthetic").sum()), int((key["truth"] == "real").sum())
    planning = planning or Planning()
    needed = cases_needed(margin, synthetic / (synthetic + real), planning=planning)
    design = {
        "readers": planning.readers,
        "spread_ratio": planning.spread_ratio,
        "reader_sd": planning.reader_sd,
        "reader_correlation": planning.reader_correlation,
    }
    power = pd.DataFrame(
        [
            {
                "design": "this kit",
                "cases": synthetic + real,
                "synthetic": synthetic,
                "real": real,
                "ci_half_width_at_chance": ci_half_width_at_chance(synthetic, real, planning),
                **design,
            },
            *(
                {
                    "design": {
                        "ci": f"95 % CI half-width <= {margin:g} at AUC 0.5",
                        "equivalence": f"equivalence test at +- {margin:g}, 80 % power",
                    }[criterion],
                    **counts,
                    "ci_half_width_at_chance": ci_half_width_at_chance(
                        counts["synthetic"], counts["real"], planning
                    )
                    if counts["cases"]
                    else math.nan,
                    **design,
                }
                for criterion, counts in needed.items()
            ),
        ]
    )
    summary = pd.DataFrame(
        {
            "reader": readers["reader"],
            "kind": readers["kind"],
            "cases (synthetic/real)": [
                f"{c} ({s}/{r})"
                for c, s, r in zip(readers["cases"], readers["synthetic"], readers["real"], strict=True)
            ],
            "AUC [95% CI]": [
                _interval(*v) + (" (Newcombe)" if m.startswith("Newcombe") else "")
                for *v, m in zip(
                    readers["auc"], readers["ci_low"], readers["ci_high"], readers["ci_method"], strict=True
                )
            ],
            "bootstrap 95% CI": [
                f"[{low:.3f}, {high:.3f}]"
                for low, high in zip(readers["bootstrap_low"], readers["bootstrap_high"], strict=True)
            ],
            "p (AUC = 0.5)": readers["p_vs_chance"].map(format_p),
            f"p (TOST, within ±{margin:g})": readers["equivalence_p"].map(format_p),
            "binormal Az": readers["az"].map(lambda az: "-" if math.isnan(az) else f"{az:.3f}"),
            "AUC of probability": [
                _interval(*values)
                for values in zip(
                    readers["probability_auc"],
                    readers["probability_ci_low"],
                    readers["probability_ci_high"],
                    strict=True,
                )
            ],
        }
    )
    if not pooled.empty:
        row = pooled.iloc[0]
        summary.loc[len(summary)] = {
            "reader": f"mean of {int(row['readers'])} readers (OR)",
            "kind": "human",
            "cases (synthetic/real)": str(int(row["cases"])),
            "AUC [95% CI]": _interval(row["mean_auc"], row["low"], row["high"]),
            "bootstrap 95% CI": "-",
            "p (AUC = 0.5)": format_p(row["p"]),
            f"p (TOST, within ±{margin:g})": format_p(row["equivalence_p"]),
            "binormal Az": "-",
            "AUC of probability": "-",
        }
    return Analysis(readers, points, pooled, power, summary.set_index("reader"), warnings)
