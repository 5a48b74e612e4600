"""The scikit-learn family: the `sklearn.metrics` functions (scikit-learn 1.9) used as losses and
scores, computed as scikit-learn computes them.

Conventions, all from scikit-learn:

* Each function's value is computed from the whole batch at once (`Loss.metric`): a weighted mean
  over rows (`--weights` is `sample_weight`, as `numpy.average` takes it), then over the output
  columns as `multioutput` says (`raw_values` keeps one value per column). Weights that sum to 0
  are an error, as in `numpy.average`.
* Reduction `none` gives each row's term where the function is a (weighted) mean of per-row terms;
  the terms are not multiplied by the weights, which only weigh the mean. With several outputs a
  row's term is the mean of its columns' terms (`raw_values`: one per column).
* Inputs are checked as scikit-learn checks them, with its messages: no NaN or infinity, a
  deviance's domain, probabilities within [0, 1], the classes of y_true against the columns of
  y_pred. Label inference follows scikit-learn: class labels are sorted; a single probability
  column is the probability of the greater class.
* log_loss clips probabilities to [eps, 1 - eps] with eps the float64 machine epsilon, without
  renormalising; MAPE divides by max(|y_true|, eps) and is a fraction, not a percentage.
* A formula is written once, in the docstring of the function that computes the value
  (`Loss.formula` reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lossctl.errors import DataError, InputValueError, UsageError
from lossctl.losses.numeric import first_bad
from lossctl.losses.registry import (
    Arrays,
    Family,
    Input,
    Loss,
    LossValues,
    MetricFn,
    Param,
    Params,
    register,
)
from lossctl.losses.tally import Labels, TallyMetric

SKLEARN = Family(
    name="sklearn",
    reductions=("metric", "none"),
    default_reduction="metric",
    convention=(
        "scikit-learn: the function's own value, a weighted mean over rows (sample_weight) "
        "averaged over outputs as multioutput says"
    ),
    sample_weights=True,
    weighted_rows=False,
    empty="Weights sum to zero, can't be normalized",
    bare_names_new_only=True,
)

EPS = float(np.finfo(np.float64).eps)


# --- checks ------------------------------------------------------------------------------------


def _finite(inputs: Arrays) -> None:
    """scikit-learn's check_array: no NaN, no infinity, in any input."""
    for role, values in inputs.items():
        bad = ~np.isfinite(values)
        if bad.any():
            row, col = first_bad(bad)
            too_large = "infinity or a value too large for dtype('float64')"
            what = "NaN" if np.isnan(values[row, col]) else too_large
            raise InputValueError(f"Input {role} contains {what}.", row=row, role=role, column=col)


def _outside(message: str, **bad: np.ndarray | bool) -> None:
    """Raise scikit-learn's `message` at the first row with a True in any role's mask (the
    earlier role on a tie), so that compute names its file, line and column."""
    found = [(*first_bad(mask), role) for role, mask in bad.items() if np.any(mask)]
    if found:
        row, col, role = min(found, key=lambda f: f[0])
        raise InputValueError(message, row=row, role=role, column=col)


def _average(values: np.ndarray, weights: np.ndarray | None, axis: int | None = None) -> Any:
    """numpy.average, with scikit-learn's error for weights summing to 0 as a data error."""
    if weights is not None:
        SKLEARN.check_divisor(float(np.sum(weights)))
    return np.average(values, axis=axis, weights=weights)


def _check_weights(weights: np.ndarray | None, all_zero: bool = True) -> None:
    """scikit-learn's _check_sample_weight: finite, and (but for hinge_loss) not all zero."""
    if weights is None:
        return
    if not np.all(np.isfinite(weights)):
        raise DataError("Input sample_weight contains NaN or infinity.")
    if all_zero and np.all(weights == 0):
        raise DataError("Sample weights must contain at least one non-zero number.")


def _outputs(raw: np.ndarray, params: Params) -> float | np.ndarray:
    """One value per output column, averaged as `multioutput` says (uniform or raw)."""
    if params.get("multioutput", "uniform_average") == "raw_values":
        return raw
    return float(np.average(raw))


def _row_terms(terms: np.ndarray, params: Params) -> np.ndarray:
    """Per-row terms of shape (n, k): kept per column for raw_values, else their row means."""
    if params.get("multioutput", "uniform_average") == "raw_values":
        return terms
    return terms.mean(axis=1)


def _one_output(inputs: Arrays, name: str) -> None:
    if inputs["y_true"].shape[1] > 1:
        raise DataError(f"Multioutput not supported in {name}")


# --- regression: means of per-element terms ------------------------------------------------------


