"""The Keras 3 losses (keras 3.15.1), as Keras computes them, with hand-written gradients.

Conventions shared by every loss here:

* Inputs are float64 arrays of shape (n, k), one row per sample. Keras reduces each sample over
  the last axis inside the loss (a mean for most, a sum for kl_divergence, cosine_similarity and
  the categorical crossentropies), so `value` returns shape (n,). Dice and Tversky with
  `axis=None` reduce over the whole batch and return a 0-d array; circle returns (n,) values that
  each depend on the whole batch. Those three are `batchwise`.
* Guards follow Keras exactly: probabilities are clipped to [eps, 1 - eps] with eps = 1e-7, and a
  clipped value passes no gradient (TensorFlow's `clip_by_value` passes it at the bounds
  themselves). `maximum(x, y)` sends its gradient to `x` on a tie, as TensorFlow does, and a max
  over an axis shares it equally between tied entries.
* `grad(inputs, params, upstream)` is the vector-Jacobian product d(reduced)/d(y_pred), given
  upstream = d(reduced)/d(values).

Keras's formulas are computed in float64 throughout, constants and parameters included: where
TensorFlow builds a constant or a parameter in float32 even under floatx float64 (log(2) in
log_cosh, eps in mean_squared_logarithmic_error, a list of alphas for categorical focal
crossentropy), that rounding is not part of the formula, so a perfect prediction's log_cosh is 0.
Where Keras's backends differ in the formula itself, lossctl follows TensorFlow, Keras's default
backend (sparse crossentropy clips before it renormalises; binary focal crossentropy from logits is
not clipped). Hinge maps labels to -1/+1 only when every label in the batch is 0 or 1, as Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lossctl.errors import UsageError
from lossctl.losses import ctc as ctc_ops
from lossctl.losses import numeric
from lossctl.losses.registry import Arrays, Family, Input, Loss, LossValues, Param, Params, register

KERAS = Family(
    name="keras",
    reductions=("none", "sum", "mean", "sum_over_batch_size", "mean_with_sample_weight"),
    convention="Keras: each row's loss is averaged over its columns, then reduced over rows",
    sample_weights=True,
    denom_masks=True,
    empty=0.0,  # Keras divides with divide_no_nan
)

EPS = 1e-7  # keras.backend.epsilon()
_LOG2 = float(np.log(2.0))
_INV_EPS = 1.0 / EPS  # normalize(): inverse norms are capped at 1 / epsilon

Y_TRUE = Input("y_true", width="like_pred", help="targets, one column per output")
Y_PRED = Input("y_pred", help="predictions, one column per output")
Y_CLASS = Input("y_true", width="one", help="class index of each row (0 .. k-1)")
Y_PROBS = Input("y_pred", help="predicted probabilities (or logits), one column per class")


# --- shared helpers -----------------------------------------------------------------------------


def _check_axis(params: Params, *, allow_none: bool = False) -> int | None:
    """The loss's `axis`, which for (n, k) data may be -1/1 (per sample) or None (whole batch)."""
    axis = params.get("axis", -1)
    if axis is None and allow_none:
        return None
    if axis in (-1, 1):
        return 1
    valid = "-1, 1 or none" if allow_none else "-1 or 1"
    raise UsageError(
        f"parameter axis: {axis!r} does not fit rows of samples (valid: {valid}; "
        "Keras reduces each sample over its last axis)"
    )


def _mean_last(x: np.ndarray) -> np.ndarray:
    return x.mean(axis=-1)


def _spread(upstream: np.ndarray, d: np.ndarray, *, mean: bool = True) -> np.ndarray:
    """Chain a per-sample upstream (n,) through per-element derivatives d (n, k)."""
    scale = upstream[:, None] / d.shape[-1] if mean else upstream[:, None]
    return scale * d


def _clip_probs(p: np.ndarray, high: float = 1.0 - EPS) -> tuple[np.ndarray, np.ndarray]:
    """Keras's clip to [eps, high], and where the clip lets the gradient through (where it left
    the value as it was; NaN passes nothing)."""
    c = np.clip(p, EPS, high)
    return c, c == p


def _smooth_binary(t: np.ndarray, params: Params) -> np.ndarray:
    ls = params.get("label_smoothing", 0.0)
    return t * (1.0 - ls) + 0.5 * ls if ls else t


def _smooth_categorical(t: np.ndarray, params: Params) -> np.ndarray:
    ls = params.get("label_smoothing", 0.0)
    return t * (1.0 - ls) + ls / t.shape[-1] if ls else t


