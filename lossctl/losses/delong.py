"""DeLong's variance of ROC AUC, its interval, and the paired test of two correlated AUCs, as R's
pROC 1.18 computes them (`var`, `ci.auc(method="delong")`, `roc.test(method="delong", paired=TRUE)`).

The placement values (Sun & Xu 2014) make it O(n log n): a positive row's V10 is the share of
negative rows it outscores (ties half), a negative row's V01 the share of positive rows that
outscore it; AUC is the mean of either, and Var(AUC) = S10 / m + S01 / n with S10, S01 the sample
variances (ddof 1) of the m positives' V10 and the n negatives' V01 (DeLong, DeLong &
Clarke-Pearson 1988). The interval is AUC -+ z sqrt(Var), clipped to [0, 1] as pROC clips it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lossctl.errors import DataError


def normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_quantile(p: float) -> float:
    """The standard normal quantile: Acklam's rational approximation, refined by Halley steps to
    the last bits of float64."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"a probability in (0, 1), got {p}")
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
         -3.066479806614716e01, 2.506628277459239e00)
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
         -1.328068155288572e01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
         4.374664141464968e00, 2.938163982698783e00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00)
    low = 0.02425
    if p < low or p > 1 - low:
        q = math.sqrt(-2 * math.log(p if p < low else 1 - p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        x = x if p < low else -x
    else:
        q = p - 0.5
        r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (
            ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    for _ in range(2):
        error = normal_cdf(x) - p
        step = error * math.sqrt(2 * math.pi) * math.exp(x * x / 2)
        x -= step / (1 + x * step / 2)
    return x


@dataclass(frozen=True)
class Delong:
    """One AUC and DeLong's variance of it."""

    auc: float
    variance: float

    def interval(self, level: float) -> tuple[float, float]:
        half = normal_quantile((1 + level) / 2) * math.sqrt(max(self.variance, 0.0))
        return max(0.0, self.auc - half), min(1.0, self.auc + half)

    @classmethod
    def of_counts(cls, positives: np.ndarray, negatives: np.ndarray) -> Delong:
        """From the number of positive and negative rows at each distinct score, ascending."""
        m, n = float(positives.sum()), float(negatives.sum())
        _check(m, n)
        below_neg = np.cumsum(negatives) - negatives
        above_pos = m - np.cumsum(positives)
        v10 = (below_neg + 0.5 * negatives) / n  # of a positive row at each score
        v01 = (above_pos + 0.5 * positives) / m  # of a negative row at each score
        auc = float((positives * v10).sum() / m)
        s10 = float((positives * (v10 - auc) ** 2).sum() / (m - 1)) if m > 1 else math.nan
        s01 = float((negatives * (v01 - auc) ** 2).sum() / (n - 1)) if n > 1 else math.nan
        return cls(auc, s10 / m + s01 / n)


def _check(m: float, n: float) -> None:
    if m == 0 or n == 0:
        raise DataError("Only one class present in y_true. ROC AUC score is not defined in that case.")


def placements(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each positive row's V10 and each negative row's V01 (rows in order)."""
    pos, neg = scores[positive], scores[~positive]
    _check(len(pos), len(neg))
    sorted_neg, sorted_pos = np.sort(neg), np.sort(pos)
    below = np.searchsorted(sorted_neg, pos, "left")
    tied = np.searchsorted(sorted_neg, pos, "right") - below
    v10 = (below + 0.5 * tied) / len(neg)
    above = len(pos) - np.searchsorted(sorted_pos, neg, "right")
    tied = np.searchsorted(sorted_pos, neg, "right") - np.searchsorted(sorted_pos, neg, "left")
    v01 = (above + 0.5 * tied) / len(pos)
    return v10, v01


@dataclass(frozen=True)
class PairedDelong:
    """DeLong's test of two correlated AUCs on the same rows: diff = b - a, its interval, the
    two-sided p-value of z = (a - b) / sqrt(Var(a) + Var(b) - 2 Cov(a, b))."""

    a: float
    b: float
    diff: float
    interval: tuple[float, float]
    p_value: float
    z: float


def paired_delong(score_a: np.ndarray, score_b: np.ndarray, positive: np.ndarray,
                  level: float = 0.95) -> PairedDelong:
    v10_a, v01_a = placements(score_a, positive)
    v10_b, v01_b = placements(score_b, positive)
    m, n = len(v10_a), len(v01_a)
    a, b = float(v10_a.mean()), float(v10_b.mean())
    s10 = np.cov(np.vstack([v10_a, v10_b])) if m > 1 else np.full((2, 2), np.nan)
    s01 = np.cov(np.vstack([v01_a, v01_b])) if n > 1 else np.full((2, 2), np.nan)
    s = s10 / m + s01 / n
    variance = float(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    diff = b - a
    if variance > 0:
        z = (a - b) / math.sqrt(variance)
        p_value = 2 * normal_cdf(-abs(z))
        half = normal_quantile((1 + level) / 2) * math.sqrt(variance)
    elif diff == 0:  # the same scores: no evidence of any difference
        z, p_value, half = 0.0, 1.0, 0.0
    else:  # a difference without variance
        z, p_value, half = math.copysign(math.inf, a - b), 0.0, 0.0
    return PairedDelong(a, b, diff, (diff - half, diff + half), p_value, z)