def _elementwise(terms: Callable[[Arrays, Params], np.ndarray]) -> tuple[Callable, MetricFn]:
    """(value, metric) of a function that is the weighted mean of per-element terms."""

    def value(inputs: Arrays, params: Params) -> LossValues:
        _finite(inputs)
        return LossValues(_row_terms(terms(inputs, params), params))

    def metric(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float | np.ndarray:
        _finite(inputs)
        _check_weights(weights)
        return _outputs(_average(terms(inputs, params), weights, axis=0), params)

    value.__doc__ = metric.__doc__ = terms.__doc__
    return value, metric


def mean_squared_error(inputs: Arrays, params: Params) -> np.ndarray:
    """average_i w_i (y_true_ij - y_pred_ij)^2, per output column j."""
    return (inputs["y_true"] - inputs["y_pred"]) ** 2


def mean_absolute_error(inputs: Arrays, params: Params) -> np.ndarray:
    """average_i w_i |y_pred_ij - y_true_ij|, per output column j."""
    return np.abs(inputs["y_pred"] - inputs["y_true"])


def mean_absolute_percentage_error(inputs: Arrays, params: Params) -> np.ndarray:
    """average_i w_i |y_pred_ij - y_true_ij| / max(|y_true_ij|, eps), eps = 2.22e-16 (a fraction)."""
    y = inputs["y_true"]
    return np.abs(inputs["y_pred"] - y) / np.maximum(np.abs(y), EPS)


def _log1p_checked(inputs: Arrays, name: str) -> tuple[np.ndarray, np.ndarray]:
    _outside(f"{name} cannot be used when targets contain values less than or equal to -1.",
             y_true=inputs["y_true"] <= -1, y_pred=inputs["y_pred"] <= -1)
    return np.log1p(inputs["y_true"]), np.log1p(inputs["y_pred"])


def mean_squared_log_error(inputs: Arrays, params: Params) -> np.ndarray:
    """average_i w_i (log(1 + y_true_ij) - log(1 + y_pred_ij))^2; values <= -1 are an error."""
    t, p = _log1p_checked(inputs, "Mean Squared Logarithmic Error")
    return (t - p) ** 2


def mean_pinball_loss(inputs: Arrays, params: Params) -> np.ndarray:
    """average_i w_i (alpha d if d >= 0 else (alpha - 1) d), d = y_true_ij - y_pred_ij."""
    alpha = params["alpha"]
    diff = inputs["y_true"] - inputs["y_pred"]
    sign = (diff >= 0).astype(diff.dtype)
    return alpha * sign * diff - (1 - alpha) * (1 - sign) * diff


def _deviance(y: np.ndarray, mu: np.ndarray, power: float) -> np.ndarray:
    """The unit Tweedie deviance, term by term, as scikit-learn writes each power's case."""
    p = power
    if p < 0:
        return 2 * (
            np.power(np.where(y > 0, y, 0.0), 2 - p) / ((1 - p) * (2 - p))
            - y * np.power(mu, 1 - p) / (1 - p)
            + np.power(mu, 2 - p) / (2 - p)
        )
    if p == 0:
        return (y - mu) ** 2
    if p == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            return 2 * (_xlogy(y, y / mu) - y + mu)
    if p == 2:
        return 2 * (np.log(mu / y) + y / mu - 1)
    return 2 * (
        np.power(y, 2 - p) / ((1 - p) * (2 - p))
        - y * np.power(mu, 1 - p) / (1 - p)
        + np.power(mu, 2 - p) / (2 - p)
    )


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x log(y), 0 where x == 0 (scipy.special.xlogy)."""
    return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def _tweedie_domain(inputs: Arrays, power: float | int) -> None:
    y, mu = inputs["y_true"], inputs["y_pred"]
    message = f"Mean Tweedie deviance error with power={power} can only be used on "
    if power < 0:
        _outside(message + "strictly positive y_pred.", y_pred=mu <= 0)
    elif 1 <= power < 2:
        _outside(message + "non-negative y and strictly positive y_pred.", y_true=y < 0, y_pred=mu <= 0)
    elif power >= 2:
        _outside(message + "strictly positive y and y_pred.", y_true=y <= 0, y_pred=mu <= 0)


def _tweedie(power: Callable[[Params], float | int], name: str) -> Callable[[Arrays, Params], np.ndarray]:
    def terms(inputs: Arrays, params: Params) -> np.ndarray:
        _one_output(inputs, name)
        _tweedie_domain(inputs, power(params))
        return _deviance(inputs["y_true"], inputs["y_pred"], power(params))

    return terms


def mean_tweedie_deviance(inputs: Arrays, params: Params) -> np.ndarray:
    """average_i w_i d_p(y_true_i, y_pred_i), the unit deviance of power p:
    p = 0: (y - mu)^2;  p = 1: 2 (y log(y / mu) - y + mu);  p = 2: 2 (log(mu / y) + y / mu - 1);
    else 2 (max(y, 0)^(2-p) / ((1-p)(2-p)) - y mu^(1-p) / (1-p) + mu^(2-p) / (2-p)).
    One output column; p < 0 needs y_pred > 0, 1 <= p < 2 y >= 0 and y_pred > 0, p >= 2 both > 0."""
    return _tweedie(lambda p: p["power"], "mean_tweedie_deviance")(inputs, params)


def mean_poisson_deviance(inputs: Arrays, params: Params) -> np.ndarray:
    """average_i w_i 2 (y_true_i log(y_true_i / y_pred_i) - y_true_i + y_pred_i) (Tweedie p = 1);
    y_true >= 0, y_pred > 0."""
    return _tweedie(lambda p: 1, "mean_tweedie_deviance")(inputs, params)


def mean_gamma_deviance(inputs: Arrays, params: Params) -> np.ndarray:
    """average_i w_i 2 (log(y_pred_i / y_true_i) + y_true_i / y_pred_i - 1) (Tweedie p = 2);
    y_true > 0, y_pred > 0."""
    return _tweedie(lambda p: 2, "mean_tweedie_deviance")(inputs, params)


# --- regression: the others ----------------------------------------------------------------------


def _weighted_percentile(array: np.ndarray, weights: np.ndarray, rank: float) -> np.ndarray:
    """scikit-learn's _weighted_percentile(average=True), per column of `array` (n, k): the
    weighted percentile, averaging the two neighbours where the rank falls exactly between them."""
    if np.all(weights == 0):
        return np.full(array.shape[1], np.nan)
    w = np.tile(weights, (array.shape[1], 1)).T
    order = np.argsort(array, axis=0)
    sorted_w = np.take_along_axis(w, order, axis=0)
    cdf = np.cumsum(sorted_w.T, axis=1)
    target = rank / 100 * cdf[..., -1]
    target = np.where(target == 0, np.nextafter(target, target + 1), target)
    idx = np.stack([np.searchsorted(cdf[j], target[j]) for j in range(cdf.shape[0])])
    last = order.shape[0] - 1
    idx = np.clip(idx, 0, last)
    cols = np.arange(array.shape[1])
    at = order[idx, cols]
    above = cdf[cols, idx] - target > EPS
    nxt = order[np.clip(idx + 1, 0, last), cols]
    for j in cols[w[nxt, cols] == 0]:  # skip zero-weight neighbours
        following = np.searchsorted(cdf[j], cdf[j, idx[j]], side="right")
        nxt[j] = order[idx[j] if following > last else following, j]
    return np.where(above, array[at, cols], (array[at, cols] + array[nxt, cols]) / 2)


def median_absolute_error(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float | np.ndarray:
    """median_i |y_pred_ij - y_true_ij| per output column j (the weighted median with weights)."""
    _finite(inputs)
    _check_weights(weights)
    errors = np.abs(inputs["y_pred"] - inputs["y_true"])
    raw = np.median(errors, axis=0) if weights is None else _weighted_percentile(errors, weights, 50)
    return _outputs(raw, params)


def max_error(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    """max_i |y_true_i - y_pred_i|; one output column, no sample weights."""
    if weights is not None:
        raise UsageError("sklearn.max_error takes no sample weights")
    _finite(inputs)
    _one_output(inputs, "max_error")
    return float(np.max(np.abs(inputs["y_true"] - inputs["y_pred"])))


def _root(terms: Callable[[Arrays, Params], np.ndarray]) -> MetricFn:
    """The square root of each column's weighted mean of `terms`, then averaged over outputs."""

    def metric(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float | np.ndarray:
        _finite(inputs)
        _check_weights(weights)
        return _outputs(np.sqrt(_average(terms(inputs, params), weights, axis=0)), params)

    return metric


def root_mean_squared_error(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float | np.ndarray:
    """sqrt(average_i w_i (y_true_ij - y_pred_ij)^2) per output column j."""
    return _root(mean_squared_error)(inputs, params, weights)


def root_mean_squared_log_error(
    inputs: Arrays, params: Params, weights: np.ndarray | None
) -> float | np.ndarray:
    """sqrt(average_i w_i (log(1 + y_true_ij) - log(1 + y_pred_ij))^2) per output column j."""

    def terms(inputs: Arrays, params: Params) -> np.ndarray:
        t, p = _log1p_checked(inputs, "Root Mean Squared Logarithmic Error")
        return (t - p) ** 2

    return _root(terms)(inputs, params, weights)


def _explained(numerator: np.ndarray, denominator: np.ndarray, params: Params) -> float | np.ndarray:
    """scikit-learn's _assemble_fraction_of_explained_deviance: 1 - num / den per output; with
    force_finite a perfect fit scores 1 and a constant y_true 0 instead of nan / -inf."""
    nonzero_den = denominator != 0
    if not params.get("force_finite", True):
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = 1 - numerator / denominator
    else:
        nonzero_num = numerator != 0
        scores = np.ones(numerator.shape[0])
        valid = nonzero_den & nonzero_num
        scores[valid] = 1 - numerator[valid] / denominator[valid]
        scores[nonzero_num & ~nonzero_den] = 0.0
    multioutput = params.get("multioutput", "uniform_average")
    if multioutput == "raw_values":
        return scores
    weights = denominator if multioutput == "variance_weighted" and np.any(nonzero_den) else None
    return float(np.average(scores, weights=weights))


def r2_score(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float | np.ndarray:
    """1 - sum_i w_i (y_true_ij - y_pred_ij)^2 / sum_i w_i (y_true_ij - mean_w(y_true_j))^2 per
    output column j; nan for fewer than two rows."""
    _finite(inputs)
    _check_weights(weights)
    y, p = inputs["y_true"], inputs["y_pred"]
    if y.shape[0] < 2:
        return float("nan")
    w = 1.0 if weights is None else weights[:, None]
    numerator = np.sum(w * (y - p) ** 2, axis=0)
    denominator = np.sum(w * (y - _average(y, weights, axis=0)) ** 2, axis=0)
    return _explained(numerator, denominator, params)


def explained_variance_score(
    inputs: Arrays, params: Params, weights: np.ndarray | None
) -> float | np.ndarray:
    """1 - var_w(y_true_j - y_pred_j) / var_w(y_true_j) per output column j (weighted variances)."""
    _finite(inputs)
    _check_weights(weights)
    y, p = inputs["y_true"], inputs["y_pred"]
    diff_avg = _average(y - p, weights, axis=0)
    numerator = _average((y - p - diff_avg) ** 2, weights, axis=0)
    y_avg = _average(y, weights, axis=0)
    denominator = _average((y - y_avg) ** 2, weights, axis=0)
    return _explained(numerator, denominator, params)


def d2_pinball_score(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float | np.ndarray:
    """1 - pinball(y_true, y_pred) / pinball(y_true, q) per output column, q = the weighted
    alpha-quantile of y_true; nan for fewer than two rows."""
    _finite(inputs)
    _check_weights(weights)
    y = inputs["y_true"]
    if y.shape[0] < 2:
        return float("nan")
    numerator = _average(mean_pinball_loss(inputs, params), weights, axis=0)
    w = np.ones(y.shape[0]) if weights is None else weights
    quantile = np.tile(_weighted_percentile(y, w, params["alpha"] * 100), (y.shape[0], 1))
    denominator = _average(mean_pinball_loss({"y_true": y, "y_pred": quantile}, params), w, axis=0)
    return _explained(numerator, denominator, params | {"force_finite": True})


def d2_absolute_error_score(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float | np.ndarray:
    """1 - sum_i w_i |y_true_ij - y_pred_ij| / sum_i w_i |y_true_ij - median_w(y_true_j)| per
    output column j (d2_pinball_score with alpha = 0.5)."""
    return d2_pinball_score(inputs, params | {"alpha": 0.5}, weights)


def d2_tweedie_score(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    """1 - sum_i w_i d_p(y_true_i, y_pred_i) / sum_i w_i d_p(y_true_i, mean_w(y_true)), d_p the
    unit Tweedie deviance of mean_tweedie_deviance; nan for fewer than two rows."""
    _finite(inputs)
    _check_weights(weights)
    _one_output(inputs, "d2_tweedie_score")
    y = inputs["y_true"]
    if y.shape[0] < 2:
        return float("nan")
    power = params["power"]
    _tweedie_domain(inputs, power)
    y, mu = y[:, 0], inputs["y_pred"][:, 0]
    numerator = float(_average(_deviance(y, mu, power), weights))
    denominator = float(_average(_deviance(y, np.full_like(y, _average(y, weights)), power), weights))
    if denominator == 0:
        raise DataError("the deviance of the mean of y_true is 0 (scikit-learn: float division by zero)")
    return 1 - numerator / denominator


# --- classification ------------------------------------------------------------------------------


def _labels(inputs: Arrays, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """(y_true as a vector, the sorted classes): from `labels` when given, else from y_true
    (scikit-learn's LabelBinarizer)."""
    y = inputs["y_true"][:, 0]
    given = params.get("labels")
    if given is None:
        return y, np.unique(y)
    classes = np.unique(np.asarray(given, dtype=np.float64))
    missing = ~np.isin(y, classes)
    if missing.any():
        raise InputValueError(
            f"y_true contains values {sorted(set(y[missing].tolist()))} not belonging to the passed "
            f"labels {list(given)}.",
            row=int(np.argmax(missing)), role="y_true", column=0,
        )
    return y, classes


def _probabilities(inputs: Arrays, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's _validate_multiclass_probabilistic_prediction: (one-hot y_true, y_pred),
    both (n, classes); one y_pred column is the probability of the greater class."""
    _finite(inputs)
    p = inputs["y_pred"]
    _outside(f"y_prob contains values greater than 1: {float(p.max())!r}", y_pred=p > 1)
    _outside(f"y_prob contains values lower than 0: {float(p.min())!r}", y_pred=p < 0)
    y, classes = _labels(inputs, params)
    if classes.shape[0] == 1:  # from y_true: `labels` holds two or more (Param.check)
        raise DataError(
            f"y_true contains only one label ({float(classes[0])!r}). Please provide the list of all "
            "expected class labels explicitly through the labels argument."
        )
    onehot = (y[:, None] == classes[None, :]).astype(np.float64)
    if p.shape[1] == 1:
        p = np.hstack([1 - p, p])
    if classes.shape[0] != p.shape[1]:
        if params.get("labels") is None:
            raise DataError(
                f"y_true and y_prob contain different number of classes: {classes.shape[0]} vs "
                f"{p.shape[1]}. Please provide the true labels explicitly through the labels argument. "
                f"Classes found in y_true: {classes.tolist()}"
            )
        raise DataError(
            f"The number of classes in labels is different from that in y_prob. Classes found in "
            f"labels: {classes.tolist()}"
        )
    return onehot, p


def _log_loss_terms(onehot: np.ndarray, p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, EPS, 1 - EPS)
    return -np.sum(_xlogy(onehot, clipped), axis=1)


def _sum_or_mean(terms: np.ndarray, weights: np.ndarray | None, normalize: bool) -> float:
    """scikit-learn's _average(normalize=...): the weighted mean, or the weighted sum."""
    if normalize:
        return float(_average(terms, weights))
    return float(np.sum(terms) if weights is None else np.dot(terms, weights))


def _log_loss_value(inputs: Arrays, params: Params) -> np.ndarray:
    """-sum_k [y_true_i = class_k] log(clip(p_ik, eps, 1 - eps)), eps = 2.22e-16, averaged with
    weights (summed with normalize=false); p_i = (1 - y_pred_i, y_pred_i) for one column."""
    return _log_loss_terms(*_probabilities(inputs, params))


def _log_loss_metric(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    _check_weights(weights)
    return _sum_or_mean(_log_loss_value(inputs, params), weights, params["normalize"])


_log_loss_metric.__doc__ = _log_loss_value.__doc__


def d2_log_loss_score(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    """1 - sum_i w_i log_loss_i(y_pred) / sum_i w_i log_loss_i(p0), p0 = the weighted class
    frequencies of y_true; nan for fewer than two rows."""
    if inputs["y_true"].shape[0] < 2:
        return float("nan")
    _check_weights(weights)
    onehot, p = _probabilities(inputs, params)
    null = np.tile(_average(onehot, weights, axis=0), (p.shape[0], 1))
    numerator = _sum_or_mean(_log_loss_terms(onehot, p), weights, False)
    denominator = _sum_or_mean(_log_loss_terms(onehot, null), weights, False)
    return float(1 - numerator / denominator)


def _hinge_value(inputs: Arrays, params: Params) -> np.ndarray:
    """max(0, 1 - m_i), averaged with weights. Binary (one y_pred column): m_i = s_i * y_pred_i,
    s_i = +1 for the greater label of y_true, -1 otherwise. Multiclass (more than two labels, one
    column each): m_i = y_pred_i[y_true_i] - max over the other columns."""
    _finite(inputs)
    y = inputs["y_true"][:, 0]
    decision = inputs["y_pred"]
    given = params.get("labels")
    classes = np.unique(np.asarray(given, dtype=np.float64) if given is not None else y)
    if classes.size > 2:
        if decision.shape[1] == 1:
            raise DataError(
                "The shape of pred_decision cannot be 1d array with a multiclass target. pred_decision "
                f"shape must be (n_samples, n_classes), that is ({y.shape[0]}, {classes.size}). "
                f"Got: ({y.shape[0]},)"
            )
        if classes.size != decision.shape[1]:
            if given is None:
                raise DataError("Please include all labels in y_true or pass labels as third argument")
            raise DataError(
                "The shape of pred_decision is not consistent with the number of classes. With a "
                "multiclass target, pred_decision shape must be (n_samples, n_classes), that is "
                f"({y.shape[0]}, {classes.size}). Got: {decision.shape}"
            )
        index = np.searchsorted(classes, y)
        unknown = (index >= classes.size) | (classes[np.minimum(index, classes.size - 1)] != y)
        if unknown.any():
            raise InputValueError(
                f"y contains previously unseen labels: {sorted(set(y[unknown].tolist()))}",
                row=int(np.argmax(unknown)), role="y_true", column=0,
            )
        rows = np.arange(y.shape[0])
        others = decision.copy()
        others[rows, index] = -np.inf
        margin = decision[rows, index] - others.max(axis=1)
    else:
        if decision.shape[1] != 1:
            raise DataError(
                f"y should be a 1d array, got an array of shape {decision.shape} instead."
            )
        seen = np.unique(y)
        sign = np.where(y == seen[-1], 1.0, -1.0) if seen.size == 2 else np.full_like(y, -1.0)
        margin = sign * decision[:, 0]
    return np.clip(1 - margin, 0, None)


def _hinge_metric(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    _check_weights(weights, all_zero=False)
    return float(_average(_hinge_value(inputs, params), weights))


_hinge_metric.__doc__ = _hinge_value.__doc__


def _target_type(y: np.ndarray) -> str:
    """scikit-learn's type_of_target for float columns (n, k)."""
    multi = y.shape[1] > 1
    integral = bool(np.all(y == np.trunc(y)))
    values = np.unique(y)
    if multi and values.size < 3 and integral:
        return "multilabel-indicator"
    if not integral:
        return "continuous" + ("-multioutput" if multi else "")
    if multi:
        return "multiclass-multioutput"
    return "multiclass" if values.size > 2 else "binary"


def _binary_probabilities(inputs: Arrays, params: Params) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's _validate_binary_probabilistic_prediction: (one-hot, (1 - p, p))."""
    _finite(inputs)
    y, p = inputs["y_true"][:, 0], inputs["y_pred"][:, 0]
    kind = _target_type(inputs["y_true"])
    if kind != "binary":
        raise DataError(
            f"The type of the target inferred from y_true is {kind} but should be binary according "
            "to the shape of y_prob."
        )
    _outside(f"y_prob contains values greater than 1: {float(p.max())!r}", y_pred=p > 1)
    _outside(f"y_prob contains values less than 0: {float(p.min())!r}", y_pred=p < 0)
    pos_label = params.get("pos_label")
    if pos_label is None:
        classes = np.unique(y)
        plain = any(
            classes.shape == np.shape(s) and np.all(classes == s) for s in ([0, 1], [-1, 1], [0], [-1], [1])
        )
        pos_label = 1.0 if plain else classes[-1]
    positive = (y == pos_label).astype(np.float64)
    return np.stack([1 - positive, positive], axis=1), np.stack([1 - p, p], axis=1)


def _brier_value(inputs: Arrays, params: Params) -> np.ndarray:
    """s * sum_k ([y_true_i = class_k] - p_ik)^2, averaged with weights; p_i = (1 - y_pred_i,
    y_pred_i) for one column (the positive class: pos_label, else 1 or the greater label);
    s = 1/2 with scale_by_half, which `auto` sets for two columns or one."""
    binary = inputs["y_pred"].shape[1] == 1
    onehot, p = (_binary_probabilities if binary else _probabilities)(inputs, params)
    terms = np.sum((onehot - p) ** 2, axis=1)
    half = params["scale_by_half"]
    if half == "true" or (half == "auto" and p.shape[1] < 3):
        terms = terms * 0.5
    return terms


def _brier_metric(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    _check_weights(weights)
    # scikit-learn halves the mean, lossctl the terms: a factor of 1/2 rounds nothing.
    return float(_average(_brier_value(inputs, params), weights))


_brier_metric.__doc__ = _brier_value.__doc__


def _targets(inputs: Arrays) -> str:
    """scikit-learn's _check_targets: the common type of y_true and y_pred, or its error."""
    _finite(inputs)
    if inputs["y_true"].shape[0] < 1:
        raise DataError(
            "Found empty input array (e.g., `y_true` or `y_pred`) while a minimum of 1 sample is required."
        )
    first, second = _target_type(inputs["y_true"]), _target_type(inputs["y_pred"])
    kinds = {first, second}
    if kinds == {"binary", "multiclass"}:
        kinds = {"multiclass"}
    if len(kinds) > 1:
        raise DataError(f"Classification metrics can't handle a mix of {first} and {second} targets")
    kind = kinds.pop()
    if kind not in ("binary", "multiclass", "multilabel-indicator"):
        raise DataError(f"{kind} is not supported")
    return kind


def _matches(inputs: Arrays) -> np.ndarray:
    _targets(inputs)
    return np.all(inputs["y_true"] == inputs["y_pred"], axis=1).astype(np.float64)


def _accuracy_value(inputs: Arrays, params: Params) -> LossValues:
    """[y_true_i == y_pred_i] (every label of the row, for multilabel 0/1 columns), averaged
    with weights (summed with normalize=false)."""
    return LossValues(_matches(inputs))


def _accuracy_metric(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    _check_weights(weights)
    return _sum_or_mean(_matches(inputs), weights, params["normalize"])


_accuracy_metric.__doc__ = _accuracy_value.__doc__


def _zero_one_value(inputs: Arrays, params: Params) -> LossValues:
    """[y_true_i != y_pred_i] (any label of the row, for multilabel 0/1 columns), averaged with
    weights (summed with normalize=false)."""
    return LossValues(1.0 - _matches(inputs))


def _zero_one_metric(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    _check_weights(weights)
    score = _sum_or_mean(_matches(inputs), weights, params["normalize"])
    if params["normalize"]:
        return 1 - score
    total = float(np.sum(weights)) if weights is not None else inputs["y_true"].shape[0]
    return total - score


_zero_one_metric.__doc__ = _zero_one_value.__doc__


def _hamming_terms(inputs: Arrays) -> tuple[str, np.ndarray]:
    kind = _targets(inputs)
    differ = inputs["y_true"] != inputs["y_pred"]
    return kind, differ.mean(axis=1) if kind == "multilabel-indicator" else differ[:, 0].astype(np.float64)


def _hamming_value(inputs: Arrays, params: Params) -> LossValues:
    """The fraction of the row's labels that differ, count_j [y_true_ij != y_pred_ij] / k,
    averaged with weights."""
    return LossValues(_hamming_terms(inputs)[1])


def _hamming_metric(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float:
    _check_weights(weights)
    kind, terms = _hamming_terms(inputs)
    if kind != "multilabel-indicator":
        return float(_average(terms, weights))
    differences = inputs["y_true"] != inputs["y_pred"]
    count = float(differences.sum() if weights is None else (differences.sum(axis=1) * weights).sum())
    mean_weight = 1.0 if weights is None else float(np.average(weights))
    SKLEARN.check_divisor(mean_weight)
    return count / (differences.shape[0] * differences.shape[1] * mean_weight)


_hamming_metric.__doc__ = _hamming_value.__doc__


# --- the registry records ------------------------------------------------------------------------

_TRUE = Input("y_true", width="like_pred", help="targets, one column per output")
_PRED = Input("y_pred", help="predictions, one column per output")
_CLASS = Input("y_true", width="one", help="class label of each row (a number)")
_PROBS = Input("y_pred", help="probability of each class (sorted labels), or of the greater class")
_LABELS_TRUE = Input("y_true", width="like_pred", help="class labels (0/1 columns: multilabel)")
_LABELS_PRED = Input("y_pred", help="predicted class labels, as y_true")

_MULTIOUTPUT = Param(
    "multioutput", "str", "uniform_average", "raw_values: one value per output column",
    choices=("raw_values", "uniform_average"),
)
_MULTIOUTPUT_VAR = Param(
    "multioutput", "str", "uniform_average", "raw_values: one per column; variance_weighted",
    choices=("raw_values", "uniform_average", "variance_weighted"),
)
_FORCE_FINITE = Param("force_finite", "bool", True, "a perfect or constant fit scores 1 or 0, not nan/-inf")
_ALPHA = Param("alpha", "float", 0.5, "the quantile", check=(lambda a: 0 <= a <= 1, "a number in [0, 1]"))
_POWER = Param(
    "power", "float", 0.0, "Tweedie power: 0 normal, 1 Poisson, 2 gamma",
    check=(lambda p: p <= 0 or p >= 1, "a number <= 0 or >= 1"),
)
_NORMALIZE = Param("normalize", "bool", True, "false: the (weighted) sum instead of the mean")
_CLASS_LABELS = Param(
    "labels", "floats", None, "every class label, sorted (else those of y_true)",
    check=(lambda labels: len(set(labels)) >= 2, "two or more different labels"),
)

_REGRESSION = {"y_true": [[3.0], [-0.5], [2.0], [7.0]], "y_pred": [[2.5], [0.0], [2.0], [8.0]]}
_POSITIVE = {"y_true": [[2.0], [0.5], [1.0], [4.0]], "y_pred": [[0.5], [1.0], [1.0], [2.0]]}
_BINARY = {"y_true": [[0.0], [0.0], [1.0], [1.0]], "y_pred": [[0.1], [0.4], [0.35], [0.8]]}
_CLASSES = {"y_true": [[0.0], [1.0], [2.0]], "y_pred": [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]}
_LABELS = {"y_true": [[0.0], [1.0], [2.0], [2.0]], "y_pred": [[0.0], [2.0], [2.0], [1.0]]}

_NONE_WHOLE = "it is not a mean of per-row terms"


def _sklearn(
    name: str, summary: str, metric: MetricFn, value: Callable | None = None,
    inputs: tuple[Input, ...] = (_TRUE, _PRED), no_rows: str = "", example: dict | None = None,
    **extra: Any,
) -> Loss:
    """Register one scikit-learn function: its `metric`, and `value` giving the rows' terms."""
    if value is None and not no_rows:
        raise ValueError(f"sklearn.{name}: no per-row terms and no reason why")

    def no_value(inputs: Arrays, params: Params) -> LossValues:
        raise UsageError(f"reduction 'none' is not defined for sklearn.{name}: {no_rows}")

    return register(Loss(
        name=name, family=SKLEARN, summary=summary, inputs=inputs,
        value=value or no_value, grad=None, metric=metric, batchwise=True, trainable=False,
        no_rows=no_rows, example=example or _REGRESSION, **extra,
    ))


def register_tallied(
    name: str, summary: str, metric: TallyMetric, inputs: tuple[Input, ...],
    row_terms: Callable | None = None,
    no_rows: str = "", example: dict | None = None, **extra: Any,
) -> Loss:
    """Register one scikit-learn function computed from tallies (`lossctl.losses.tally`): it streams,
    and takes --by, --ci, compare and the dask engine. `row_terms` gives reduction none its rows'
    terms where the function is a mean of them; else `no_rows` says why there are none. Its
    whole-batch `Loss.metric` is the value of one tally of every row."""
    if row_terms is None and not no_rows:
        raise ValueError(f"sklearn.{name}: no per-row terms and no reason why")

    def no_value(inputs: Arrays, params: Params) -> LossValues:
        raise UsageError(f"reduction 'none' is not defined for sklearn.{name}: {no_rows}")

    def whole_batch(inputs: Arrays, params: Params, weights: np.ndarray | None) -> float | np.ndarray:
        tally = metric.tally(tally_inputs(inputs, metric.label_roles), dict(params), weights, None, 1)
        value = metric.values(tally, dict(params), strict=True)[0]
        return float(value) if np.ndim(value) == 0 else value

    whole_batch.__doc__ = metric.value.__doc__
    return register(Loss(
        name=name, family=SKLEARN, summary=summary, inputs=inputs, value=row_terms or no_value,
        grad=None, metric=whole_batch, tally=metric, trainable=False, no_rows=no_rows,
        example=example or _BINARY, **extra,
    ))


def tally_inputs(arrays: Arrays | dict[str, Any], label_roles: tuple[str, ...]) -> dict[str, Any]:
    """A tally's inputs: the label roles as `Labels` (from arrays, or from `Labels` given), the
    others as they are."""
    out = dict(arrays)
    for role in label_roles:
        if role in out and not isinstance(out[role], Labels):
            array = np.asarray(out[role])
            array = array.reshape(len(array), -1)
            out[role] = Labels.of([array[:, j] for j in range(array.shape[1])])
    return out


def _register_elementwise(name: str, terms: Callable, summary: str, params: tuple[Param, ...],
                          example: dict | None = None) -> None:
    value, metric = _elementwise(terms)
    _sklearn(name, summary, metric, value, params=params, example=example)


_register_elementwise("mean_squared_error", mean_squared_error, "mean squared error", (_MULTIOUTPUT,))
_sklearn(
    "root_mean_squared_error", "square root of the mean squared error", root_mean_squared_error,
    params=(_MULTIOUTPUT,), no_rows=f"{_NONE_WHOLE} (the root of a mean)",
)
_register_elementwise(
    "mean_squared_log_error", mean_squared_log_error, "mean squared error of log(1 + y)",
    (_MULTIOUTPUT,), example=_POSITIVE,
)
_sklearn(
    "root_mean_squared_log_error", "square root of the mean squared log error",
    root_mean_squared_log_error, params=(_MULTIOUTPUT,), no_rows=f"{_NONE_WHOLE} (the root of a mean)",
    example=_POSITIVE,
)
_register_elementwise("mean_absolute_error", mean_absolute_error, "mean absolute error", (_MULTIOUTPUT,))
_sklearn(
    "median_absolute_error", "median absolute error, robust to outliers", median_absolute_error,
    params=(_MULTIOUTPUT,), no_rows=f"{_NONE_WHOLE} (a median)",
)
_sklearn(
    "max_error", "largest absolute error", max_error, no_rows=f"{_NONE_WHOLE} (a maximum)",
)
_register_elementwise(
    "mean_absolute_percentage_error", mean_absolute_percentage_error,
    "mean absolute error relative to |y_true|, a fraction (not %)", (_MULTIOUTPUT,),
)
_register_elementwise(
    "mean_pinball_loss", mean_pinball_loss, "quantile (pinball) loss at alpha", (_ALPHA, _MULTIOUTPUT),
)
_register_elementwise(
    "mean_poisson_deviance", mean_poisson_deviance, "mean Poisson deviance (counts)", (), example=_POSITIVE,
)
_register_elementwise(
    "mean_gamma_deviance", mean_gamma_deviance, "mean gamma deviance (positive values)", (),
    example=_POSITIVE,
)
_register_elementwise(
    "mean_tweedie_deviance", mean_tweedie_deviance, "mean Tweedie deviance of power p", (_POWER,),
    example=_POSITIVE,
)
_sklearn(
    "r2_score", "coefficient of determination R^2 (higher is better)", r2_score,
    params=(_MULTIOUTPUT_VAR, _FORCE_FINITE), no_rows=f"{_NONE_WHOLE} (a ratio of sums)",
    better="higher",
)
_sklearn(
    "explained_variance_score", "explained variance (higher is better)", explained_variance_score,
    params=(_MULTIOUTPUT_VAR, _FORCE_FINITE), no_rows=f"{_NONE_WHOLE} (a ratio of variances)",
    better="higher",
)
_sklearn(
    "d2_absolute_error_score", "fraction of absolute error explained, D^2 (higher is better)",
    d2_absolute_error_score, params=(_MULTIOUTPUT,), no_rows=f"{_NONE_WHOLE} (a ratio of sums)",
    better="higher",
)
_sklearn(
    "d2_pinball_score", "fraction of pinball loss explained, D^2 (higher is better)", d2_pinball_score,
    params=(_ALPHA, _MULTIOUTPUT), no_rows=f"{_NONE_WHOLE} (a ratio of sums)",
    better="higher",
)
_sklearn(
    "d2_tweedie_score", "fraction of Tweedie deviance explained, D^2 (higher is better)",
    d2_tweedie_score, params=(_POWER,), no_rows=f"{_NONE_WHOLE} (a ratio of sums)", example=_POSITIVE,
    better="higher",
)
_sklearn(
    "log_loss", "crossentropy of class probabilities", _log_loss_metric,
    lambda inputs, params: LossValues(_log_loss_value(inputs, params)),
    inputs=(_CLASS, _PROBS), params=(_NORMALIZE, _CLASS_LABELS), class_index_target=True,
    example=_CLASSES,
)
_sklearn(
    "d2_log_loss_score", "fraction of log loss explained, D^2 (higher is better)", d2_log_loss_score,
    inputs=(_CLASS, _PROBS), params=(_CLASS_LABELS,), no_rows=f"{_NONE_WHOLE} (a ratio of sums)",
    class_index_target=True, example=_CLASSES,
    better="higher",
)
_sklearn(
    "hinge_loss", "hinge loss of decision values (binary or multiclass)", _hinge_metric,
    lambda inputs, params: LossValues(_hinge_value(inputs, params)),
    inputs=(_CLASS, Input("y_pred", help="decision value (binary), or one column per class")),
    params=(_CLASS_LABELS,), class_index_target=True,
    example={"y_true": [[-1.0], [1.0], [1.0]], "y_pred": [[-2.18], [2.36], [0.09]]},
)
_sklearn(
    "brier_score_loss", "squared error of class probabilities", _brier_metric,
    lambda inputs, params: LossValues(_brier_value(inputs, params)),
    inputs=(_CLASS, _PROBS),
    params=(
        Param("scale_by_half", "str", "auto", "halve the sum (auto: for two classes)",
              choices=("auto", "true", "false")),
        Param("pos_label", "optional_float", None, "the positive class of one y_pred column"),
        _CLASS_LABELS,
    ),
    class_index_target=True, example=_BINARY,
)
_sklearn(
    "zero_one_loss", "fraction of rows misclassified", _zero_one_metric, _zero_one_value,
    inputs=(_LABELS_TRUE, _LABELS_PRED), params=(_NORMALIZE,), example=_LABELS,
)
_sklearn(
    "hamming_loss", "fraction of labels misclassified", _hamming_metric, _hamming_value,
    inputs=(_LABELS_TRUE, _LABELS_PRED), example=_LABELS,
)
_sklearn(
    "accuracy_score", "fraction of rows classified right (higher is better)", _accuracy_metric,
    _accuracy_value, inputs=(_LABELS_TRUE, _LABELS_PRED), params=(_NORMALIZE,), example=_LABELS,
    better="higher",
)