def _sigmoid_and_slope(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = numeric.sigmoid(x)
    return s, s * (1.0 - s)


def _softmax_vjp(s: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Given softmax outputs s and d/ds = w (both (n, k)), return d/dlogits."""
    return s * (w - (w * s).sum(axis=-1, keepdims=True))


def _normalise_vjp(p: np.ndarray, o: np.ndarray, u: np.ndarray) -> np.ndarray:
    """o = p / sum(p) along the last axis; given d/do = u, return d/dp."""
    total = p.sum(axis=-1, keepdims=True)
    return (u - (u * o).sum(axis=-1, keepdims=True)) / total


# --- regression ---------------------------------------------------------------------------------


def mean_squared_error(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean((y_true - y_pred)**2, axis=-1); y_true, y_pred (n, k) -> (n,)."""
    return LossValues(_mean_last(np.square(inputs["y_true"] - inputs["y_pred"])))


def _mse_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    return _spread(upstream, 2.0 * (inputs["y_pred"] - inputs["y_true"]))


def mean_absolute_error(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean(|y_true - y_pred|, axis=-1); y_true, y_pred (n, k) -> (n,)."""
    return LossValues(_mean_last(np.abs(inputs["y_true"] - inputs["y_pred"])))


def _mae_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    return _spread(upstream, -np.sign(inputs["y_true"] - inputs["y_pred"]))


def mean_absolute_percentage_error(inputs: Arrays, params: Params) -> LossValues:
    """loss = 100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1); (n, k) -> (n,).

    A y_true of 0 divides by eps = 1e-7 (a huge but finite value), as in Keras.
    """
    t, p = inputs["y_true"], inputs["y_pred"]
    return LossValues(100.0 * _mean_last(np.abs((t - p) / np.maximum(np.abs(t), EPS))))


def _mape_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    t, p = inputs["y_true"], inputs["y_pred"]
    denom = np.maximum(np.abs(t), EPS)
    return _spread(upstream, 100.0 * -np.sign((t - p) / denom) / denom)


def mean_squared_logarithmic_error(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2, axis=-1).

    Values below eps (including negatives) are floored at eps, so they pass no gradient.
    (n, k) -> (n,).
    """
    t, p = inputs["y_true"], inputs["y_pred"]
    first = np.log(np.maximum(p, EPS) + 1.0)
    second = np.log(np.maximum(t, EPS) + 1.0)
    return LossValues(_mean_last(np.square(first - second)))


def _msle_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    t, p = inputs["y_true"], inputs["y_pred"]
    floored = np.maximum(p, EPS)
    diff = np.log(floored + 1.0) - np.log(np.maximum(t, EPS) + 1.0)
    return _spread(upstream, np.where(p >= EPS, 2.0 * diff / (floored + 1.0), 0.0))


def _l2_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keras normalize(): the factor min(1/||x||, 1/eps) per row, and whether 1/||x|| was used."""
    with np.errstate(divide="ignore"):
        inv = 1.0 / np.sqrt(np.square(x).sum(axis=-1, keepdims=True))
    used = inv <= _INV_EPS
    return np.where(used, inv, _INV_EPS), used


def cosine_similarity(inputs: Arrays, params: Params) -> LossValues:
    """loss = -sum(l2_normalize(y_true) * l2_normalize(y_pred), axis=-1); (n, k) -> (n,).

    l2_normalize(x) = x * min(1 / ||x||, 1 / eps), so an all-zero row gives 0 (not nan).
    """
    _check_axis(params)
    t, p = inputs["y_true"], inputs["y_pred"]
    return LossValues(-(t * _l2_scale(t)[0] * (p * _l2_scale(p)[0])).sum(axis=-1))


def _cosine_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    _check_axis(params)
    t, p = inputs["y_true"], inputs["y_pred"]
    tn = t * _l2_scale(t)[0]
    scale, used = _l2_scale(p)
    along = (tn * p).sum(axis=-1, keepdims=True)
    # d(p * scale)/dp, where scale = ||p||^-1 when used (else the constant 1/eps).
    d = -tn * scale + np.where(used, along * scale**3 * p, 0.0)
    return upstream[:, None] * d


def huber(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean(0.5 * e**2 if |e| <= delta else delta * |e| - 0.5 * delta**2, axis=-1).

    e = y_pred - y_true; y_true, y_pred (n, k) -> (n,).
    """
    delta = params["delta"]
    e = inputs["y_pred"] - inputs["y_true"]
    a = np.abs(e)
    return LossValues(_mean_last(np.where(a <= delta, 0.5 * np.square(e), delta * a - 0.5 * delta**2)))


def _huber_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    delta = params["delta"]
    e = inputs["y_pred"] - inputs["y_true"]
    return _spread(upstream, np.where(np.abs(e) <= delta, e, delta * np.sign(e)))


def log_cosh(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean(log(cosh(e)), axis=-1), e = y_pred - y_true; (n, k) -> (n,).

    Computed as e + softplus(-2e) - log(2), which does not overflow for large |e|; 0 at e = 0.
    """
    e = inputs["y_pred"] - inputs["y_true"]
    return LossValues(_mean_last(e + numeric.softplus(-2.0 * e) - _LOG2))


def _log_cosh_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    e = inputs["y_pred"] - inputs["y_true"]
    return _spread(upstream, 1.0 - 2.0 * numeric.sigmoid(-2.0 * e))


# --- margins ------------------------------------------------------------------------------------


def _hinge_labels(t: np.ndarray) -> np.ndarray:
    """Keras maps labels to -1/+1 as 2t - 1, but only when every label of the batch is 0 or 1."""
    return 2.0 * t - 1.0 if np.all((t == 0.0) | (t == 1.0)) else t


def hinge(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean(max(1 - y_true * y_pred, 0), axis=-1); (n, k) -> (n,).

    y_true is -1/+1; 0/1 labels are mapped to -1/+1 when all labels are 0 or 1.
    """
    t = _hinge_labels(inputs["y_true"])
    return LossValues(_mean_last(np.maximum(1.0 - t * inputs["y_pred"], 0.0)))


def _hinge_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    t = _hinge_labels(inputs["y_true"])
    return _spread(upstream, np.where(1.0 - t * inputs["y_pred"] >= 0.0, -t, 0.0))


def squared_hinge(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean(max(1 - y_true * y_pred, 0)**2, axis=-1); (n, k) -> (n,), labels as in hinge."""
    t = _hinge_labels(inputs["y_true"])
    return LossValues(_mean_last(np.square(np.maximum(1.0 - t * inputs["y_pred"], 0.0))))


def _squared_hinge_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    t = _hinge_labels(inputs["y_true"])
    margin = np.maximum(1.0 - t * inputs["y_pred"], 0.0)
    return _spread(upstream, -2.0 * margin * t)


def categorical_hinge(inputs: Arrays, params: Params) -> LossValues:
    """loss = max(neg - pos + 1, 0), pos = sum(y_true * y_pred), neg = max((1 - y_true) * y_pred).

    y_true one-hot, y_pred scores, both (n, k) -> (n,).
    """
    t, p = inputs["y_true"], inputs["y_pred"]
    pos = (t * p).sum(axis=-1)
    neg = ((1.0 - t) * p).max(axis=-1)
    return LossValues(np.maximum(neg - pos + 1.0, 0.0))


def _categorical_hinge_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    t, p = inputs["y_true"], inputs["y_pred"]
    others = (1.0 - t) * p
    neg = others.max(axis=-1, keepdims=True)
    ties = others == neg
    d_neg = (1.0 - t) * ties / ties.sum(axis=-1, keepdims=True).astype(p.dtype)
    active = (neg[:, 0] - (t * p).sum(axis=-1) + 1.0) >= 0.0
    return np.where(active, upstream, 0.0)[:, None] * (d_neg - t)


# --- distributions and counts -------------------------------------------------------------------


def kl_divergence(inputs: Arrays, params: Params) -> LossValues:
    """loss = sum(y_true * log(y_true / y_pred), axis=-1), both clipped to [eps, 1]; (n, k) -> (n,)."""
    t = np.clip(inputs["y_true"], EPS, 1.0)
    p = np.clip(inputs["y_pred"], EPS, 1.0)
    return LossValues((t * np.log(t / p)).sum(axis=-1))


def _kl_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    t = np.clip(inputs["y_true"], EPS, 1.0)
    p, passes = _clip_probs(inputs["y_pred"], 1.0)
    return upstream[:, None] * np.where(passes, -t / p, 0.0)


def poisson(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean(y_pred - y_true * log(y_pred + eps), axis=-1); (n, k) -> (n,)."""
    t, p = inputs["y_true"], inputs["y_pred"]
    return LossValues(_mean_last(p - t * np.log(p + EPS)))


def _poisson_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    t, p = inputs["y_true"], inputs["y_pred"]
    return _spread(upstream, 1.0 - t / (p + EPS))


# --- crossentropies -----------------------------------------------------------------------------


def _bce_elements(t: np.ndarray, p: np.ndarray, from_logits: bool) -> np.ndarray:
    if from_logits:
        return np.maximum(p, 0.0) - p * t + np.log1p(np.exp(-np.abs(p)))
    pc, _ = _clip_probs(p)
    return -(t * np.log(pc) + (1.0 - t) * np.log(1.0 - pc))


def _bce_slope(t: np.ndarray, p: np.ndarray, from_logits: bool) -> np.ndarray:
    """d(elementwise bce)/d(y_pred)."""
    if from_logits:  # sigmoid(x) - t, without cancellation for large |x|
        e = np.exp(-np.abs(p))
        return np.where(p >= 0.0, (1.0 - t) - e / (1.0 + e), e / (1.0 + e) - t)
    pc, passes = _clip_probs(p)
    return np.where(passes, -(t / pc - (1.0 - t) / (1.0 - pc)), 0.0)


def binary_crossentropy(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean(-(t * log(p) + (1 - t) * log(1 - p)), axis=-1); (n, k) -> (n,).

    p is y_pred clipped to [eps, 1 - eps], or sigmoid(y_pred) computed stably with from_logits;
    t = y_true * (1 - label_smoothing) + 0.5 * label_smoothing.
    """
    _check_axis(params)
    t = _smooth_binary(inputs["y_true"], params)
    return LossValues(_mean_last(_bce_elements(t, inputs["y_pred"], params["from_logits"])))


def _bce_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    _check_axis(params)
    t = _smooth_binary(inputs["y_true"], params)
    return _spread(upstream, _bce_slope(t, inputs["y_pred"], params["from_logits"]))


def binary_focal_crossentropy(inputs: Arrays, params: Params) -> LossValues:
    """loss = mean(w * (1 - p_t)**gamma * bce(t, p), axis=-1); (n, k) -> (n,).

    p = y_pred (or sigmoid(y_pred) with from_logits), p_t = t * p + (1 - t) * (1 - p) with the
    unclipped p, bce with p clipped to [eps, 1 - eps]; w = t * alpha + (1 - t) * (1 - alpha) when
    apply_class_balancing, else 1. t is y_true after label smoothing.
    """
    _check_axis(params)
    t = _smooth_binary(inputs["y_true"], params)
    x = inputs["y_pred"]
    p = numeric.sigmoid(x) if params["from_logits"] else x
    p_t = t * p + (1.0 - t) * (1.0 - p)
    focal = np.power(1.0 - p_t, params["gamma"]) * _focal_bce(t, x, p, params)
    return LossValues(_mean_last(_class_balance(t, params) * focal))


def _focal_bce(t: np.ndarray, x: np.ndarray, p: np.ndarray, params: Params) -> np.ndarray:
    """The crossentropy inside binary focal: from the logits themselves with from_logits (on
    TensorFlow, Keras's sigmoid output remembers its logits and the crossentropy uses them, so
    nothing is clipped), else from the probabilities clipped to [eps, 1 - eps]."""
    return _bce_elements(t, x, True) if params["from_logits"] else _bce_elements(t, p, False)


def _class_balance(t: np.ndarray, params: Params) -> np.ndarray | float:
    if not params["apply_class_balancing"]:
        return 1.0
    alpha = params["alpha"]
    return t * alpha + (1.0 - t) * (1.0 - alpha)


def _binary_focal_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    _check_axis(params)
    t = _smooth_binary(inputs["y_true"], params)
    x = inputs["y_pred"]
    logits = params["from_logits"]
    p, slope = _sigmoid_and_slope(x) if logits else (x, 1.0)
    gamma = params["gamma"]
    rest = 1.0 - (t * p + (1.0 - t) * (1.0 - p))
    d_factor = -(gamma * np.power(rest, gamma - 1.0)) * (2.0 * t - 1.0) * slope
    d_bce = _bce_slope(t, x, True) if logits else _bce_slope(t, p, False)
    d = d_factor * _focal_bce(t, x, p, params) + np.power(rest, gamma) * d_bce
    return _spread(upstream, _class_balance(t, params) * d)


def _cce_probs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keras's renormalised, clipped probabilities: o = p / sum(p), clip(o); and the clip mask."""
    o = p / p.sum(axis=-1, keepdims=True)
    oc, passes = _clip_probs(o)
    return o, oc, passes


def categorical_crossentropy(inputs: Arrays, params: Params) -> LossValues:
    """loss = -sum(t * log(p), axis=-1); y_true, y_pred (n, k) -> (n,).

    p = clip(y_pred / sum(y_pred), eps, 1 - eps) (Keras renormalises each row), or
    softmax(y_pred) through a stable log-softmax with from_logits;
    t = y_true * (1 - label_smoothing) + label_smoothing / k.
    """
    _check_axis(params)
    t = _smooth_categorical(inputs["y_true"], params)
    p = inputs["y_pred"]
    if params["from_logits"]:
        return LossValues(-(t * numeric.log_softmax(p)).sum(axis=-1))
    return LossValues(-(t * np.log(_cce_probs(p)[1])).sum(axis=-1))


def _cce_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    _check_axis(params)
    t = _smooth_categorical(inputs["y_true"], params)
    p = inputs["y_pred"]
    if params["from_logits"]:
        d = numeric.softmax(p) * t.sum(axis=-1, keepdims=True) - t
    else:
        o, oc, passes = _cce_probs(p)
        d = _normalise_vjp(p, o, np.where(passes, -t / oc, 0.0))
    return upstream[:, None] * d


def categorical_focal_crossentropy(inputs: Arrays, params: Params) -> LossValues:
    """loss = sum(alpha * (1 - p)**gamma * -t * log(p), axis=-1); (n, k) -> (n,).

    p = clip(q / sum(q), eps, 1 - eps) with q = y_pred, or softmax(y_pred) with from_logits;
    t is y_true after label smoothing; alpha is one number or one per class.
    """
    _check_axis(params)
    t = _smooth_categorical(inputs["y_true"], params)
    alpha = _focal_alpha(params, t.shape[-1])
    q = numeric.softmax(inputs["y_pred"]) if params["from_logits"] else inputs["y_pred"]
    _, pc, _ = _cce_probs(q)
    focal = np.power(1.0 - pc, params["gamma"]) * alpha * (-t * np.log(pc))
    return LossValues(focal.sum(axis=-1))


def _focal_alpha(params: Params, k: int) -> np.ndarray:
    alpha = np.atleast_1d(np.asarray(params["alpha"], dtype=np.float64))
    if alpha.size not in (1, k):
        raise UsageError(f"parameter alpha: give one number or one per class ({k}), not {alpha.size}")
    return alpha


def _categorical_focal_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    _check_axis(params)
    t = _smooth_categorical(inputs["y_true"], params)
    alpha = _focal_alpha(params, t.shape[-1])
    gamma = params["gamma"]
    x = inputs["y_pred"]
    q = numeric.softmax(x) if params["from_logits"] else x
    o, pc, passes = _cce_probs(q)
    d_pc = alpha * (
        -(gamma * np.power(1.0 - pc, gamma - 1.0)) * (-t * np.log(pc))
        + np.power(1.0 - pc, gamma) * (-t / pc)
    )
    d_q = _normalise_vjp(q, o, np.where(passes, d_pc, 0.0))
    d = _softmax_vjp(q, d_q) if params["from_logits"] else d_q
    return upstream[:, None] * d


def _sparse_parts(inputs: Arrays, params: Params) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Validated labels (ignored rows set to 0), the kept-row mask (None: every row) and y_pred
    (ignored rows 0)."""
    _check_axis(params)
    p = inputs["y_pred"]
    ignore = params["ignore_class"]
    labels = numeric.class_indices(inputs["y_true"], p.shape[-1], ignore=ignore)
    if ignore is None:
        return labels, None, p
    keep = labels != ignore
    return np.where(keep, labels, 0), keep, np.where(keep[:, None], p, 0.0)


def sparse_categorical_crossentropy(inputs: Arrays, params: Params) -> LossValues:
    """loss = -log(p[y]) with p = softmax(y_pred) (from_logits) or, from probabilities,
    p = c / sum(c), c = clip(y_pred, eps, 1 - eps) (Keras renormalises after the clip).

    y_true (n, 1) class indices, y_pred (n, k) -> (n,). Rows whose label is ignore_class score 0
    and are left out of Keras's mean (their `denom` is 0).
    """
    labels, keep, p = _sparse_parts(inputs, params)
    if params["from_logits"]:
        values = numeric.neg_log_softmax_at(p, labels)
    else:  # TF's order of operations: log of the clipped probabilities, then a softmax crossentropy
        logits = np.log(np.clip(p, EPS, 1.0 - EPS))
        values = numeric.neg_log_softmax_at(logits, labels, scratch=True)
    if keep is None:
        return LossValues(values)
    return LossValues(np.where(keep, values, 0.0), denom=keep.astype(np.float64))


def _sparse_cce_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """softmax(x) - onehot(y) from logits; from probabilities 1/sum(c) - onehot(y)/c where the clip
    lets the gradient through, else 0. The one-hot term is subtracted at the labels only."""
    labels, keep, p = _sparse_parts(inputs, params)
    rows = np.arange(labels.shape[0])
    if params["from_logits"]:
        d = numeric.softmax(p)
        d[rows, labels] -= 1.0
    else:
        c, passes = _clip_probs(p)
        d = np.empty_like(c)
        d[...] = 1.0 / c.sum(axis=-1, keepdims=True)
        d[rows, labels] -= 1.0 / c[rows, labels]
        d = np.where(passes, d, 0.0)
    return (upstream if keep is None else np.where(keep, upstream, 0.0))[:, None] * d


def _sparse_cce_value_and_grad(inputs: Arrays, params: Params) -> tuple[LossValues, np.ndarray]:
    """Values and per-row derivatives: from logits with every row kept, one pass (the softmax
    computed once); else `value`, then `grad` with an upstream of ones."""
    if not params["from_logits"] or params["ignore_class"] is not None:
        lv = sparse_categorical_crossentropy(inputs, params)
        return lv, _sparse_cce_grad(inputs, params, np.ones_like(lv.values))
    labels, _, x = _sparse_parts(inputs, params)
    values, d = numeric.softmax_crossentropy(x, labels)
    return LossValues(values), d


def _gce_parts(inputs: Arrays, params: Params) -> tuple[np.ndarray, np.ndarray, float]:
    q = params["q"]
    if not 0.0 < q < 1.0:
        raise UsageError(f"parameter q: {q!r} must lie strictly between 0 and 1")
    p = inputs["y_pred"]
    onehot = np.eye(p.shape[-1], dtype=p.dtype)[numeric.class_indices(inputs["y_true"], p.shape[-1])]
    return onehot, (p * onehot).sum(axis=-1), q


def categorical_generalized_cross_entropy(inputs: Arrays, params: Params) -> LossValues:
    """loss = (1 - p[y]**q) / q; y_true (n, 1) class indices, y_pred (n, k) probabilities -> (n,)."""
    _, picked, q = _gce_parts(inputs, params)
    return LossValues((1.0 - np.power(picked, q)) / q)


def _gce_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    onehot, picked, q = _gce_parts(inputs, params)
    return (upstream * -np.power(picked, q - 1.0))[:, None] * onehot


# --- overlap (segmentation) ---------------------------------------------------------------------


def _sums(x: np.ndarray, axis: int | None) -> np.ndarray:
    return x.sum() if axis is None else x.sum(axis=axis)


def _keep(x: np.ndarray, axis: int | None) -> np.ndarray:
    """Broadcast a per-row (n,) or whole-batch () quantity against (n, k)."""
    return x if axis is None else x[:, None]


def dice(inputs: Arrays, params: Params) -> LossValues:
    """loss = 1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps).

    The sums run over the whole batch with axis=None (a 0-d result) or over each row with axis=1
    ((n,) result); y_true, y_pred (n, k).
    """
    axis = _check_axis(params, allow_none=True)
    t, p = inputs["y_true"], inputs["y_pred"]
    overlap = _sums(t * p, axis)
    return LossValues(np.asarray(1.0 - 2.0 * overlap / (_sums(t, axis) + _sums(p, axis) + EPS)))


def _dice_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    axis = _check_axis(params, allow_none=True)
    t, p = inputs["y_true"], inputs["y_pred"]
    overlap = _keep(_sums(t * p, axis), axis)
    total = _keep(_sums(t, axis) + _sums(p, axis) + EPS, axis)
    d = -(2.0 * t / total - 2.0 * overlap / np.square(total))
    return _keep(np.asarray(upstream), axis) * d


def tversky(inputs: Arrays, params: Params) -> LossValues:
    """loss = 1 - I / (I + alpha * sum(y_true * (1 - y_pred)) + beta * sum((1 - y_true) * y_pred) + eps).

    I = sum(y_true * y_pred); sums over the batch (axis=None, 0-d result) or each row (axis=1,
    (n,) result). Note Keras's alpha weighs sum(y_true * (1 - y_pred)), the missed positives.
    """
    axis = _check_axis(params, allow_none=True)
    t, p = inputs["y_true"], inputs["y_pred"]
    overlap = _sums(t * p, axis)
    denom = _tversky_denominator(t, p, params, axis, overlap)
    return LossValues(np.asarray(1.0 - overlap / denom))


def _tversky_denominator(t, p, params, axis, overlap):  # type: ignore[no-untyped-def]
    missed = _sums((1.0 - p) * t, axis)
    extra = _sums(p * (1.0 - t), axis)
    return overlap + missed * params["alpha"] + extra * params["beta"] + EPS


def _tversky_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    axis = _check_axis(params, allow_none=True)
    t, p = inputs["y_true"], inputs["y_pred"]
    overlap = _sums(t * p, axis)
    denom = _keep(_tversky_denominator(t, p, params, axis, overlap), axis)
    d_denom = t - params["alpha"] * t + params["beta"] * (1.0 - t)
    d = -(t * denom - _keep(overlap, axis) * d_denom) / np.square(denom)
    return _keep(np.asarray(upstream), axis) * d


# --- metric learning ----------------------------------------------------------------------------


def _circle_parts(inputs: Arrays, params: Params) -> dict[str, Any]:
    p = inputs["y_pred"]
    labels = numeric.class_indices(inputs["y_true"], 2**31)
    n = labels.shape[0]
    same = labels[:, None] == labels[None, :]
    pos = same & ~np.eye(n, dtype=bool) if params["remove_diagonal"] else same
    neg = ~same
    gamma, m = params["gamma"], params["margin"]
    raw = 1.0 - p @ p.T
    dist = np.maximum(raw, 0.0)
    pos_w_raw = (m + dist) * pos
    neg_w_raw = ((1.0 + m) - dist) * neg
    pos_w, neg_w = np.maximum(pos_w_raw, 0.0), np.maximum(neg_w_raw, 0.0)
    a = np.where(pos, -gamma * pos_w * (m - dist), -np.inf)
    b = np.where(neg, gamma * neg_w * ((1.0 - m) - dist), -np.inf)
    return {
        "raw": raw, "dist": dist, "pos": pos, "neg": neg, "gamma": gamma, "m": m,
        "pos_w": pos_w, "neg_w": neg_w, "pos_w_raw": pos_w_raw, "neg_w_raw": neg_w_raw,
        "a": a, "b": b, "lse_a": _logsumexp(a), "lse_b": _logsumexp(b),
    }


def _logsumexp(x: np.ndarray) -> np.ndarray:
    """logsumexp over axis 1, -inf for a row of -inf (as tf.reduce_logsumexp)."""
    top = x.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.log(np.exp(x - top).sum(axis=1)) + top[:, 0]


def circle(inputs: Arrays, params: Params) -> LossValues:
    """loss_i = softplus(logsumexp_{j pos} a_ij + logsumexp_{j neg} b_ij); (n, k) -> (n,).

    d_ij = max(1 - y_pred_i . y_pred_j, 0) (y_pred rows are expected L2-normalised);
    a_ij = -gamma * max(margin + d_ij, 0) * (margin - d_ij) over pairs of the same label
    (j != i with remove_diagonal), b_ij = gamma * max(1 + margin - d_ij, 0) * (1 - margin - d_ij)
    over pairs of different labels. y_true (n, 1) integer labels. Each value depends on the
    whole batch. A row with no positive or no negative pair scores 0 and Keras leaves it out of
    the mean (its `denom` is 0).
    """
    parts = _circle_parts(inputs, params)
    values = numeric.softplus(parts["lse_a"] + parts["lse_b"])
    return LossValues(values, denom=(values > 0.0).astype(np.float64))


def _circle_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    c = _circle_parts(inputs, params)
    p, gamma, m, dist = inputs["y_pred"], c["gamma"], c["m"], c["dist"]
    total = c["lse_a"] + c["lse_b"]
    row = np.where(np.isfinite(total), upstream * numeric.sigmoid(total), 0.0)[:, None]
    lse_a = np.where(np.isfinite(c["lse_a"]), c["lse_a"], 0.0)[:, None]
    lse_b = np.where(np.isfinite(c["lse_b"]), c["lse_b"], 0.0)[:, None]
    soft_a = np.where(c["pos"], np.exp(c["a"] - lse_a), 0.0)
    soft_b = np.where(c["neg"], np.exp(c["b"] - lse_b), 0.0)
    # d a / d dist and d b / d dist, through the clamped weights.
    d_pos_w = np.where(c["pos_w_raw"] >= 0.0, c["pos"], 0.0)
    d_neg_w = np.where(c["neg_w_raw"] >= 0.0, -1.0 * c["neg"], 0.0)
    da = -gamma * (d_pos_w * (m - dist) - c["pos_w"])
    db = gamma * (d_neg_w * ((1.0 - m) - dist) - c["neg_w"])
    d_dist = row * (soft_a * da + soft_b * db)
    d_sim = -np.where(c["raw"] >= 0.0, d_dist, 0.0)
    return (d_sim + d_sim.T) @ p


# --- sequences ----------------------------------------------------------------------------------


def _ctc_parts(inputs: Arrays, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """y_pred as (n, T, C) logits and each row's -log p and posterior (see ctc.py)."""
    logits = ctc_ops.frames(inputs["y_pred"], params["classes"], "keras.ctc")
    n, steps, classes = logits.shape
    targets, lengths = ctc_ops.labels(inputs["y_true"], classes, 0, None)
    nll, posterior = ctc_ops.ctc(
        numeric.log_softmax(logits), targets, lengths, np.full(n, steps), blank=0
    )
    return nll, posterior


def ctc(inputs: Arrays, params: Params) -> LossValues:
    """loss = -log p(y_true | softmax(y_pred)), summed over every alignment of the labels.

    y_pred (n, T*C): T frames of C logits each, frame by frame (`classes` = C); y_true (n, S):
    class indices 1..C-1 padded with the blank 0 after the last label. Every row uses all T
    frames (Keras's input_length); its labels are its non-blank entries. -> (n,).
    """
    return LossValues(_ctc_parts(inputs, params)[0])


def _ctc_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d loss / d logits = softmax(logits) - posterior(frame, class)."""
    logits = ctc_ops.frames(inputs["y_pred"], params["classes"], "keras.ctc")
    _, posterior = _ctc_parts(inputs, params)
    d = numeric.softmax(logits) - posterior
    return (upstream[:, None, None] * d).reshape(inputs["y_pred"].shape)


# --- the registry records -----------------------------------------------------------------------

_FROM_LOGITS = Param("from_logits", "bool", False, "y_pred holds logits, not probabilities")
_AXIS = Param("axis", "int", -1, "axis the loss reduces over (-1 or 1: each sample's columns)")
_AXIS_NONE = Param(
    "axis", "optional_int", None, "none: sums over the whole batch; 1 (or -1): over each row"
)
_SMOOTHING = Param("label_smoothing", "float", 0.0, "squeeze targets towards uniform, in [0, 1]")

_BINARY_EXAMPLE = {"y_true": [[0.0, 1.0], [0.0, 0.0]], "y_pred": [[0.6, 0.4], [0.4, 0.6]]}
_ONEHOT_EXAMPLE = {"y_true": [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
                   "y_pred": [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]}
_SPARSE_EXAMPLE = {"y_true": [[1.0], [2.0]], "y_pred": [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]}
_REGRESSION_EXAMPLE = {"y_true": [[0.0, 1.0], [0.0, 0.0]], "y_pred": [[1.0, 1.0], [1.0, 0.0]]}


def _keras(
    value, grad, summary: str, formula: str, aliases: tuple[str, ...], inputs=(Y_TRUE, Y_PRED),
    example: dict | None = None, **extra: Any,
) -> Loss:  # type: ignore[no-untyped-def]
    return register(Loss(
        name=value.__name__, family=KERAS, summary=summary, formula=formula, inputs=inputs,
        value=value, grad=grad, aliases=aliases, example=example or _REGRESSION_EXAMPLE, **extra,
    ))


_keras(
    mean_squared_error, _mse_grad, "mean of squared errors per sample",
    "mean((y_true - y_pred)^2)", ("mse", "MeanSquaredError"),
)
_keras(
    mean_absolute_error, _mae_grad, "mean of absolute errors per sample",
    "mean(|y_true - y_pred|)", ("mae", "MeanAbsoluteError"),
)
_keras(
    mean_absolute_percentage_error, _mape_grad, "mean absolute error relative to |y_true|, in %",
    "100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))",
    ("mape", "MeanAbsolutePercentageError"),
    example={"y_true": [[2.0, 4.0], [1.0, 0.5]], "y_pred": [[1.0, 5.0], [1.0, 1.0]]},
)
_keras(
    mean_squared_logarithmic_error, _msle_grad, "mean squared error of log(1 + x)",
    "mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2)",
    ("msle", "MeanSquaredLogarithmicError"),
)
_keras(
    cosine_similarity, _cosine_grad, "negative cosine of the angle between target and prediction",
    "-sum(y_true / ||y_true|| * y_pred / ||y_pred||)", ("CosineSimilarity", "cosine_proximity"),
    params=(_AXIS,),
    example={"y_true": [[0.0, 1.0], [1.0, 1.0]], "y_pred": [[1.0, 0.0], [1.0, 1.0]]},
)
_keras(
    huber, _huber_grad, "squared error near zero, absolute error beyond delta",
    "mean(0.5 e^2 if |e| <= delta else delta |e| - 0.5 delta^2), e = y_pred - y_true",
    ("Huber",), params=(Param("delta", "float", 1.0, "where the loss turns from quadratic to linear"),),
    example={"y_true": [[0.0, 1.0], [0.0, 0.0]], "y_pred": [[0.6, 0.4], [0.4, 2.6]]},
)
_keras(
    log_cosh, _log_cosh_grad, "log of the hyperbolic cosine of the error",
    "mean(log(cosh(y_pred - y_true)))", ("LogCosh", "logcosh"),
)
_keras(
    hinge, _hinge_grad, "margin loss for -1/+1 labels (0/1 labels are mapped)",
    "mean(max(1 - y_true * y_pred, 0))", ("Hinge",), example=_BINARY_EXAMPLE,
)
_keras(
    squared_hinge, _squared_hinge_grad, "squared margin loss for -1/+1 labels",
    "mean(max(1 - y_true * y_pred, 0)^2)", ("SquaredHinge",), example=_BINARY_EXAMPLE,
)
_keras(
    categorical_hinge, _categorical_hinge_grad, "margin between the true class and the best other",
    "max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)", ("CategoricalHinge",),
    example=_ONEHOT_EXAMPLE,
)
_keras(
    kl_divergence, _kl_grad, "Kullback-Leibler divergence of y_pred from y_true",
    "sum(y_true * log(y_true / y_pred)), both clipped to [1e-7, 1]",
    ("kld", "KLDivergence", "kullback_leibler_divergence"), output_activation="softmax",
    example={"y_true": [[0.0, 1.0], [0.5, 0.5]], "y_pred": [[0.4, 0.6], [0.9, 0.1]]},
)
_keras(
    poisson, _poisson_grad, "Poisson negative log-likelihood of counts given rates",
    "mean(y_pred - y_true * log(y_pred + 1e-7))", ("Poisson",),
    # Rates must stay positive: none of the trainer's output activations (linear, sigmoid,
    # softmax) gives an unbounded positive output, so it is not offered for training.
    trainable=False,
    example={"y_true": [[2.0, 0.0], [1.0, 3.0]], "y_pred": [[1.5, 0.2], [1.0, 2.0]]},
)
_keras(
    binary_crossentropy, _bce_grad, "binary crossentropy, averaged over each sample's columns",
    "mean(-(y_true * log(p) + (1 - y_true) * log(1 - p))), p = clip(y_pred, 1e-7, 1 - 1e-7)",
    ("bce", "BinaryCrossentropy"), params=(_FROM_LOGITS, _SMOOTHING, _AXIS),
    output_activation="sigmoid", trains_on_logits=True, example=_BINARY_EXAMPLE,
)
_keras(
    binary_focal_crossentropy, _binary_focal_grad,
    "binary crossentropy down-weighting easy examples",
    "mean(w * (1 - p_t)^gamma * bce), p_t = y_true * p + (1 - y_true) * (1 - p)",
    ("BinaryFocalCrossentropy",),
    params=(
        Param("apply_class_balancing", "bool", False, "weigh class 1 by alpha, class 0 by 1 - alpha"),
        Param("alpha", "float", 0.25, "weight of class 1 when balancing"),
        Param("gamma", "float", 2.0, "focusing exponent; 0 gives plain crossentropy"),
        _FROM_LOGITS, _SMOOTHING, _AXIS,
    ),
    output_activation="sigmoid", example=_BINARY_EXAMPLE,
)
_keras(
    categorical_crossentropy, _cce_grad, "crossentropy of one-hot (or soft) targets",
    "-sum(y_true * log(clip(y_pred / sum(y_pred), 1e-7, 1 - 1e-7)))",
    ("CategoricalCrossentropy",), params=(_FROM_LOGITS, _SMOOTHING, _AXIS),
    output_activation="softmax", trains_on_logits=True, example=_ONEHOT_EXAMPLE,
)
_keras(
    sparse_categorical_crossentropy, _sparse_cce_grad, "crossentropy of integer class labels",
    "-log(p[y_true]), p = softmax(y_pred) or renormalised clip(y_pred, 1e-7, 1 - 1e-7)",
    ("SparseCategoricalCrossentropy",), inputs=(Y_CLASS, Y_PROBS),
    params=(
        _FROM_LOGITS,
        Param("ignore_class", "optional_int", None, "label whose rows score 0 and are not counted"),
        _AXIS,
    ),
    output_activation="softmax", class_index_target=True, trains_on_logits=True,
    value_and_grad=_sparse_cce_value_and_grad, example=_SPARSE_EXAMPLE,
)
_keras(
    categorical_focal_crossentropy, _categorical_focal_grad,
    "categorical crossentropy down-weighting easy examples",
    "sum(alpha * (1 - p)^gamma * -y_true * log(p)), p = clip(y_pred / sum(y_pred))",
    ("CategoricalFocalCrossentropy",),
    params=(
        Param("alpha", "floats", (0.25,), "weight, one number or one per class"),
        Param("gamma", "float", 2.0, "focusing exponent; 0 gives alpha * crossentropy"),
        _FROM_LOGITS, _SMOOTHING, _AXIS,
    ),
    output_activation="softmax", example=_ONEHOT_EXAMPLE,
)
_keras(
    categorical_generalized_cross_entropy, _gce_grad,
    "noise-robust crossentropy between CE (q -> 0) and MAE (q -> 1)",
    "(1 - p[y_true]^q) / q", ("CategoricalGeneralizedCrossEntropy",),
    inputs=(Y_CLASS, Y_PROBS),
    params=(Param("q", "float", 0.5, "noise parameter, strictly between 0 and 1"),),
    output_activation="softmax", class_index_target=True, example=_SPARSE_EXAMPLE,
)
_keras(
    dice, _dice_grad, "one minus the Dice overlap of target and prediction",
    "1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)", ("Dice",),
    params=(_AXIS_NONE,), batchwise=True, output_activation="sigmoid", example=_BINARY_EXAMPLE,
)
_keras(
    tversky, _tversky_grad, "Dice generalised with separate weights for misses and extras",
    "1 - I / (I + alpha sum(y_true (1 - y_pred)) + beta sum((1 - y_true) y_pred) + 1e-7), "
    "I = sum(y_true * y_pred)",
    ("Tversky",),
    params=(
        Param("alpha", "float", 0.5, "weight of sum(y_true * (1 - y_pred))"),
        Param("beta", "float", 0.5, "weight of sum((1 - y_true) * y_pred)"),
        _AXIS_NONE,
    ),
    batchwise=True, output_activation="sigmoid", example=_BINARY_EXAMPLE,
)
_keras(
    circle, _circle_grad, "pulls same-label embeddings together, pushes others apart",
    "softplus(logsumexp_pos(-gamma w_p (margin - d)) + logsumexp_neg(gamma w_n (1 - margin - d)))",
    ("Circle",), inputs=(Input("y_true", width="one", help="integer label of each row"),
                         Input("y_pred", help="L2-normalised embedding, one column per dimension")),
    params=(
        Param("gamma", "float", 80.0, "scale of the similarities"),
        Param("margin", "float", 0.4, "relaxation margin"),
        Param("remove_diagonal", "bool", True, "do not pair a row with itself"),
    ),
    batchwise=True, class_index_target=True, trainable=False,
    example={"y_true": [[0.0], [0.0], [1.0]],
             "y_pred": [[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]]},
)
_keras(
    ctc, _ctc_grad, "connectionist temporal classification: -log p(labels | frames of logits)",
    "-log sum over alignments a of the labels: prod_t softmax(y_pred_t)[a_t]", ("CTC",),
    inputs=(Input("y_true", help="label sequence: class indices 1..C-1, padded with the blank 0"),
            Input("y_pred", help="T x C logits, frame by frame (column t*C + c)")),
    params=(Param("classes", "optional_int", None,
                  "C, the classes per frame with the blank 0 (y_pred has T x C columns)"),),
    trainable=False,
    example={"y_true": [[1.0, 2.0], [1.0, 0.0]],
             "y_pred": [[1.0, 0.5, 0.0, 0.0, 2.0, 0.0, 0.5, 0.0, 1.5],
                        [0.0, 2.0, 0.0, 1.0, 0.0, 0.0, 2.0, 0.0, 0.0]]},
    example_params={"classes": 3},
)
