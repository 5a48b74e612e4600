"""The PyTorch losses: every loss of `torch.nn.functional` (torch 2.13), in numpy.

Each value function returns what torch computes with `reduction='none'`: per element, shape
(n, k), for elementwise losses, per sample, shape (n,), for the losses torch reduces over the
class axis first. `reduction.py` applies `sum` / `mean` / `batchmean`; where torch's `mean` is a
weighted mean (class weights, `ignore_index`, the per-element `weight` of l1/mse) the value
function sets `LossValues.denom`.

Each grad function is the vector-Jacobian product with respect to `y_pred` (torch's `input`,
`input1`, `x1` or `anchor`), written out by hand and following torch's autograd at the kinks:
|0| has slope 0, `clamp_min(z, 0)` passes the gradient at z == 0, the hinges of the margin losses
written in C++ (multi_margin, multilabel_margin) count only z > 0, and binary_cross_entropy
divides by max(x (1 - x), 1e-12) with the 1e-12 held in float32.

Names are torch's functional names; the aliases are the `torch.nn` class names.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from lossctl.errors import InputValueError, UsageError
from lossctl.losses import ctc as ctc_ops
from lossctl.losses import numeric
from lossctl.losses.registry import Arrays, Family, Input, Loss, LossValues, Param, Params, register

TORCH = Family(
    name="torch",
    reductions=("none", "sum", "mean"),
    convention="PyTorch: the reduction runs over every element",
    sample_weights=False,
    no_sample_weights="torch losses with per-element weights take --col weight=COL",
)

# aten's binary_cross_entropy_backward guards its denominator with a float32 1e-12.
_BCE_GRAD_EPS = float(np.float32(1e-12))
# aten's cosine_embedding_loss adds this (also a float32 1e-12) to both squared norms.
_COSINE_EPS = _BCE_GRAD_EPS

_TRUE = Input("y_true", "like_pred", help="target (torch's `target`)")
_PRED = Input("y_pred", "any", help="prediction (torch's `input`)")
_ELEMENT_WEIGHT = Input(
    "weight", "like_pred", optional=True, help="per-element weight (torch's `weight` tensor)"
)


# --- shared helpers ---------------------------------------------------------------------------


def _class_weights(params: Params, n_classes: int, name: str = "weight") -> np.ndarray | None:
    """The `-p weight=...` list as an array, checked against the number of classes."""
    weight = params.get(name)
    if weight is None:
        return None
    array = np.asarray(weight, dtype=np.float64)
    if array.shape != (n_classes,):
        raise UsageError(
            f"parameter {name}: {array.size} value(s) given but y_pred has {n_classes} "
            f"column(s) (one {name} per class)"
        )
    return array


def _element_weight(inputs: Arrays) -> np.ndarray | float:
    return inputs["weight"] if "weight" in inputs else 1.0


def _bce_weight(inputs: Arrays, params: Params, loss: str) -> np.ndarray | float:
    """binary_cross_entropy's `weight`: the per-element column, or the `-p weight=` list
    broadcast over the rows (one number, or one per column: per-class rescaling), not both."""
    listed = params.get("weight")
    if listed is None:
        return _element_weight(inputs)
    if "weight" in inputs:
        raise UsageError(f"torch.{loss}: give weight as a column or as -p weight=..., not both")
    weight = np.asarray(listed, dtype=np.float64)
    k = inputs["y_pred"].shape[1]
    if weight.size not in (1, k):
        raise UsageError(
            f"parameter weight: {weight.size} value(s) given but y_pred has {k} column(s) "
            "(one number, or one per column)"
        )
    return weight


def _broadcast_column(inputs: Arrays, role: str, loss: str) -> np.ndarray:
    """A role that takes one column (broadcast over y_pred's columns) or as many as y_pred."""
    array = inputs[role]
    width, k = array.shape[1], inputs["y_pred"].shape[1]
    if width not in (1, k):
        raise UsageError(f"torch.{loss}: {role} takes 1 or {k} column(s), got {width}")
    return array


def _check_positive(value: float, name: str, loss: str, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise UsageError(f"torch.{loss}: parameter {name} must be {bound}, got {value:g}")


def _clamp_min_active(z: np.ndarray) -> np.ndarray:
    """Where autograd passes the gradient of clamp_min(z, 0): z >= 0 (the kink included)."""
    return (z >= 0).astype(np.float64)


# --- regression ---------------------------------------------------------------------------------


def l1_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = w_ij |x_ij - y_ij|.  x = y_pred (n, k), y = y_true (n, k), w = weight (n, k) or 1.

    With a weight tensor torch's `mean` is sum(l) / sum(w), so `denom` is each row's weight sum.
    """
    x, y = inputs["y_pred"], inputs["y_true"]
    values = np.abs(x - y) * _element_weight(inputs)
    denom = inputs["weight"].sum(axis=1) if "weight" in inputs else None
    return LossValues(values, denom)


def l1_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l_ij / d x_ij = w_ij sign(x_ij - y_ij), with sign(0) = 0 as in torch."""
    return upstream * np.sign(inputs["y_pred"] - inputs["y_true"]) * _element_weight(inputs)


def mse_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = w_ij (x_ij - y_ij)^2.  Shapes (n, k); `mean` with a weight divides by sum(w)."""
    x, y = inputs["y_pred"], inputs["y_true"]
    values = (x - y) ** 2 * _element_weight(inputs)
    denom = inputs["weight"].sum(axis=1) if "weight" in inputs else None
    return LossValues(values, denom)


def mse_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l_ij / d x_ij = 2 w_ij (x_ij - y_ij)."""
    return upstream * 2.0 * (inputs["y_pred"] - inputs["y_true"]) * _element_weight(inputs)


def huber_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = w_ij * (0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta)), d = x - y.

    Shapes (n, k). Unlike l1/mse, torch's `mean` of a weighted huber_loss divides by the number
    of elements, not by sum(w).
    """
    delta = params["delta"]
    _check_positive(delta, "delta", "huber_loss")
    d = inputs["y_pred"] - inputs["y_true"]
    a = np.abs(d)
    values = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return LossValues(values * _element_weight(inputs))


def huber_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = w * clip(d, -delta, delta)."""
    d = inputs["y_pred"] - inputs["y_true"]
    delta = params["delta"]
    return upstream * np.clip(d, -delta, delta) * _element_weight(inputs)


def smooth_l1_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta, d = x - y; beta = 0 is l1.

    Shapes (n, k). smooth_l1 = huber / beta.
    """
    beta = params["beta"]
    _check_positive(beta, "beta", "smooth_l1_loss", allow_zero=True)
    d = inputs["y_pred"] - inputs["y_true"]
    a = np.abs(d)
    if beta == 0.0:
        return LossValues(a)
    return LossValues(np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta))


def smooth_l1_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = clip(d / beta, -1, 1); sign(d) when beta = 0."""
    beta = params["beta"]
    d = inputs["y_pred"] - inputs["y_true"]
    if beta == 0.0:
        return upstream * np.sign(d)
    return upstream * np.clip(d / beta, -1.0, 1.0)


def poisson_nll_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = exp(x) - y x (log_input) or x - y log(x + eps); shapes (n, k).

    full=True adds Stirling's term y log y - y + 0.5 log(2 pi y) where y > 1.
    """
    x, y = inputs["y_pred"], inputs["y_true"]
    if params["log_input"]:
        values = np.exp(x) - y * x
    else:
        values = x - y * np.log(x + params["eps"])
    if params["full"]:
        safe = np.where(y > 1, y, 2.0)
        stirling = safe * np.log(safe) - safe + 0.5 * np.log(2.0 * math.pi * safe)
        values = values + np.where(y > 1, stirling, 0.0)
    return LossValues(values)


def poisson_nll_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = exp(x) - y (log_input) or 1 - y / (x + eps)."""
    x, y = inputs["y_pred"], inputs["y_true"]
    if params["log_input"]:
        return upstream * (np.exp(x) - y)
    return upstream * (1.0 - y / (x + params["eps"]))


def _gaussian_var(inputs: Arrays, params: Params) -> np.ndarray:
    """The variance (n, 1) or (n, k), from the `var` column(s) or the `var` parameter."""
    column, constant = inputs.get("var"), params.get("var")
    if (column is None) == (constant is None):
        given = "both" if column is not None else "neither"
        raise UsageError(
            f"torch.gaussian_nll_loss needs the variance either as a var input column or as "
            f"-p var=<number>, not {given}"
        )
    if constant is not None:
        if constant < 0:
            raise UsageError(f"torch.gaussian_nll_loss: var must be non-negative, got {constant:g}")
        return np.full((inputs["y_pred"].shape[0], 1), float(constant))
    var = _broadcast_column(inputs, "var", "gaussian_nll_loss")
    bad = ~(var >= 0)
    if bad.any():
        row, col = numeric.first_bad(bad)
        raise InputValueError(
            f"var value {var[row, col]!r} is not a variance (must be >= 0)",
            row=row,
            role="var",
            column=col,
        )
    return var


def gaussian_nll_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = 0.5 (log v + (x - y)^2 / v) [+ 0.5 log(2 pi) if full], v = max(var, eps).

    x, y (n, k); var (n, 1) (one variance per row) or (n, k). torch's `none` keeps (n, k).
    """
    var = np.maximum(_gaussian_var(inputs, params), params["eps"])
    d = inputs["y_pred"] - inputs["y_true"]
    values = 0.5 * (np.log(var) + d * d / var)
    if params["full"]:
        values = values + 0.5 * math.log(2.0 * math.pi)
    return LossValues(values)


def gaussian_nll_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = (x - y) / max(var, eps)."""
    var = np.maximum(_gaussian_var(inputs, params), params["eps"])
    return upstream * (inputs["y_pred"] - inputs["y_true"]) / var


# --- binary and multi-label classification ------------------------------------------------------


def bce_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = -w_ij (y log x + (1 - y) log(1 - x)), each log clamped at -100 as in torch.

    x = probabilities (n, k) in [0, 1], y = targets (n, k) in [0, 1], w = the weight column (n, k), the
    weight list (k,) or (1,) broadcast over the rows, or 1.
    """
    x, y = inputs["y_pred"], inputs["y_true"]
    numeric.check_probability(x, "y_pred")
    numeric.check_probability(y, "y_true")
    log_x = np.maximum(np.log(x), -100.0)
    log_1mx = np.maximum(np.log1p(-x), -100.0)
    values = (y - 1.0) * log_1mx - y * log_x
    return LossValues(values * _bce_weight(inputs, params, "binary_cross_entropy"))


def bce_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = w (x - y) / max(x (1 - x), 1e-12): torch's backward, huge but finite at 0, 1."""
    x, y = inputs["y_pred"], inputs["y_true"]
    slope = (x - y) / np.maximum((1.0 - x) * x, _BCE_GRAD_EPS)
    return upstream * slope * _bce_weight(inputs, params, "binary_cross_entropy")


def bce_logits_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = w_ij ((1 - y) x - (1 + (p_j - 1) y) log sigmoid(x)); p = pos_weight (k,) or 1.

    x = logits (n, k), y = targets (n, k). Equals -w (p y log s(x) + (1 - y) log(1 - s(x))).
    """
    x, y = inputs["y_pred"], inputs["y_true"]
    pos_weight = _class_weights(params, x.shape[1], "pos_weight")
    log_weight = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * y
    values = (1.0 - y) * x - log_weight * numeric.log_sigmoid(x)
    return LossValues(values * _bce_weight(inputs, params, "binary_cross_entropy_with_logits"))


def bce_logits_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = w ((p y + 1 - y) sigmoid(x) - p y); with no pos_weight, w (sigmoid(x) - y)."""
    x, y = inputs["y_pred"], inputs["y_true"]
    pos_weight = _class_weights(params, x.shape[1], "pos_weight")
    if pos_weight is None:
        slope = numeric.sigmoid(x) - y
    else:
        py = pos_weight * y
        slope = (py + 1.0 - y) * numeric.sigmoid(x) - py
    return upstream * slope * _bce_weight(inputs, params, "binary_cross_entropy_with_logits")


def soft_margin_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = log(1 + exp(-y_ij x_ij)), y in {-1, 1}; shapes (n, k).

    Computed as torch does, without a stable softplus: -y x above ~709 gives inf.
    """
    return LossValues(np.log1p(np.exp(-inputs["y_true"] * inputs["y_pred"])))


def soft_margin_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = -y z / (1 + z), z = exp(-y x) (nan where z overflows, as in torch)."""
    y = inputs["y_true"]
    z = np.exp(-y * inputs["y_pred"])
    return upstream * (-y * z / (1.0 + z))


def multilabel_soft_margin_value(inputs: Arrays, params: Params) -> LossValues:
    """l_i = -(1/C) sum_j w_j (y_ij log s(x_ij) + (1 - y_ij) log s(-x_ij)); x, y (n, C) -> (n,)."""
    x, y = inputs["y_pred"], inputs["y_true"]
    weight = _class_weights(params, x.shape[1])
    per_class = -(y * numeric.log_sigmoid(x) + (1.0 - y) * numeric.log_sigmoid(-x))
    if weight is not None:
        per_class = per_class * weight
    return LossValues(per_class.sum(axis=1) / x.shape[1])


def multilabel_soft_margin_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l_i / d x_ij = w_j (sigmoid(x_ij) - y_ij) / C."""
    x, y = inputs["y_pred"], inputs["y_true"]
    weight = _class_weights(params, x.shape[1])
    slope = numeric.sigmoid(x) - y
    if weight is not None:
        slope = slope * weight
    return upstream[:, None] * slope / x.shape[1]


# --- multi-class classification -----------------------------------------------------------------


def _targets(inputs: Arrays, params: Params, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """Class indices (n,) validated against y_pred's columns, and the mask of ignored rows."""
    n_classes = inputs["y_pred"].shape[1]
    if inputs["y_true"].shape[1] != 1:
        raise UsageError(f"torch.{loss}: y_true takes one column of class indices")
    ignore = params.get("ignore_index")
    labels = numeric.class_indices(inputs["y_true"], n_classes, ignore=ignore)
    ignored = labels == ignore if ignore is not None else np.zeros(labels.shape, dtype=bool)
    return np.where(ignored, 0, labels), ignored


def _is_probability_target(inputs: Arrays) -> bool:
    """cross_entropy: y_true as wide as y_pred holds probabilities, one column class indices."""
    width, n_classes = inputs["y_true"].shape[1], inputs["y_pred"].shape[1]
    if width == n_classes:
        return True
    if width == 1:
        return False
    raise UsageError(
        f"torch.cross_entropy: y_true has {width} columns; give one column of class indices "
        f"or {n_classes} columns of class probabilities (as many as y_pred)"
    )


def _label_smoothing(params: Params) -> float:
    smoothing = params["label_smoothing"]
    if not 0.0 <= smoothing <= 1.0:
        raise UsageError(
            f"torch.cross_entropy: label_smoothing must lie in [0, 1], got {smoothing:g}"
        )
    return smoothing


def nll_value(inputs: Arrays, params: Params) -> LossValues:
    """l_i = -w_{t_i} x_{i, t_i}, 0 where t_i == ignore_index.

    x = log-probabilities (n, C), t = y_true class indices (n, 1) -> (n,). denom_i = w_{t_i}
    (0 if ignored): torch's `mean` divides by the summed weight of the counted rows.
    """
    x = inputs["y_pred"]
    labels, ignored = _targets(inputs, params, "nll_loss")
    weight = _class_weights(params, x.shape[1])
    row_weight = np.ones(len(labels)) if weight is None else weight[labels]
    row_weight = np.where(ignored, 0.0, row_weight)
    picked = x[np.arange(len(labels)), labels]
    return LossValues(np.where(ignored, 0.0, -row_weight * picked), row_weight)


def nll_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l_i / d x_ic = -w_{t_i} [c == t_i]; ignored rows get exactly 0."""
    x = inputs["y_pred"]
    labels, ignored = _targets(inputs, params, "nll_loss")
    weight = _class_weights(params, x.shape[1])
    row_weight = np.ones(len(labels)) if weight is None else weight[labels]
    grad = np.zeros_like(x)
    coefficient = np.where(ignored, 0.0, -row_weight * upstream)
    grad[np.arange(len(labels)), labels] = coefficient
    return grad


def cross_entropy_value(inputs: Arrays, params: Params) -> LossValues:
    """Cross entropy of logits x (n, C) with class indices (n, 1) or probabilities (n, C); (n,).

    Class indices t, smoothing e, class weights w (default 1), log-softmax q:
        l_i = (1 - e) (-w_{t_i} q_{i, t_i}) + (e / C) (-sum_c w_c q_ic),  0 if t_i == ignore_index,
        denom_i = w_{t_i} (0 if ignored): `mean` divides both terms by the counted weight.
    Probabilities p, smoothed to p (1 - e) + e / C:
        l_i = -sum_c w_c p_ic q_ic; `mean` divides by n (torch ignores the weights there).
    """
    x = inputs["y_pred"]
    n_classes = x.shape[1]
    smoothing = _label_smoothing(params)
    weight = _class_weights(params, n_classes)
    w = np.ones(n_classes, dtype=x.dtype) if weight is None else weight
    log_p = numeric.log_softmax(x)
    if _is_probability_target(inputs):
        target = inputs["y_true"]
        if smoothing > 0:
            target = target * (1.0 - smoothing) + smoothing / n_classes
        return LossValues(-(log_p * target * w).sum(axis=1))
    labels, ignored = _targets(inputs, params, "cross_entropy")
    rows = np.arange(len(labels))
    row_weight = np.where(ignored, 0.0, w[labels])
    nll = -row_weight * log_p[rows, labels]
    if smoothing > 0:
        smooth = np.where(ignored, 0.0, -(log_p * w).sum(axis=1))
        values = (1.0 - smoothing) * nll + smooth * (smoothing / n_classes)
    else:
        values = nll
    return LossValues(np.where(ignored, 0.0, values), row_weight)


def cross_entropy_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l_i / d x_i = sum_c a_ic (softmax(x_i) - e_c), a_ic the coefficient of -q_ic in l_i.

    Probability targets: a_ic = w_c p_ic. Class indices: a_ic = (1 - e) w_c [c == t_i] + e w_c / C,
    zero for ignored rows.
    """
    x = inputs["y_pred"]
    n_classes = x.shape[1]
    smoothing = _label_smoothing(params)
    weight = _class_weights(params, n_classes)
    w = np.ones(n_classes, dtype=x.dtype) if weight is None else weight
    probs = numeric.softmax(x)
    if _is_probability_target(inputs):
        target = inputs["y_true"]
        if smoothing > 0:
            target = target * (1.0 - smoothing) + smoothing / n_classes
        coefficient = target * w
    else:
        labels, ignored = _targets(inputs, params, "cross_entropy")
        coefficient = np.zeros_like(x)
        coefficient[np.arange(len(labels)), labels] = (1.0 - smoothing) * w[labels]
        if smoothing > 0:
            coefficient = coefficient + (smoothing / n_classes) * w
        coefficient[ignored] = 0.0
        # an ignored row gets exactly 0, even when `mean` over no counted row scales by nan
        upstream = np.where(ignored, 0.0, upstream)
    slope = probs * coefficient.sum(axis=1, keepdims=True) - coefficient
    return upstream[:, None] * slope


def kl_div_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = y (log y - x), or exp(y) (y - x) with log_target; x = log-probabilities (n, k).

    y log y is taken as 0 where y == 0 (torch's xlogy); a negative y gives nan, as in torch.
    """
    x, y = inputs["y_pred"], inputs["y_true"]
    if params["log_target"]:
        return LossValues(np.exp(y) * (y - x))
    y_log_y = np.where(y == 0, 0.0, y * np.log(np.where(y == 0, 1.0, y)))
    return LossValues(y_log_y - y * x)


def kl_div_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = -y, or -exp(y) with log_target."""
    y = inputs["y_true"]
    return upstream * -(np.exp(y) if params["log_target"] else y)


def _multi_margin_terms(
    inputs: Arrays, params: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z_ic = margin - x_{i, t_i} + x_ic (0 at c == t_i), the labels and each row's weight."""
    x = inputs["y_pred"]
    labels, _ = _targets(inputs, {}, "multi_margin_loss")
    weight = _class_weights(params, x.shape[1])
    rows = np.arange(len(labels))
    z = params["margin"] - x[rows, labels][:, None] + x
    z[rows, labels] = 0.0  # the target class never contributes
    row_weight = np.ones(len(labels)) if weight is None else weight[labels]
    return z, labels, row_weight


def multi_margin_value(inputs: Arrays, params: Params) -> LossValues:
    """l_i = (w_{t_i} / C) sum_{c != t_i} max(0, margin - x_{i, t_i} + x_ic)^p, p in {1, 2}.

    x = scores (n, C), t = class indices (n, 1) -> (n,). torch's `mean` divides by n.
    """
    z, _, row_weight = _multi_margin_terms(inputs, params)
    hinge = np.where(z > 0, z, 0.0)
    if params["p"] == 2:
        hinge = hinge * hinge
    return LossValues(row_weight * hinge.sum(axis=1) / z.shape[1])


def multi_margin_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """Each active term (z > 0 strictly, as aten) adds g to x_ic and -g to x_{i, t_i}.

    g = w_{t_i} / C (p = 1) or 2 z w_{t_i} / C (p = 2).
    """
    z, labels, row_weight = _multi_margin_terms(inputs, params)
    active = (z > 0).astype(np.float64)
    slope = active * (2.0 * z if params["p"] == 2 else 1.0)
    slope = slope * (row_weight * upstream / z.shape[1])[:, None]
    rows = np.arange(len(labels))
    slope[rows, labels] = -slope.sum(axis=1)
    return slope


def _multilabel_targets(inputs: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """(listed, is_target), both (n, C): which target slots count (before the first -1), and
    which classes are targets. Every entry must be an integer in [-1, C), as torch checks."""
    y = inputs["y_true"]
    n_classes = y.shape[1]
    not_int = y != np.round(y)
    bad = not_int | (y < -1) | (y >= n_classes)
    if bad.any():
        row, col = numeric.first_bad(bad)
        raise InputValueError(
            f"y_true value {y[row, col]!r} is not a class index in -1..{n_classes - 1} "
            f"(multilabel_margin_loss lists target classes, padded with -1)",
            row=row,
            role="y_true",
            column=col,
        )
    labels = y.astype(np.int64)
    listed = np.cumprod(labels >= 0, axis=1).astype(bool)  # slots before the first -1
    is_target = np.zeros(labels.shape, dtype=bool)
    rows = np.repeat(np.arange(labels.shape[0]), n_classes)
    is_target[rows[listed.ravel()], labels[listed]] = True
    return listed, is_target


def _multilabel_margins(inputs: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z[i, s, d] = 1 - x[i, target slot s] + x[i, d], and the mask of terms that count."""
    x = inputs["y_pred"]
    listed, is_target = _multilabel_targets(inputs)
    labels = np.where(listed, inputs["y_true"], 0).astype(np.int64)
    picked = np.take_along_axis(x, labels, axis=1)  # (n, slots)
    z = 1.0 - picked[:, :, None] + x[:, None, :]
    counted = listed[:, :, None] & ~is_target[:, None, :]
    return z, counted, labels


def multilabel_margin_value(inputs: Arrays, params: Params) -> LossValues:
    """l_i = (1/C) sum_{j in targets_i} sum_{d not in targets_i} max(0, 1 - (x_ij - x_id)).

    x = scores (n, C); y_true (n, C) lists the target classes, ended by the first -1
    (e.g. 3,0,-1,1: classes 3 and 0). A class listed twice counts twice, as in torch. -> (n,).
    """
    z, counted, _ = _multilabel_margins(inputs)
    terms = np.where(counted & (z > 0), z, 0.0)
    return LossValues(terms.sum(axis=(1, 2)) / z.shape[2])


def multilabel_margin_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """Each active term (z > 0 strictly) adds 1/C to x_id and -1/C to x_ij."""
    z, counted, labels = _multilabel_margins(inputs)
    active = (counted & (z > 0)).astype(np.float64)
    n_classes = z.shape[2]
    grad = active.sum(axis=1)  # + for each non-target d
    minus = active.sum(axis=2)  # - for each listed target slot
    np.add.at(grad, (np.arange(len(labels))[:, None], labels), -minus)
    return grad * (upstream / n_classes)[:, None]


# --- embeddings and ranking ---------------------------------------------------------------------


def hinge_embedding_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = x_ij if y_ij == 1; max(0, margin - x_ij) if y_ij == -1 (both if y is neither).

    x = distances (n, k), y = +-1 labels (n, k) or (n, 1).
    """
    x = inputs["y_pred"]
    y = _broadcast_column(inputs, "y_true", "hinge_embedding_loss")
    hinge = np.maximum(params["margin"] - x, 0.0)
    return LossValues(np.where(y != 1, hinge, 0.0) + np.where(y != -1, x, 0.0))


def hinge_embedding_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x = [y != -1] - [y != 1][margin - x >= 0]."""
    x = inputs["y_pred"]
    y = _broadcast_column(inputs, "y_true", "hinge_embedding_loss")
    active = _clamp_min_active(params["margin"] - x)
    return upstream * ((y != -1).astype(np.float64) - (y != 1) * active)


def margin_ranking_value(inputs: Arrays, params: Params) -> LossValues:
    """l_ij = max(0, -y_ij (x1_ij - x2_ij) + margin); x1 = y_pred, x2 = input2 (n, k), y = +-1.

    torch keeps the input's shape for `none`: (n, k), usually k = 1.
    """
    y = _broadcast_column(inputs, "y_true", "margin_ranking_loss")
    z = -y * (inputs["y_pred"] - inputs["input2"]) + params["margin"]
    return LossValues(np.maximum(z, 0.0))


def margin_ranking_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d x1 = -y [z >= 0]."""
    y = _broadcast_column(inputs, "y_true", "margin_ranking_loss")
    z = -y * (inputs["y_pred"] - inputs["input2"]) + params["margin"]
    return upstream * -y * _clamp_min_active(z)


def _cosine(inputs: Arrays) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x1, x2 = inputs["y_pred"], inputs["input2"]
    m1 = (x1 * x1).sum(axis=1) + _COSINE_EPS
    m2 = (x2 * x2).sum(axis=1) + _COSINE_EPS
    root = np.sqrt(m1 * m2)
    return (x1 * x2).sum(axis=1) / root, m1, root, inputs["y_true"][:, 0]


def cosine_embedding_value(inputs: Arrays, params: Params) -> LossValues:
    """l_i = 1 - cos(x1_i, x2_i) if y_i == 1; max(0, cos - margin) if y_i == -1; else 0.

    x1 = y_pred, x2 = input2 (n, k), y (n, 1) -> (n,). cos = x1.x2 / sqrt((|x1|^2 + 1e-12)
    (|x2|^2 + 1e-12)), with aten's float32 1e-12.
    """
    cos, _, _, y = _cosine(inputs)
    positive = np.where(y == 1, 1.0 - cos, 0.0)
    negative = np.where(y == -1, np.maximum(cos - params["margin"], 0.0), 0.0)
    return LossValues(positive + negative)


def cosine_embedding_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d cos / d x1 = x2 / root - cos x1 / m1; times -1 (y = 1) or [cos - margin >= 0] (y = -1)."""
    cos, m1, root, y = _cosine(inputs)
    d_cos = inputs["input2"] / root[:, None] - (cos / m1)[:, None] * inputs["y_pred"]
    factor = np.where(y == 1, -1.0, 0.0) + np.where(y == -1, 1.0, 0.0) * (
        _clamp_min_active(cos - params["margin"])
    )
    return (upstream * factor)[:, None] * d_cos


def _triplet_p(params: Params) -> float:
    p = float(params["p"])
    if not p > 0:
        raise UsageError(f"torch.triplet_margin_loss: p must be positive, got {p:g}")
    return p


def _pairwise(a: np.ndarray, b: np.ndarray, p: float, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """torch's pairwise_distance: ||a - b + eps||_p per row, and the difference it is taken of."""
    d = a - b + eps
    if math.isinf(p):
        return np.abs(d).max(axis=1), d
    if p == 1:
        return np.abs(d).sum(axis=1), d
    if p == 2:
        return np.sqrt((d * d).sum(axis=1)), d
    return (np.abs(d) ** p).sum(axis=1) ** (1.0 / p), d


def _norm_grad(d: np.ndarray, norm: np.ndarray, p: float) -> np.ndarray:
    """d ||d||_p / d d, following torch's norm backward (0 where the norm is 0; ties of the
    inf-norm share the gradient)."""
    if math.isinf(p):
        at_max = (np.abs(d) == norm[:, None]).astype(np.float64)
        return np.sign(d) * at_max / at_max.sum(axis=1, keepdims=True)
    if p == 1:
        return np.sign(d)
    safe = np.where(norm == 0, 1.0, norm)[:, None]
    if p == 2:
        slope = d / safe
    else:
        slope = d * np.abs(d) ** (p - 2) / safe ** (p - 1)
    return np.where(norm[:, None] == 0, 0.0, slope)


Distance = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _triplet_terms(inputs: Arrays, params: Params, distance: Distance, loss: str):
    """z = margin + d(a, p) - d(a, n) (n: min(d(a, n), d(p, n)) with swap), the derivatives of
    d(a, p) and d(a, n) in the anchor a, and the share of the latter that reaches a."""
    margin = params["margin"]
    if not margin > 0:
        raise UsageError(f"torch.{loss}: margin must be positive, got {margin:g}")
    anchor, positive, negative = inputs["y_pred"], inputs["positive"], inputs["negative"]
    d_pos, slope_pos = distance(anchor, positive)
    d_neg, slope_neg = distance(anchor, negative)
    share = np.ones_like(d_neg)  # the minimum's gradient: ties split in two
    if params["swap"]:
        d_swap, _ = distance(positive, negative)
        share = np.where(d_neg < d_swap, 1.0, np.where(d_neg == d_swap, 0.5, 0.0))
        d_neg = np.minimum(d_neg, d_swap)
    return margin + d_pos - d_neg, slope_pos, slope_neg, share


def _p_distance(params: Params) -> Distance:
    """triplet_margin_loss's distance: torch's pairwise_distance ||a - b + eps||_p."""
    p, eps = _triplet_p(params), params["eps"]

    def distance(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d, diff = _pairwise(a, b, p, eps)
        return d, _norm_grad(diff, d, p)

    return distance


def _triplet_distance(params: Params) -> tuple[Distance, str]:
    """The distance a triplet loss measures with, and the loss's name (for messages)."""
    if "distance" in params:
        return _named_distance(params), "triplet_margin_with_distance_loss"
    return _p_distance(params), "triplet_margin_loss"


def triplet_value(inputs: Arrays, params: Params) -> LossValues:
    """l_i = max(0, margin + d(a_i, p_i) - d(a_i, n_i)), a = anchor = y_pred, p = positive,
    n = negative, each (n, k) -> (n,); y_true is not used.

    triplet_margin_loss: d(u, v) = ||u - v + eps||_p. triplet_margin_with_distance_loss:
    euclidean d(u, v) = ||u - v + 1e-6||_2 (F.pairwise_distance) or cosine d(u, v) = 1 - cos(u, v)
    (F.cosine_similarity, eps 1e-8). With swap, d(a, n) becomes min(d(a, n), d(p, n)).
    """
    distance, name = _triplet_distance(params)
    return LossValues(np.maximum(_triplet_terms(inputs, params, distance, name)[0], 0.0))


def triplet_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d a = [z >= 0] (d d(a, p) / d a - share * d d(a, n) / d a), z = l before the clamp."""
    distance, name = _triplet_distance(params)
    z, slope_pos, slope_neg, share = _triplet_terms(inputs, params, distance, name)
    return (upstream * _clamp_min_active(z))[:, None] * (slope_pos - share[:, None] * slope_neg)


_COSINE_SIMILARITY_EPS = 1e-8  # F.cosine_similarity's default eps


def _cosine_distance(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1 - F.cosine_similarity(a, b) per row, and its derivative in `a`. torch clamps the norms
    at 1e-8 in value only: its backward divides by the clamped norm and takes the norm's own
    derivative a / ||a|| (0 at a = 0), and so does this."""
    norm_a = np.sqrt((a * a).sum(axis=1))[:, None]
    norm_b = np.sqrt((b * b).sum(axis=1))[:, None]
    clamped_a = np.maximum(norm_a, _COSINE_SIMILARITY_EPS)
    unit_b = b / np.maximum(norm_b, _COSINE_SIMILARITY_EPS)
    along = (a * unit_b).sum(axis=1, keepdims=True)
    d_norm = np.where(norm_a == 0.0, 0.0, a / np.where(norm_a == 0.0, 1.0, norm_a))
    d_cos = unit_b / clamped_a - along / np.square(clamped_a) * d_norm
    return 1.0 - along[:, 0] / clamped_a[:, 0], -d_cos


def _named_distance(params: Params) -> Distance:
    """triplet_margin_with_distance_loss's distance_function: euclidean is F.pairwise_distance
    (p = 2, eps = 1e-6), cosine is 1 - F.cosine_similarity."""
    if params["distance"] == "cosine":
        return _cosine_distance
    return _p_distance({"p": 2.0, "eps": 1e-6})


# --- sequences ----------------------------------------------------------------------------------


def _ctc_parts(inputs: Arrays, params: Params):
    """y_pred as (n, T, C) log-probabilities, -log p per row (zero_infinity applied), the
    posterior, the input lengths and the target lengths."""
    log_probs = ctc_ops.frames(inputs["y_pred"], params["classes"], "torch.ctc_loss")
    n, steps, classes = log_probs.shape
    blank = params["blank"]
    if not 0 <= blank < classes:
        raise UsageError(f"torch.ctc_loss: blank {blank} is not a class in 0..{classes - 1}")
    width = inputs["y_true"].shape[1]
    given = ctc_ops.lengths(inputs.get("target_length"), params["target_length"], "target_length",
                            0, width, "torch.ctc_loss")
    targets, target_lengths = ctc_ops.labels(
        inputs["y_true"], classes, blank, None if given is None else np.broadcast_to(given, (n,))
    )
    frames = ctc_ops.lengths(inputs.get("input_length"), params["input_length"], "input_length",
                             1, steps, "torch.ctc_loss")
    input_lengths = np.full(n, steps) if frames is None else np.broadcast_to(frames, (n,))
    nll, posterior = ctc_ops.ctc(log_probs, targets, target_lengths, input_lengths, blank)
    if params["zero_infinity"]:
        infinite = np.isinf(nll)
        nll = np.where(infinite, 0.0, nll)
        posterior = np.where(infinite[:, None, None], np.exp(log_probs), posterior)
    return log_probs, nll, posterior, input_lengths, target_lengths


def ctc_loss_value(inputs: Arrays, params: Params) -> LossValues:
    """l_i = -log sum over alignments a of the targets: prod_t exp(x_t[a_t]).

    x = y_pred (n, T*C) log-probabilities, frame by frame (`classes` = C); targets y_true (n, S)
    padded with the blank; lengths from the input_length / target_length columns or parameters,
    else T frames and the labels before the padding. -> (n,). `mean` averages l_i / max(L_i, 1),
    L_i the target length, as torch does.
    """
    _, nll, _, _, target_lengths = _ctc_parts(inputs, params)
    return LossValues(nll, mean_scale=1.0 / np.maximum(target_lengths, 1))


def ctc_loss_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """torch's backward: exp(x_tc) - posterior(t, c) at frames t < input length, 0 after (it
    assumes x came out of a log_softmax); 0 for a row zero_infinity set to 0."""
    log_probs, _, posterior, input_lengths, _ = _ctc_parts(inputs, params)
    d = np.exp(log_probs) - posterior
    d = np.where((np.arange(log_probs.shape[1])[None, :] < input_lengths[:, None])[:, :, None], d, 0.0)
    return (upstream[:, None, None] * d).reshape(inputs["y_pred"].shape)


# --- registration -------------------------------------------------------------------------------

_IGNORE = Param("ignore_index", "int", -100, "class index whose rows are skipped")
_CLASS_WEIGHT = Param("weight", "floats", None, "one weight per class (y_pred column)")
_TRIPLET_INPUTS = (
    Input("y_true", "any", optional=True, help="not used"),
    _PRED,
    Input("positive", "like_pred", help="a sample like the anchor"),
    Input("negative", "like_pred", help="a sample unlike the anchor"),
)
_TRIPLET_MARGIN = Param("margin", "float", 1.0, "required gap between the two distances (> 0)")
_TRIPLET_SWAP = Param("swap", "bool", False, "use min(d(a, n), d(p, n)) as the negative distance")
_BCE_WEIGHT = Param(
    "weight", "floats", None, "rescaling broadcast over the rows: one number or one per column "
    "(instead of a weight column)"
)

register(
    Loss(
        name="l1_loss",
        family=TORCH,
        aliases=("L1Loss",),
        summary="Absolute error per element.",
        formula="l = w * |x - y|   (mean divides by sum(w) when weight is given)",
        inputs=(_TRUE, _PRED, _ELEMENT_WEIGHT),
        value=l1_value,
        grad=l1_grad,
        example={"y_true": [[1.0, 2.0], [0.0, -1.0]], "y_pred": [[1.5, 2.0], [-1.0, 1.0]]},
    )
)
register(
    Loss(
        name="mse_loss",
        family=TORCH,
        aliases=("MSELoss",),
        summary="Squared error per element.",
        formula="l = w * (x - y)^2   (mean divides by sum(w) when weight is given)",
        inputs=(_TRUE, _PRED, _ELEMENT_WEIGHT),
        value=mse_value,
        grad=mse_grad,
        example={"y_true": [[1.0, 2.0], [0.0, -1.0]], "y_pred": [[1.5, 2.0], [-1.0, 1.0]]},
    )
)
register(
    Loss(
        name="huber_loss",
        family=TORCH,
        aliases=("HuberLoss",),
        summary="Squared error near zero, delta-scaled absolute error beyond delta.",
        formula="l = w * (0.5 d^2 if |d| < delta else delta * (|d| - 0.5 delta)),  d = x - y",
        inputs=(_TRUE, _PRED, _ELEMENT_WEIGHT),
        value=huber_value,
        grad=huber_grad,
        params=(Param("delta", "float", 1.0, "where the loss turns from squared to linear"),),
        example={"y_true": [[0.0], [0.0], [1.0]], "y_pred": [[0.5], [-3.0], [1.0]]},
    )
)
register(
    Loss(
        name="smooth_l1_loss",
        family=TORCH,
        aliases=("SmoothL1Loss",),
        summary="Huber loss divided by beta: squared near zero, absolute error beyond beta.",
        formula="l = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta,  d = x - y",
        inputs=(_TRUE, _PRED),
        value=smooth_l1_value,
        grad=smooth_l1_grad,
        params=(Param("beta", "float", 1.0, "where the loss turns from squared to linear"),),
        example={"y_true": [[0.0], [0.0], [1.0]], "y_pred": [[0.5], [-3.0], [1.0]]},
    )
)
register(
    Loss(
        name="poisson_nll_loss",
        family=TORCH,
        aliases=("PoissonNLLLoss",),
        summary="Negative log-likelihood of counts y under a Poisson rate exp(x) (or x).",
        formula="l = exp(x) - y x  (log_input)  or  x - y log(x + eps);  full adds Stirling's term",
        inputs=(_TRUE, _PRED),
        value=poisson_nll_value,
        grad=poisson_nll_grad,
        params=(
            Param("log_input", "bool", True, "y_pred is the log of the rate"),
            Param("full", "bool", False, "add Stirling's approximation of log(y!) where y > 1"),
            Param("eps", "float", 1e-8, "added to the rate before the log when log_input=false"),
        ),
        example={"y_true": [[0.0], [2.0], [5.0]], "y_pred": [[-1.0], [0.5], [1.5]]},
    )
)
register(
    Loss(
        name="gaussian_nll_loss",
        family=TORCH,
        aliases=("GaussianNLLLoss",),
        summary="Negative log-likelihood of y under a normal of mean x and variance var.",
        formula="l = 0.5 (log v + (x - y)^2 / v) [+ 0.5 log(2 pi)],  v = max(var, eps)",
        inputs=(
            _TRUE,
            _PRED,
            Input(
                "var", "any", optional=True, help="variance: one column, or one per y_pred column"
            ),
        ),
        value=gaussian_nll_value,
        grad=gaussian_nll_grad,
        params=(
            Param(
                "var",
                "optional_float",
                None,
                "one variance for every element (instead of a column)",
            ),
            Param("full", "bool", False, "include the constant 0.5 log(2 pi)"),
            Param("eps", "float", 1e-6, "lower clamp of the variance"),
        ),
        example={"y_true": [[1.0], [2.0]], "y_pred": [[1.5], [0.0]], "var": [[0.5], [2.0]]},
    )
)
register(
    Loss(
        name="binary_cross_entropy",
        family=TORCH,
        aliases=("BCELoss",),
        summary="Binary cross entropy of probabilities, logs clamped at -100.",
        formula="l = -w * (y max(log x, -100) + (1 - y) max(log(1 - x), -100))",
        inputs=(_TRUE, _PRED, _ELEMENT_WEIGHT),
        value=bce_value,
        grad=bce_grad,
        params=(_BCE_WEIGHT,),
        output_activation="sigmoid",
        example={"y_true": [[1.0, 0.0], [0.0, 1.0]], "y_pred": [[0.9, 0.2], [0.3, 0.6]]},
    )
)
register(
    Loss(
        name="binary_cross_entropy_with_logits",
        family=TORCH,
        aliases=("BCEWithLogitsLoss",),
        summary="Binary cross entropy of logits, through a stable log-sigmoid.",
        formula="l = -w * (pos_weight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))",
        inputs=(_TRUE, _PRED, _ELEMENT_WEIGHT),
        value=bce_logits_value,
        grad=bce_logits_grad,
        params=(
            _BCE_WEIGHT,
            Param("pos_weight", "floats", None, "weight of positive targets, one per column"),
        ),
        example={"y_true": [[1.0, 0.0], [0.0, 1.0]], "y_pred": [[2.0, -1.0], [0.5, 0.0]]},
    )
)
register(
    Loss(
        name="soft_margin_loss",
        family=TORCH,
        aliases=("SoftMarginLoss",),
        summary="Logistic loss of scores against labels -1 / 1.",
        formula="l = log(1 + exp(-y x)),  y in {-1, 1}",
        inputs=(_TRUE, _PRED),
        value=soft_margin_value,
        grad=soft_margin_grad,
        signed_target=True,
        example={"y_true": [[1.0], [-1.0], [1.0]], "y_pred": [[2.0], [0.5], [-1.0]]},
    )
)
register(
    Loss(
        name="multilabel_soft_margin_loss",
        family=TORCH,
        aliases=("MultiLabelSoftMarginLoss",),
        summary="Binary cross entropy of logits averaged over the classes of each sample.",
        formula="l_i = -(1/C) sum_c w_c (y_c log sigmoid(x_c) + (1 - y_c) log sigmoid(-x_c))",
        inputs=(_TRUE, _PRED),
        value=multilabel_soft_margin_value,
        grad=multilabel_soft_margin_grad,
        params=(_CLASS_WEIGHT,),
        example={
            "y_true": [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
            "y_pred": [[2.0, -1.0, 0.0], [0.5, 1.0, -2.0]],
        },
    )
)
register(
    Loss(
        name="cross_entropy",
        family=TORCH,
        aliases=("CrossEntropyLoss",),
        summary="Softmax cross entropy of logits against class indices or class probabilities.",
        formula=(
            "l_i = (1 - e) (-w_t log softmax(x_i)_t) + (e / C) sum_c (-w_c log softmax(x_i)_c),  "
            "t = class index of row i, e = label_smoothing (0 for ignored rows); "
            "probability targets "
            "p: l_i = -sum_c w_c p'_c log softmax(x_i)_c,  p' = (1 - e) p + e / C"
        ),
        inputs=(
            Input("y_true", "any", help="class index (one column) or probabilities (like y_pred)"),
            _PRED,
        ),
        value=cross_entropy_value,
        grad=cross_entropy_grad,
        class_index_target=True,
        params=(
            _CLASS_WEIGHT,
            _IGNORE,
            Param("label_smoothing", "float", 0.0, "mix the target with the uniform distribution"),
        ),
        example={"y_true": [[2.0], [0.0]], "y_pred": [[0.1, 0.2, 2.0], [1.0, -1.0, 0.0]]},
    )
)
register(
    Loss(
        name="nll_loss",
        family=TORCH,
        aliases=("NLLLoss",),
        summary="Negative log-likelihood of class indices, given log-probabilities.",
        formula="l_i = -w_t x_i,t,  t = class index of row i (0 for ignored rows)",
        inputs=(Input("y_true", "one", help="class index"), _PRED),
        value=nll_value,
        grad=nll_grad,
        class_index_target=True,
        # y_pred must be log-probabilities (log_softmax); a linear output makes it unbounded below.
        trainable=False,
        params=(_CLASS_WEIGHT, _IGNORE),
        example={"y_true": [[2.0], [0.0]], "y_pred": [[-2.3, -1.6, -0.36], [-0.22, -2.3, -2.3]]},
    )
)
register(
    Loss(
        name="kl_div",
        family=TORCH,
        aliases=("KLDivLoss",),
        summary="Pointwise Kullback-Leibler divergence of y from exp(x), x in log-probabilities.",
        formula="l = y (log y - x),  or exp(y) (y - x) with log_target",
        inputs=(_TRUE, _PRED),
        value=kl_div_value,
        grad=kl_div_grad,
        trainable=False,  # y_pred must be log-probabilities (log_softmax)
        extra_reductions=("batchmean",),
        params=(Param("log_target", "bool", False, "y_true is given as log-probabilities"),),
        example={"y_true": [[0.2, 0.8], [0.5, 0.5]], "y_pred": [[-1.2, -0.36], [-0.1, -2.4]]},
    )
)
register(
    Loss(
        name="multi_margin_loss",
        family=TORCH,
        aliases=("MultiMarginLoss",),
        summary="Multi-class hinge loss of scores against a class index.",
        formula="l_i = (w_t / C) sum_{c != t} max(0, margin - x_t + x_c)^p,  t = class index",
        inputs=(Input("y_true", "one", help="class index"), _PRED),
        value=multi_margin_value,
        grad=multi_margin_grad,
        class_index_target=True,
        params=(
            Param("p", "int", 1, "power of each hinge term", choices=(1, 2)),
            Param("margin", "float", 1.0, "required gap between the true class and the others"),
            _CLASS_WEIGHT,
        ),
        example={"y_true": [[0.0], [2.0]], "y_pred": [[1.0, 0.5, -0.2], [0.3, 0.8, 0.1]]},
    )
)
register(
    Loss(
        name="multilabel_margin_loss",
        family=TORCH,
        aliases=("MultiLabelMarginLoss",),
        summary="Multi-label hinge loss: every target class should outscore every other by 1.",
        formula="l_i = (1/C) sum_{j in targets} sum_{d not in targets} max(0, 1 - (x_j - x_d))",
        inputs=(
            Input(
                "y_true", "like_pred", help="target class indices, padded with -1 after the last"
            ),
            _PRED,
        ),
        value=multilabel_margin_value,
        grad=multilabel_margin_grad,
        # y_true lists class indices padded with -1, a layout the trainer does not produce
        trainable=False,
        example={"y_true": [[3.0, 0.0, -1.0, 1.0]], "y_pred": [[0.1, 0.2, 0.4, 0.8]]},
    )
)
register(
    Loss(
        name="hinge_embedding_loss",
        family=TORCH,
        aliases=("HingeEmbeddingLoss",),
        summary="Distance x for similar pairs (y = 1), max(0, margin - x) for dissimilar (y = -1).",
        formula="l = x if y == 1;  max(0, margin - x) if y == -1",
        inputs=(Input("y_true", "any", help="+1 / -1 (one column, or like y_pred)"), _PRED),
        value=hinge_embedding_value,
        grad=hinge_embedding_grad,
        trainable=False,
        params=(
            Param("margin", "float", 1.0, "distance beyond which dissimilar pairs cost nothing"),
        ),
        example={"y_true": [[1.0], [-1.0], [-1.0]], "y_pred": [[0.3], [0.4], [1.5]]},
    )
)
register(
    Loss(
        name="margin_ranking_loss",
        family=TORCH,
        aliases=("MarginRankingLoss",),
        summary="Hinge on the ranking of two scores: y = 1 wants x1 > x2, y = -1 wants x2 > x1.",
        formula="l = max(0, -y (x1 - x2) + margin),  x1 = y_pred, x2 = input2",
        inputs=(
            Input("y_true", "any", help="+1 / -1 (one column, or like y_pred)"),
            _PRED,
            Input("input2", "like_pred", help="the second score (torch's input2)"),
        ),
        value=margin_ranking_value,
        grad=margin_ranking_grad,
        trainable=False,
        params=(Param("margin", "float", 0.0, "required gap between the two scores"),),
        example={"y_true": [[1.0], [-1.0]], "y_pred": [[0.8], [0.6]], "input2": [[0.3], [0.2]]},
    )
)
register(
    Loss(
        name="cosine_embedding_loss",
        family=TORCH,
        aliases=("CosineEmbeddingLoss",),
        summary="1 - cos(x1, x2) for similar pairs (y = 1), max(0, cos - margin) for dissimilar.",
        formula="l_i = 1 - cos(x1_i, x2_i) if y_i == 1;  max(0, cos(x1_i, x2_i) - margin) if -1",
        inputs=(
            Input("y_true", "one", help="+1 / -1"),
            _PRED,
            Input("input2", "like_pred", help="the second vector (torch's x2)"),
        ),
        value=cosine_embedding_value,
        grad=cosine_embedding_grad,
        trainable=False,
        params=(Param("margin", "float", 0.0, "cosine below which dissimilar pairs cost nothing"),),
        example={
            "y_true": [[1.0], [-1.0]],
            "y_pred": [[1.0, 0.0], [1.0, 1.0]],
            "input2": [[1.0, 1.0], [1.0, 0.5]],
        },
    )
)
register(
    Loss(
        name="triplet_margin_loss",
        family=TORCH,
        aliases=("TripletMarginLoss",),
        summary="The anchor should be nearer the positive than the negative by a margin.",
        formula="l_i = max(0, margin + ||a - p + eps||_p - ||a - n + eps||_p),  a = y_pred",
        inputs=_TRIPLET_INPUTS,
        value=triplet_value,
        grad=triplet_grad,
        trainable=False,
        params=(
            _TRIPLET_MARGIN,
            Param("p", "float", 2.0, "order of the norm (inf allowed)"),
            Param("eps", "float", 1e-6, "added to each difference before the norm"),
            _TRIPLET_SWAP,
        ),
        example={
            "y_pred": [[0.0, 0.0], [1.0, 1.0]],
            "positive": [[0.5, 0.0], [1.0, 0.0]],
            "negative": [[1.0, 1.0], [0.0, 3.0]],
        },
    )
)
register(
    Loss(
        name="ctc_loss",
        family=TORCH,
        aliases=("CTCLoss",),
        summary="Connectionist temporal classification: -log p(targets | frames of log-probabilities).",
        formula="l_i = -log sum over alignments a of the targets: prod_t exp(x_t[a_t])   "
        "(mean: mean of l_i / max(target_length_i, 1))",
        inputs=(
            Input("y_true", "any", help="target class indices, padded with the blank"),
            Input("y_pred", "any", help="T x C log-probabilities, frame by frame (column t*C + c)"),
            Input("input_length", "one", optional=True, help="frames to use, 1..T (default T)"),
            Input("target_length", "one", optional=True,
                  help="labels to use (default: those before the padding)"),
        ),
        value=ctc_loss_value,
        grad=ctc_loss_grad,
        trainable=False,
        params=(
            Param("classes", "optional_int", None, "C, the classes per frame (y_pred has T x C columns)"),
            Param("blank", "int", 0, "the blank class"),
            Param("zero_infinity", "bool", False, "a row no alignment fits scores 0, not inf"),
            Param("input_length", "optional_int", None, "frames for every row (instead of a column)"),
            Param("target_length", "optional_int", None, "labels for every row (instead of a column)"),
        ),
        example={
            "y_true": [[1.0, 2.0], [1.0, 0.0]],
            "y_pred": [[-0.9, -1.4, -1.1, -1.6, -0.4, -1.6, -1.1, -1.6, -0.6],
                       [-1.7, -0.2, -2.2, -0.6, -1.6, -1.6, -0.4, -1.7, -1.6]],
        },
        example_params={"classes": 3},
    )
)
register(
    Loss(
        name="triplet_margin_with_distance_loss",
        family=TORCH,
        aliases=("TripletMarginWithDistanceLoss",),
        summary="Triplet margin loss with a euclidean or cosine distance.",
        formula="l_i = max(0, margin + d(a, p) - d(a, n)),  a = y_pred;  d = ||u - v + 1e-6||_2 "
        "or 1 - cos(u, v)",
        inputs=_TRIPLET_INPUTS,
        value=triplet_value,
        grad=triplet_grad,
        trainable=False,
        params=(
            Param("distance", "str", "euclidean", "distance_function: F.pairwise_distance "
                  "(euclidean) or 1 - F.cosine_similarity (cosine)", choices=("euclidean", "cosine")),
            _TRIPLET_MARGIN,
            _TRIPLET_SWAP,
        ),
        example={
            "y_pred": [[0.0, 1.0], [1.0, 1.0]],
            "positive": [[0.5, 1.0], [1.0, 0.0]],
            "negative": [[1.0, 0.0], [-1.0, 3.0]],
        },
        example_params={"distance": "cosine"},
    )
)
