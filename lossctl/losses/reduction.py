"""Reductions, validated and applied in one place for every loss.

What differs between families is read from their `Family` record (registry.py):

* Keras reduces per-sample values (already averaged over the last axis by the loss), multiplied by
  the sample weights when given. `sum_over_batch_size` (alias `mean`) divides the sum by the
  number of samples; `mean_with_sample_weight` divides by the sum of the sample weights.
* torch reduces per-element values. `mean` divides by the number of elements, or, for a loss with
  class weights or `ignore_index`, by the summed weights of the counted rows; `batchmean`
  (kl_div only) divides the sum by the number of rows.

Reduction works on partial sums so that files larger than memory can be reduced chunk by chunk:
`partial()` of each chunk, added up, then `finish()`. A `Partial` may also hold many partial sums
side by side, each field an array of one shape (one per group, bucket or bootstrap replicate):
`row_partial()` gives each row's own, and they add and finish elementwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossctl.errors import UsageError
from lossctl.losses.registry import Loss, LossValues


def check_reduction(loss: Loss, reduction: str) -> str:
    """Return `reduction` if `loss`'s family defines it for this loss, else raise a usage error."""
    if reduction == "none" and loss.no_rows:
        raise UsageError(f"reduction 'none' is not defined for {loss.qualified_name}: {loss.no_rows}")
    if reduction not in loss.reductions:
        raise UsageError(
            f"reduction {reduction!r} is not defined for {loss.qualified_name} "
            f"(valid: {', '.join(loss.reductions)})"
        )
    return reduction


def check_sample_weights(loss: Loss) -> None:
    """Raise a usage error unless `loss`'s family takes sample weights."""
    if not loss.family.sample_weights:
        hint = f" ({loss.family.no_sample_weights})" if "weight" in loss.roles else ""
        raise UsageError(f"--weights gives sample weights; {loss.qualified_name} has none{hint}")


Sums = float | np.ndarray  # one partial sum, or many side by side


@dataclass(frozen=True)
class Partial:
    """Running sums from which any reduction of the rows seen so far can be finished."""

    total: Sums = 0.0  # sum of (weighted, masked) values
    elements: Sums = 0  # number of values (Keras: samples; torch: elements)
    rows: Sums = 0
    weight: Sums = 0.0  # Keras: sum of sample weights (x mask); torch: sum of `denom`
    weighted: bool = False  # whether `weight` was given for every row
    kept: Sums = 0.0  # Keras: rows its mask keeps (ignore_class, circle)
    masked: bool = False
    mean_total: Sums | None = None  # sum of values * LossValues.mean_scale, where it is set

    def __add__(self, other: Partial) -> Partial:
        if not isinstance(self.rows, np.ndarray) and self.rows == 0 and self.elements == 0:
            return other  # an empty start takes the other's flags
        both = self.mean_total is not None and other.mean_total is not None
        return Partial(
            self.total + other.total,
            self.elements + other.elements,
            self.rows + other.rows,
            self.weight + other.weight,
            self.weighted and other.weighted,
            self.kept + other.kept,
            self.masked and other.masked,
            self.mean_total + other.mean_total if both else None,  # type: ignore[operator]
        )


def _weights(loss: Loss, lv: LossValues, sample_weight: np.ndarray | None) -> np.ndarray | None:
    """The per-row multiplier of the values: the sample weights, times the mask where `denom` is one."""
    if sample_weight is not None:
        check_sample_weights(loss)
    if not loss.family.denom_masks or lv.denom is None:
        return sample_weight
    return lv.denom if sample_weight is None else lv.denom * sample_weight


def _scale(loss: Loss, lv: LossValues, sample_weight: np.ndarray | None) -> np.ndarray:
    """Values times the per-row weights; a Keras scalar is spread over the weighted rows."""
    weights = _weights(loss, lv, sample_weight)
    if weights is None:
        return lv.values
    if lv.values.ndim == 0:
        return lv.values * weights
    return lv.values * weights.reshape(weights.shape[0], *([1] * (lv.values.ndim - 1)))


def partial(loss: Loss, lv: LossValues, sample_weight: np.ndarray | None = None) -> Partial:
    """The partial sums of one chunk's unreduced values."""
    values = _scale(loss, lv, sample_weight)
    rows = int(values.shape[0]) if values.ndim else 1
    total, elements = float(values.sum()), int(values.size)
    if lv.mean_scale is not None:
        return Partial(total, elements, rows, mean_total=float((values * lv.mean_scale).sum()))
    if lv.denom is not None and not loss.family.denom_masks:  # each row's share of the divisor
        share = lv.denom if sample_weight is None else lv.denom * sample_weight
        return Partial(total, elements, rows, float(share.sum()), True)
    weights = _weights(loss, lv, sample_weight)
    weight = float(weights.sum()) if weights is not None else 0.0
    kept = float(lv.denom.sum()) if lv.denom is not None else 0.0
    return Partial(total, elements, rows, weight, weights is not None, kept, lv.denom is not None)


