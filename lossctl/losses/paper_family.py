"""Losses no framework ships, each as its published definition states it (`paper.*`).

Each value function returns one value per row (a row is one series, forecast or distribution;
its columns are horizons, quantiles or classes), shape (n,); `mean` averages the rows, weighted by
`--weights` where given (sum(w l) / sum(w)). wMAPE is a ratio of sums: its rows carry their
|y_true| as `denom`, and `mean` divides the summed errors by the summed |y_true|.

Each grad function is the vector-Jacobian product with respect to y_pred (the forecast, the
predicted mean, the quantile forecasts, the second distribution).
"""

from __future__ import annotations

import math

import numpy as np

from lossctl.errors import InputValueError, UsageError
from lossctl.losses.registry import Arrays, Family, Input, Loss, LossValues, Param, Params, register

PAPER = Family(
    name="paper",
    reductions=("none", "sum", "mean"),
    convention=(
        "Published definitions: each row's value as its paper defines it, then the mean over rows "
        "(wMAPE: a ratio of sums)"
    ),
    sample_weights=True,
)

_TRUE = Input("y_true", "like_pred", help="observed values, one column per horizon or output")
_PRED = Input("y_pred", help="forecasts, one column per horizon or output")
_erf = np.frompyfunc(math.erf, 1, 1)


def _first_bad(bad: np.ndarray, values: np.ndarray, role: str, what: str) -> None:
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise InputValueError(f"{role} value {float(values[row, col])!r} is not {what}",
                              row=row, role=role, column=col)


# --- point forecasts ----------------------------------------------------------------------------


def smape(inputs: Arrays, params: Params) -> LossValues:
    """l_i = (200 / h) sum_j |y_ij - f_ij| / (|y_ij| + |f_ij|), 0 where y_ij = f_ij = 0.

    The M4 competition's sMAPE of one series, in percent (0 to 200); y = y_true, f = y_pred,
    (n, h) -> (n,), h the horizons.
    """
    return LossValues(200.0 * _smape_terms(inputs["y_true"], inputs["y_pred"]).mean(axis=1))


def _smape_terms(y: np.ndarray, f: np.ndarray) -> np.ndarray:
    scale = np.abs(y) + np.abs(f)
    return np.where(scale == 0.0, 0.0, np.abs(y - f) / np.where(scale == 0.0, 1.0, scale))


def _smape_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    y, f = inputs["y_true"], inputs["y_pred"]
    scale = np.abs(y) + np.abs(f)
    safe = np.where(scale == 0.0, 1.0, scale)
    d = (np.sign(f - y) * scale - np.abs(y - f) * np.sign(f)) / np.square(safe)
    return (200.0 * upstream / y.shape[1])[:, None] * np.where(scale == 0.0, 0.0, d)


def wmape(inputs: Arrays, params: Params) -> LossValues:
    """wMAPE = 100 sum_ij |y_ij - f_ij| / sum_ij |y_ij|, in percent.

    Per row: l_i = 100 sum_j |y_ij - f_ij| with denom_i = sum_j |y_ij|; `mean` divides the summed
    l by the summed denom (a ratio of sums, not a mean of ratios). (n, k) -> (n,).
    """
    y, f = inputs["y_true"], inputs["y_pred"]
    return LossValues(100.0 * np.abs(y - f).sum(axis=1), denom=np.abs(y).sum(axis=1))


def _wmape_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    return (100.0 * upstream)[:, None] * np.sign(inputs["y_pred"] - inputs["y_true"])


# --- distributions ------------------------------------------------------------------------------


