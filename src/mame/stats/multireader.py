"""Several readers as a random sample: the Obuchowski-Rockette test with Hillis' degrees of freedom."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mame.stats.auc import equivalence_p


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