def row_partial(loss: Loss, lv: LossValues, sample_weight: np.ndarray | None = None) -> Partial:
    """Each row's own partial sums, side by side: fields of shape (rows,), or one number that
    every row has. Adding them up over any set of rows gives that set's `partial` (up to the order
    of the additions); groups and the bootstrap add them by key (`np.bincount`)."""
    values = _scale(loss, lv, sample_weight)
    rows = values.shape[0]
    total = values.reshape(rows, -1).sum(axis=1) if values.ndim > 1 else values
    per_row = values.size // rows if rows else 1
    if lv.mean_scale is not None:
        scaled = values * lv.mean_scale.reshape(rows, *([1] * (values.ndim - 1)))
        return Partial(total, per_row, 1, mean_total=scaled.reshape(rows, -1).sum(axis=1))
    if lv.denom is not None and not loss.family.denom_masks:  # each row's share of the divisor
        share = lv.denom if sample_weight is None else lv.denom * sample_weight
        return Partial(total, per_row, 1, share.reshape(rows, -1).sum(axis=1), True)
    weights = _weights(loss, lv, sample_weight)
    kept = lv.denom if lv.denom is not None else 0.0
    return Partial(total, per_row, 1, weights if weights is not None else 0.0, weights is not None,
                   kept, lv.denom is not None)


def _divisor(loss: Loss, part: Partial, reduction: str) -> Sums:
    """What `finish` divides the total by (0: the family's `empty` decides)."""
    if reduction == "sum":
        return 1.0
    if reduction == "batchmean":
        return part.rows
    if not loss.family.denom_masks:  # the summed shares of the divisor, else the count
        return part.weight if part.weighted else part.elements
    if reduction == "mean_with_sample_weight" and part.weighted:
        return part.weight
    if part.masked:  # Keras: masked-out rows are left out of the count
        return part.kept
    return part.elements


def finish(loss: Loss, part: Partial, reduction: str) -> Sums:
    """Turn partial sums into the reduced loss; an array of them for array fields (where the
    family's answer to a zero divisor is an error, such an element is NaN instead)."""
    divisor = np.asarray(_divisor(loss, part, reduction), dtype=np.float64)
    if divisor.ndim == 0:
        loss.family.check_divisor(float(divisor))
    total = part.mean_total if reduction == "mean" and part.mean_total is not None else part.total
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.asarray(total, dtype=np.float64) / divisor
    if loss.family.empty is not None:
        empty = np.nan if isinstance(loss.family.empty, str) else loss.family.empty
        value = np.where(divisor == 0, empty, value)
    return float(value) if value.ndim == 0 else value


def reduce(
    loss: Loss, lv: LossValues, reduction: str, sample_weight: np.ndarray | None = None
) -> float | np.ndarray:
    """Reduce unreduced values; `none` returns the (weighted) values themselves."""
    if reduction == "none" and not loss.family.weighted_rows:
        return lv.values
    values = _scale(loss, lv, sample_weight)
    if reduction == "none" or values.ndim == 0:
        return values
    return finish(loss, partial(loss, lv, sample_weight), reduction)


def reduce_with_upstream(
    loss: Loss, lv: LossValues, reduction: str, sample_weight: np.ndarray | None = None
) -> tuple[float | np.ndarray, np.ndarray]:
    """`reduce` and `upstream` together, from one pass of partial sums (the trainer's steps)."""
    if reduction == "none" or lv.values.ndim == 0:
        return reduce(loss, lv, reduction, sample_weight), upstream(loss, lv, reduction, sample_weight)
    part = partial(loss, lv, sample_weight)
    return finish(loss, part, reduction), upstream(loss, lv, reduction, sample_weight, part)


def upstream(
    loss: Loss, lv: LossValues, reduction: str, sample_weight: np.ndarray | None = None,
    part: Partial | None = None,
) -> np.ndarray:
    """d(reduced loss)/d(values), shaped like `lv.values` (for `none`: the sum's gradient);
    `part`, when given, is `partial(loss, lv, sample_weight)` already computed.

    It has the values' floating dtype (float32 values, as the trainer gives them in float32, get a
    float32 upstream), float64 otherwise.
    """
    dtype = lv.values.dtype if lv.values.dtype.kind == "f" else np.dtype(np.float64)
    if part is None:
        part = partial(loss, lv, sample_weight)
    divisor = 1.0 if reduction == "none" else _divisor(loss, part, reduction)
    if divisor == 0 and loss.family.empty is not None:
        scale = 0.0  # a constant: no gradient
    else:
        scale = 1.0 / divisor if divisor else float("nan")
    weights = _weights(loss, lv, sample_weight)
    if reduction == "mean" and lv.mean_scale is not None:
        return (scale * lv.mean_scale).astype(dtype)
    if weights is None:
        return np.full(lv.values.shape, scale, dtype=dtype)
    if lv.values.ndim == 0:  # a scalar spread over the rows: its gradient gathers them
        return np.asarray(scale * float(weights.sum()))
    shape = (weights.shape[0], *([1] * (lv.values.ndim - 1)))
    return np.broadcast_to(scale * weights.reshape(shape), lv.values.shape).astype(dtype)