def _distributions(inputs: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """y_true and y_pred rows scaled to sum to 1, as scipy's jensenshannon does."""
    out = []
    for role in ("y_true", "y_pred"):
        x = inputs[role]
        _first_bad(~(x >= 0.0), x, role, "a probability weight (must be >= 0)")
        total = x.sum(axis=1, keepdims=True)
        if (total == 0.0).any():
            row = int(np.argmax(total[:, 0] == 0.0))
            raise InputValueError(f"{role} row sums to 0: no distribution", row=row, role=role)
        out.append(x / total)
    return out[0], out[1]


def _xlogx_over(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """x log(x / m), 0 where x = 0 (scipy's rel_entr for x, m >= 0)."""
    return np.where(x > 0.0, x * np.log(np.where(x > 0.0, x, 1.0) / np.where(x > 0.0, m, 1.0)), 0.0)


def _log_base(params: Params) -> float:
    base = params["base"]
    if base is None:
        return 1.0
    if not base > 0.0 or base == 1.0:
        raise UsageError(f"paper.jensen_shannon: base must be positive and not 1, got {base:g}")
    return math.log(base)


def jensen_shannon(inputs: Arrays, params: Params) -> LossValues:
    """l_i = (KL(p_i || m_i) + KL(q_i || m_i)) / 2, m = (p + q) / 2, logs in `base` (default e).

    p = y_true, q = y_pred, each row scaled to sum to 1; (n, k) -> (n,). scipy's
    jensenshannon(p, q, base) is the square root of this divergence.
    """
    p, q = _distributions(inputs)
    m = (p + q) / 2.0
    js = (_xlogx_over(p, m) + _xlogx_over(q, m)).sum(axis=1)
    return LossValues(js / 2.0 / _log_base(params))


def _jensen_shannon_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d l / d q_j = log(q_j / m_j) / 2 (log(2) / 2 where p_j = 0: there l is q_j log(2) / 2),
    chained through q = x / sum(x)."""
    p, q = _distributions(inputs)
    m = (p + q) / 2.0
    d_q = np.log(np.where(p > 0.0, q / np.where(p > 0.0, m, 1.0), 2.0)) / 2.0 / _log_base(params)
    x = inputs["y_pred"]
    d_x = (d_q - (d_q * q).sum(axis=1, keepdims=True)) / x.sum(axis=1, keepdims=True)
    return upstream[:, None] * d_x


def _gaussian_z(inputs: Arrays) -> tuple[np.ndarray, np.ndarray]:
    std = inputs["std"]
    _first_bad(~(std > 0.0), std, "std", "a standard deviation (must be > 0)")
    return (inputs["y_true"] - inputs["y_pred"]) / std, std


def crps_gaussian(inputs: Arrays, params: Params) -> LossValues:
    """l_i = mean_j s (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)), z = (y - mu) / s.

    The CRPS of the normal N(mu, s^2) at the observation y (Gneiting and Raftery 2007, eq. 21),
    mu = y_pred, s = std, y = y_true, each (n, k) (std may be one column) -> (n,).
    """
    z, std = _gaussian_z(inputs)
    two_phi_minus_1 = _erf(z / math.sqrt(2.0)).astype(np.float64)
    density = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    crps = std * (z * two_phi_minus_1 + 2.0 * density - 1.0 / math.sqrt(math.pi))
    return LossValues(crps.mean(axis=1))


def _crps_gaussian_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d CRPS / d mu = 1 - 2 Phi(z)."""
    z, _ = _gaussian_z(inputs)
    d = -_erf(z / math.sqrt(2.0)).astype(np.float64)
    return (upstream / z.shape[1])[:, None] * d


def _quantiles(inputs: Arrays, params: Params) -> np.ndarray:
    q = np.asarray(params["quantiles"], dtype=np.float64)
    if not np.all((q > 0.0) & (q < 1.0)):
        raise UsageError("paper.quantile_loss: quantiles must lie strictly between 0 and 1")
    width = inputs["y_pred"].shape[1]
    if q.size != width:
        raise UsageError(
            f"paper.quantile_loss: {q.size} quantile(s) but y_pred has {width} column(s): give "
            "one level per column with -p quantiles=q1,q2,..."
        )
    return q


def quantile_loss(inputs: Arrays, params: Params) -> LossValues:
    """l_i = (1/Q) sum_j rho_{q_j}(y_i - f_ij), rho_q(u) = max(q u, (q - 1) u).

    The pinball (check) loss of Koenker and Bassett (1978) for each quantile forecast, averaged
    over the Q quantiles; y = y_true (n, 1), f = y_pred (n, Q), quantiles from -p. -> (n,).
    """
    q = _quantiles(inputs, params)
    u = inputs["y_true"] - inputs["y_pred"]
    return LossValues(np.maximum(q * u, (q - 1.0) * u).mean(axis=1))


def _quantile_grad(inputs: Arrays, params: Params, upstream: np.ndarray) -> np.ndarray:
    """d rho_q(y - f) / d f = -q where y >= f, 1 - q where y < f."""
    q = _quantiles(inputs, params)
    u = inputs["y_true"] - inputs["y_pred"]
    return (upstream / q.size)[:, None] * np.where(u < 0.0, 1.0 - q, -q)


# --- the registry records -----------------------------------------------------------------------


def _paper(value, grad, summary: str, formula: str, aliases: tuple[str, ...], inputs=(_TRUE, _PRED),
           **extra) -> Loss:  # type: ignore[no-untyped-def]
    return register(Loss(name=value.__name__, family=PAPER, summary=summary, formula=formula,
                         inputs=inputs, value=value, grad=grad, aliases=aliases, trainable=False,
                         **extra))


_paper(
    smape, _smape_grad, "symmetric MAPE of the M4 competition, in % (0 to 200)",
    "200/h sum_j |y_j - f_j| / (|y_j| + |f_j|)  (0 where y_j = f_j = 0)",
    (),
    reference="Makridakis, Spiliotis and Assimakopoulos, 'The M4 Competition: 100,000 time series "
    "and 61 forecasting methods', International Journal of Forecasting 36(1), 2020, eq. 1",
    example={"y_true": [[100.0, 110.0], [5.0, 0.0]], "y_pred": [[90.0, 120.0], [4.0, 0.0]]},
)
_paper(
    wmape, _wmape_grad, "weighted MAPE: summed absolute errors over summed |y_true|, in %",
    "100 sum |y - f| / sum |y|  over every row and column",
    (),
    reference="Kolassa and Schuetz, 'Advantages of the MAD/Mean ratio over the MAPE', "
    "Foresight 6, 2007 (the MAD/Mean ratio, in %)",
    example={"y_true": [[100.0, 110.0], [5.0, 0.0]], "y_pred": [[90.0, 120.0], [4.0, 1.0]]},
)
_paper(
    jensen_shannon, _jensen_shannon_grad,
    "Jensen-Shannon divergence between the distributions of y_true and y_pred",
    "(KL(p || m) + KL(q || m)) / 2,  m = (p + q) / 2,  rows scaled to sum to 1",
    ("jsd", "jensen_shannon_divergence"),
    reference="Lin, 'Divergence measures based on the Shannon entropy', IEEE Transactions on "
    "Information Theory 37(1), 1991, eq. 4.1 (equal weights); scipy's jensenshannon squared",
    inputs=(Input("y_true", "like_pred", help="distribution p: one weight >= 0 per outcome"),
            Input("y_pred", help="distribution q over the same outcomes (rows scaled to sum to 1)")),
    params=(Param("base", "optional_float", None, "base of the logarithm (none: e, nats; 2: bits)"),),
    example={"y_true": [[0.5, 0.5, 0.0], [0.1, 0.2, 0.7]], "y_pred": [[0.25, 0.25, 0.5], [0.1, 0.3, 0.6]]},
)
_paper(
    crps_gaussian, _crps_gaussian_grad,
    "continuous ranked probability score of a normal forecast (mean, std)",
    "s (z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)),  z = (y - mu) / s",
    ("CRPS",),
    reference="Gneiting and Raftery, 'Strictly proper scoring rules, prediction, and estimation', "
    "Journal of the American Statistical Association 102(477), 2007, eq. 21",
    inputs=(_TRUE, Input("y_pred", help="predicted mean mu, one column per output"),
            Input("std", help="predicted standard deviation s > 0: one column, or one per output")),
    example={"y_true": [[0.0], [1.5]], "y_pred": [[0.2], [0.5]], "std": [[1.0], [0.5]]},
)
_paper(
    quantile_loss, _quantile_grad, "pinball loss averaged over several quantile forecasts",
    "(1/Q) sum_j max(q_j (y - f_j), (q_j - 1) (y - f_j)),  one y_pred column per level q_j",
    ("pinball", "QuantileLoss"),
    reference="Koenker and Bassett, 'Regression quantiles', Econometrica 46(1), 1978 (the check "
    "function rho_q), averaged over the quantile levels",
    inputs=(Input("y_true", "one", help="observed value"),
            Input("y_pred", help="one forecast per quantile level, in the order of -p quantiles")),
    params=(Param("quantiles", "floats", (0.5,), "the quantile levels of the y_pred columns, in (0, 1)"),),
    example={"y_true": [[10.0], [12.0]], "y_pred": [[8.0, 10.5, 13.0], [9.0, 11.0, 12.5]]},
    example_params={"quantiles": (0.1, 0.5, 0.9)},
)
