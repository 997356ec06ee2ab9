"""Intervals for proportions (a share of images read as asked, a cell of a confusion matrix).

Wilson's score interval keeps its coverage near the nominal level at small n and at 0 or 1, where the
Wald interval collapses to a point.
"""

from __future__ import annotations

import math

from scipy import stats


def wilson(hits: int, total: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of hits / total; (nan, nan) when there is nothing to count."""
    if total <= 0:
        return math.nan, math.nan
    if not 0 <= hits <= total:
        raise ValueError(f"hits must lie in [0, {total}], got {hits}")
    z = float(stats.norm.ppf(0.5 + level / 2))
    share = hits / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    low = 0.0 if hits == 0 else max(0.0, centre - half)  # exact at the boundary, not 1e-17 away
    high = 1.0 if hits == total else min(1.0, centre + half)
    return low, high
