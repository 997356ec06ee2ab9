"""How many cases a reader study needs to show an AUC within a margin of 0.5 (chance)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


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
