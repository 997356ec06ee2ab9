"""The binormal ROC model fitted by maximum likelihood to ordinal ratings (Dorfman-Alf)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from mame.stats.auc import degenerate


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
