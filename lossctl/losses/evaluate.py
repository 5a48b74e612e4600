"""Evaluate a registered loss on in-memory arrays: its reduced value and its gradient.

This is the one entry point that `compute` (chunk by chunk), the trainer and the tests share, so a
loss's number is the same whichever of them asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lossctl.errors import DataError, UsageError
from lossctl.losses.reduction import check_reduction, reduce, upstream
from lossctl.losses.registry import Loss, LossValues


def as_inputs(
    loss: Loss, arrays: Mapping[str, Any], dtype: np.dtype | type = np.float64
) -> dict[str, np.ndarray]:
    """Check roles and widths, returning arrays of shape (n, k) in `dtype` (float64 by default;
    the trainer asks for its network's float32).

    A 1-d array is taken as one column. Raises UsageError for a missing or unknown role and
    DataError for a number of columns (or rows) the loss cannot take.
    """
    known = {i.role for i in loss.inputs}
    unknown = set(arrays) - known
    if unknown:
        raise UsageError(
            f"{loss.qualified_name} takes no input {sorted(unknown)[0]!r} "
            f"(inputs: {', '.join(i.role for i in loss.inputs)})"
        )
    out: dict[str, np.ndarray] = {}
    for spec in loss.inputs:
        if spec.role not in arrays:
            if spec.optional:
                continue
            raise UsageError(f"{loss.qualified_name} needs a {spec.role} input")
        array = np.asarray(arrays[spec.role], dtype=dtype)
        if array.ndim == 1:
            array = array[:, None]
        out[spec.role] = array
    n_pred = out["y_pred"].shape[1] if "y_pred" in out else None
    rows = {a.shape[0] for a in out.values()}
    if len(rows) > 1:
        raise DataError(f"{loss.qualified_name}: inputs have different numbers of rows")
    for spec in loss.inputs:
        if spec.role not in out:
            continue
        width = out[spec.role].shape[1]
        if spec.width == "one" and width != 1:
            raise DataError(f"{loss.qualified_name}: {spec.role} takes one column, got {width}")
        if spec.width == "like_pred" and n_pred is not None and width != n_pred:
            raise DataError(
                f"{loss.qualified_name}: {spec.role} has {width} column(s) but y_pred has {n_pred}"
            )
    return out


def loss_values(loss: Loss, inputs: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> LossValues:
    """The unreduced values, computed with numpy floating-point errors silenced.

    The frameworks let inf and nan through (e.g. MAPE's division by a zero y_true is guarded, but
    a log of 0 in poisson_nll_loss with log_input=False is not); so do we, without warnings.
    """
    with np.errstate(all="ignore"):
        return loss.value(inputs, params)


def batch_value(
    loss: Loss,
    inputs: Mapping[str, np.ndarray],
    params: Mapping[str, Any],
    reduction: str,
    sample_weight: np.ndarray | None = None,
) -> float | np.ndarray:
    """The reduced value of one whole batch of checked inputs (its rows' values for `none`): the
    loss's own `metric` where it has one, else the reduction of its values."""
    if loss.metric is not None and reduction != "none":
        with np.errstate(all="ignore"):
            return loss.metric(inputs, params, sample_weight)
    return reduce(loss, loss_values(loss, inputs, params), reduction, sample_weight)


def evaluate(
    loss: Loss,
    arrays: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    reduction: str | None = None,
    sample_weight: np.ndarray | None = None,
) -> float | np.ndarray:
    """The reduced loss (a float, or an array for `none` or per-output values); the reduction
    defaults to the family's."""
    reduction = reduction or loss.family.default_reduction
    inputs, resolved = _prepare(loss, arrays, params, reduction)
    return batch_value(loss, inputs, resolved, reduction, _weights(sample_weight))


def check_gradient(loss: Loss) -> None:
    """Raise a usage error for a loss without a gradient."""
    if loss.grad is None:
        raise UsageError(f"{loss.qualified_name} has no gradient (it is a metric, not a training loss)")


def gradient(
    loss: Loss,
    arrays: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    reduction: str = "mean",
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """d(reduced loss)/d(y_pred), shaped (n, k) like y_pred. For `none`, the gradient of the sum."""
    check_gradient(loss)
    inputs, resolved = _prepare(loss, arrays, params, reduction)
    sw = _weights(sample_weight)
    with np.errstate(all="ignore"):
        lv = loss.value(inputs, resolved)
        return loss.grad(inputs, resolved, upstream(loss, lv, reduction, sw))


def _prepare(
    loss: Loss, arrays: Mapping[str, Any], params: Mapping[str, Any] | None, reduction: str
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Checked inputs and parameters with the loss's defaults filled in."""
    check_reduction(loss, reduction)
    return as_inputs(loss, arrays), loss.resolve_params({}) | dict(params or {})


def _weights(sample_weight: np.ndarray | None) -> np.ndarray | None:
    if sample_weight is None:
        return None
    return np.asarray(sample_weight, dtype=np.float64).reshape(-1)
