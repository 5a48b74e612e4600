"""Reductions, validated and applied in one place for every loss.

The two families differ in what they add up:

* Keras reduces per-sample values (already averaged over the last axis by the loss), multiplied by
  the sample weights when given. `sum_over_batch_size` (alias `mean`) divides the sum by the
  number of samples; `mean_with_sample_weight` divides by the sum of the sample weights.
* torch reduces per-element values. `mean` divides by the number of elements, or, for a loss with
  class weights or `ignore_index`, by the summed weights of the counted rows; `batchmean`
  (kl_div only) divides the sum by the number of rows.

Reduction works on partial sums so that files larger than memory can be reduced chunk by chunk:
`partial()` of each chunk, added up, then `finish()`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossctl.errors import UsageError
from lossctl.losses.registry import Loss, LossValues

REDUCTIONS: dict[str, tuple[str, ...]] = {
    "keras": ("none", "sum", "mean", "sum_over_batch_size", "mean_with_sample_weight"),
    "torch": ("none", "sum", "mean", "batchmean"),
}


def check_reduction(loss: Loss, reduction: str) -> str:
    """Return `reduction` if `loss`'s family defines it for this loss, else raise a usage error."""
    if reduction not in loss.reductions:
        raise UsageError(
            f"reduction {reduction!r} is not defined for {loss.qualified_name} "
            f"(valid: {', '.join(loss.reductions)})"
        )
    return reduction


@dataclass(frozen=True)
class Partial:
    """Running sums from which any reduction of the rows seen so far can be finished."""

    total: float = 0.0  # sum of (weighted) values
    elements: int = 0  # number of values (Keras: samples; torch: elements)
    rows: int = 0
    weight: float = 0.0  # sum of sample weights (Keras) or of `denom` (torch)
    weighted: bool = False  # whether `weight` was given for every row

    def __add__(self, other: Partial) -> Partial:
        if self.elements == 0 and self.rows == 0:
            return other
        return Partial(
            self.total + other.total,
            self.elements + other.elements,
            self.rows + other.rows,
            self.weight + other.weight,
            self.weighted and other.weighted,
        )


def _scale(loss: Loss, lv: LossValues, sample_weight: np.ndarray | None) -> np.ndarray:
    values = lv.values
    if sample_weight is None:
        return values
    if loss.family != "keras":
        raise UsageError(f"{loss.qualified_name}: sample weights are a Keras notion")
    if values.ndim == 0:
        return values
    weight = sample_weight.reshape(sample_weight.shape[0], *([1] * (values.ndim - 1)))
    return values * weight


def partial(loss: Loss, lv: LossValues, sample_weight: np.ndarray | None = None) -> Partial:
    """The partial sums of one chunk's unreduced values."""
    values = _scale(loss, lv, sample_weight)
    rows = int(values.shape[0]) if values.ndim else 1
    if sample_weight is not None:
        return Partial(float(values.sum()), int(values.size), rows, float(sample_weight.sum()), True)
    if lv.denom is not None:
        return Partial(float(values.sum()), int(values.size), rows, float(lv.denom.sum()), True)
    return Partial(float(values.sum()), int(values.size), rows)


def finish(loss: Loss, part: Partial, reduction: str) -> float:
    """Turn partial sums into the reduced loss."""
    if reduction == "sum":
        return part.total
    if reduction == "batchmean":
        return part.total / part.rows if part.rows else float("nan")
    if loss.family == "keras":
        # Keras divides with divide_no_nan: an empty or zero-weight batch gives 0.
        if reduction == "mean_with_sample_weight" and part.weighted:
            divisor = part.weight
        else:
            divisor = float(part.elements)
        return part.total / divisor if divisor else 0.0
    divisor = part.weight if part.weighted else float(part.elements)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(part.total) / np.float64(divisor))


def reduce(
    loss: Loss, lv: LossValues, reduction: str, sample_weight: np.ndarray | None = None
) -> float | np.ndarray:
    """Reduce unreduced values; `none` returns the (weighted) values themselves."""
    if reduction == "none" or lv.values.ndim == 0:
        return _scale(loss, lv, sample_weight)
    return finish(loss, partial(loss, lv, sample_weight), reduction)


def upstream(
    loss: Loss, lv: LossValues, reduction: str, sample_weight: np.ndarray | None = None
) -> np.ndarray:
    """d(reduced loss)/d(values), shaped like `lv.values` (for `none`: the sum's gradient)."""
    values = lv.values
    part = partial(loss, lv, sample_weight)
    if values.ndim == 0 or reduction in ("sum", "none"):
        scale = 1.0
    elif reduction == "batchmean":
        scale = 1.0 / part.rows
    elif loss.family == "keras":
        use_weight = reduction == "mean_with_sample_weight" and part.weighted
        divisor = part.weight if use_weight else float(part.elements)
        scale = 1.0 / divisor if divisor else 0.0
    else:
        divisor = part.weight if part.weighted else float(part.elements)
        scale = 1.0 / divisor if divisor else float("nan")
    grad = np.full(values.shape, scale, dtype=np.float64)
    if sample_weight is not None and values.ndim:
        grad = grad * sample_weight.reshape(sample_weight.shape[0], *([1] * (values.ndim - 1)))
    return grad
