"""Write tests/fixtures/sklearn_metrics.json: reference values from scikit-learn itself.

Run it (it needs scikit-learn, which lossctl itself does not), from the repository root:

    python tools/make_fixtures_sklearn.py

Each case calls the `sklearn.metrics` function with the case's inputs, parameters and sample
weights and stores:

* `value`: what the function returns (a list for multioutput="raw_values");
* `rows`: for a function that is a weighted mean of per-row terms, each row's term, which is what
  lossctl prints for reduction `none`. scikit-learn has no such output, so each term is the
  function itself with a sample weight of 1 on that row and 0 on the others: the labels and
  classes are still inferred from every row, as in the whole call;
* `error`: for inputs scikit-learn rejects, a fragment of its message (checked here to be in it),
  which lossctl's one-line error must contain too.

Inputs are float64 columns as lossctl reads them from a CSV; a one-column y_true of class labels is
given to scikit-learn as a vector, as is a one-column y_pred of a classification metric.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn import metrics

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sklearn_metrics.json"

CLASSIFICATION = {
    "log_loss", "d2_log_loss_score", "hinge_loss", "brier_score_loss", "zero_one_loss", "hamming_loss",
    "accuracy_score",
}
PER_ROW = {
    "mean_squared_error", "mean_squared_log_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_pinball_loss", "mean_poisson_deviance",
    "mean_gamma_deviance", "mean_tweedie_deviance", "log_loss", "hinge_loss", "brier_score_loss",
    "zero_one_loss", "hamming_loss", "accuracy_score",
}
ALL = PER_ROW | {
    "root_mean_squared_error", "root_mean_squared_log_error", "median_absolute_error", "max_error",
    "r2_score", "explained_variance_score", "d2_absolute_error_score", "d2_pinball_score",
    "d2_tweedie_score", "d2_log_loss_score",
}

CASES: list[dict] = []


def _text(value) -> str:
    """A parameter as a user would type it after -p."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(repr(float(v)) for v in value)
    return str(value)


def _plain(x):
    if isinstance(x, np.ndarray):
        return _plain(x.tolist())
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return float(x)


def _args(name: str, y_true: np.ndarray, y_pred: np.ndarray):
    if name in CLASSIFICATION:
        t = y_true[:, 0] if y_true.shape[1] == 1 else y_true
        p = y_pred[:, 0] if y_pred.shape[1] == 1 else y_pred
        return t, p
    return y_true, y_pred


def call(name: str, y_true, y_pred, params: dict, sample_weight):
    fn = getattr(metrics, name)
    t, p = _args(name, y_true, y_pred)
    kwargs = dict(params)
    if sample_weight is not None:
        kwargs["sample_weight"] = np.asarray(sample_weight, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(t, p, **kwargs)


def case(
    tag: str, name: str, y_true, y_pred, params: dict | None = None, sample_weight=None,
    error: str | None = None,
) -> None:
    params = params or {}
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    t = t[:, None] if t.ndim == 1 else t
    p = p[:, None] if p.ndim == 1 else p
    record = {
        "id": f"sklearn-{name}-{tag}" + ("-sw" if sample_weight is not None else ""),
        "loss": f"sklearn.{name}",
        "params": {k: _text(v) for k, v in params.items()},
        "inputs": {"y_true": _plain(t), "y_pred": _plain(p)},
        "sample_weight": None if sample_weight is None else [float(w) for w in sample_weight],
    }
    if error is not None:
        try:
            call(name, t, p, params, sample_weight)
        except (ValueError, ZeroDivisionError) as exc:
            if error not in str(exc):
                sys.exit(f"{record['id']}: {error!r} is not in scikit-learn's message {str(exc)!r}")
            record["error"] = error
        else:
            sys.exit(f"{record['id']}: scikit-learn raised no error")
        CASES.append(record)
        return
    record["value"] = _plain(np.asarray(call(name, t, p, params, sample_weight)))
    if name in PER_ROW:
        n = t.shape[0]
        rows = []
        for i in range(n):
            w = np.zeros(n)
            w[i] = 1.0
            row_params = {k: v for k, v in params.items() if k != "normalize"}
            rows.append(_plain(np.asarray(call(name, t, p, row_params, w))))
        record["rows"] = rows
    CASES.append(record)


def build() -> None:
    rng = np.random.default_rng(20261127)
    t1 = rng.normal(size=(7, 1)).round(4)
    p1 = (t1 + rng.normal(scale=0.7, size=(7, 1))).round(4)
    t3 = rng.normal(size=(6, 3)).round(4)
    p3 = (t3 + rng.normal(scale=0.8, size=(6, 3))).round(4)
    p3[:, 2] = t3[:, 2]  # a perfectly predicted output column
    sw7 = [1.0, 0.5, 2.0, 0.0, 1.5, 3.0, 0.25]
    sw6 = [0.5, 2.0, 1.0, 0.0, 1.25, 3.0]
    pos_t = [[0.0], [1.0], [2.0], [5.0], [0.5], [3.0], [8.0]]
    pos_p = [[0.5], [1.5], [2.0], [3.0], [0.25], [4.0], [6.5]]
    pos_t3 = np.abs(t3) + 0.1
    pos_p3 = np.abs(p3) + 0.05

    # Means of per-element terms, with every multioutput and sample weights.
    for name in ("mean_squared_error", "mean_absolute_error", "root_mean_squared_error",
                 "median_absolute_error", "mean_absolute_percentage_error", "mean_pinball_loss"):
        case("1col", name, t1, p1)
        case("1col", name, t1, p1, sample_weight=sw7)
        case("3col", name, t3, p3)
        case("3col", name, t3, p3, sample_weight=sw6)
        case("3col-raw", name, t3, p3, {"multioutput": "raw_values"})
        case("3col-raw", name, t3, p3, {"multioutput": "raw_values"}, sw6)
    for name in ("mean_squared_log_error", "root_mean_squared_log_error"):
        case("1col", name, pos_t, pos_p)
        case("1col", name, pos_t, pos_p, sample_weight=sw7)
        case("3col-raw", name, pos_t3, pos_p3, {"multioutput": "raw_values"}, sw6)
        case("3col", name, pos_t3, pos_p3)
        case("near-minus-one", name, [[-0.999], [0.0], [2.0]], [[-0.5], [-0.9999], [1.0]])
        case("minus-one", name, [[-1.0], [0.0]], [[0.5], [1.0]],
             error="cannot be used when targets contain values less than or equal to -1")
    # MAPE: y = 0 divides by the machine epsilon; a perfect zero scores 0.
    case("zero-y", "mean_absolute_percentage_error", [[0.0], [0.0], [2.0], [-4.0]],
         [[1e-3], [0.0], [1.0], [-4.5]])
    case("zero-y", "mean_absolute_percentage_error", [[0.0], [0.0], [2.0], [-4.0]],
         [[1e-3], [0.0], [1.0], [-4.5]], sample_weight=[0.0, 1.0, 2.0, 1.0])
    # Pinball at other quantiles.
    for alpha in (0.0, 0.1, 0.9, 1.0):
        case(f"alpha{alpha}", "mean_pinball_loss", t3, p3, {"alpha": alpha})
    case("alpha0.25-raw", "mean_pinball_loss", t3, p3, {"alpha": 0.25, "multioutput": "raw_values"}, sw6)
    # Weighted medians: ties, even counts, a zero weight next to the median.
    case("ties", "median_absolute_error", [[0.0], [0.0], [0.0], [0.0]], [[1.0], [2.0], [2.0], [4.0]])
    case("ties", "median_absolute_error", [[0.0], [0.0], [0.0], [0.0]], [[1.0], [2.0], [2.0], [4.0]],
         sample_weight=[1.0, 1.0, 1.0, 1.0])
    case("halves", "median_absolute_error", [[0.0], [0.0], [0.0], [0.0]], [[1.0], [2.0], [3.0], [4.0]],
         sample_weight=[1.0, 1.0, 0.0, 2.0])
    case("zero-weight-neighbour", "median_absolute_error", [[0.0]] * 5,
         [[1.0], [2.0], [3.0], [4.0], [5.0]], sample_weight=[1.0, 1.0, 0.0, 1.0, 1.0])
    # Deviances, inside and at the edge of their domains.
    case("y0", "mean_poisson_deviance", pos_t, pos_p)
    case("y0", "mean_poisson_deviance", pos_t, pos_p, sample_weight=sw7)
    case("neg-y", "mean_poisson_deviance", [[-1.0], [1.0]], [[1.0], [1.0]],
         error="can only be used on non-negative y and strictly positive y_pred")
    case("zero-pred", "mean_poisson_deviance", [[1.0], [1.0]], [[0.0], [1.0]],
         error="can only be used on non-negative y and strictly positive y_pred")
    gt = [[1e-3], [1.0], [2.0], [5.0], [0.5], [3.0], [8.0]]
    case("positive", "mean_gamma_deviance", gt, pos_p)
    case("positive", "mean_gamma_deviance", gt, pos_p, sample_weight=sw7)
    case("y0", "mean_gamma_deviance", pos_t, pos_p,
         error="can only be used on strictly positive y and y_pred")
    for power in (0.0, 1.0, 1.5, 2.0, 3.0):
        case(f"p{power}", "mean_tweedie_deviance", gt, pos_p, {"power": power})
    case("p1.5-y0", "mean_tweedie_deviance", pos_t, pos_p, {"power": 1.5}, sw7)
    case("p-1", "mean_tweedie_deviance", [[-2.0], [0.0], [1.0], [3.0]], [[0.5], [1.0], [1.0], [2.0]],
         {"power": -1.0})
    case("p-1-zero-pred", "mean_tweedie_deviance", [[1.0], [1.0]], [[0.0], [1.0]], {"power": -1.0},
         error="can only be used on strictly positive y_pred")
    case("p3-y0", "mean_tweedie_deviance", pos_t, pos_p, {"power": 3.0},
         error="can only be used on strictly positive y and y_pred")
    case("2col", "mean_tweedie_deviance", pos_t3[:, :2], pos_p3[:, :2],
         error="Multioutput not supported in mean_tweedie_deviance")
    # Scores: R^2, explained variance, D^2.
    for name in ("r2_score", "explained_variance_score"):
        case("1col", name, t1, p1)
        case("1col", name, t1, p1, sample_weight=sw7)
        for mo in ("raw_values", "uniform_average", "variance_weighted"):
            case(f"3col-{mo}", name, t3, p3, {"multioutput": mo})
            case(f"3col-{mo}", name, t3, p3, {"multioutput": mo}, sw6)
        const_t = [[1.0, 2.0], [1.0, 3.0], [1.0, 4.0]]
        const_p = [[1.0, 2.5], [2.0, 3.0], [1.0, 4.0]]
        for ff in (True, False):
            case(f"constant-ff{ff}", name, const_t, const_p,
                 {"force_finite": ff, "multioutput": "raw_values"})
        case("constant-vw", name, [[1.0], [1.0], [1.0]], [[1.0], [2.0], [1.0]],
             {"multioutput": "variance_weighted"})
    case("one-row", "r2_score", [[1.0]], [[2.0]])
    case("one-row", "explained_variance_score", [[1.0]], [[2.0]])
    for name, params in (("d2_absolute_error_score", {}), ("d2_pinball_score", {}),
                         ("d2_pinball_score", {"alpha": 0.1}), ("d2_pinball_score", {"alpha": 0.9})):
        tag = "-".join(f"{k}{v}" for k, v in params.items())
        case(f"1col{tag}", name, t1, p1, params)
        case(f"1col{tag}", name, t1, p1, params, sw7)
        case(f"3col-raw{tag}", name, t3, p3, params | {"multioutput": "raw_values"})
        case(f"3col-raw{tag}", name, t3, p3, params | {"multioutput": "raw_values"}, sw6)
        case(f"3col{tag}", name, t3, p3, params, sw6)
    case("one-row", "d2_pinball_score", [[1.0]], [[2.0]])
    for power in (0.0, 1.0, 1.5, 2.0, 3.0, -1.0):
        case(f"p{power}", "d2_tweedie_score", gt, pos_p, {"power": power})
    case("p1", "d2_tweedie_score", pos_t, pos_p, {"power": 1.0}, sw7)
    case("p2-y0", "d2_tweedie_score", pos_t, pos_p, {"power": 2.0},
         error="can only be used on strictly positive y and y_pred")
    case("constant", "d2_tweedie_score", [[2.0], [2.0]], [[1.0], [3.0]], {"power": 0.0},
         error="float division by zero")
    # max_error
    case("1col", "max_error", t1, p1)
    case("3col", "max_error", t3, p3, error="Multioutput not supported in max_error")
    # Errors every regression function shares.
    case("zero-weights", "mean_squared_error", t1[:3], p1[:3], sample_weight=[0.0, 0.0, 0.0],
         error="Sample weights must contain at least one non-zero number")
    case("weights-sum-zero", "mean_absolute_error", t1[:3], p1[:3], sample_weight=[1.0, -1.0, 0.0],
         error="Weights sum to zero")
    case("zero-weights", "hinge_loss", [0.0, 1.0], [0.5, -0.5], sample_weight=[0.0, 0.0],
         error="Weights sum to zero")
    case("zero-weights", "log_loss", [0.0, 1.0], [0.5, 0.5], sample_weight=[0.0, 0.0],
         error="Sample weights must contain at least one non-zero number")
    case("nan", "mean_absolute_error", [[1.0], [float("nan")]], [[1.0], [2.0]], error="contains NaN")
    case("inf", "r2_score", [[1.0], [2.0]], [[1.0], [float("inf")]], error="contains infinity")

    # log_loss: binary from one column (probabilities of exactly 0 and 1), k columns, labels.
    yb = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    pb = [0.0, 1.0, 0.3, 0.7, 0.999, 1e-20]
    swb = [1.0, 2.0, 0.5, 1.0, 0.0, 3.0]
    yk = [0.0, 2.0, 1.0, 2.0, 0.0]
    pk = np.array([[0.7, 0.2, 0.1], [0.0, 0.0, 1.0], [0.2, 0.5, 0.3], [0.6, 0.4, 0.0], [0.25, 0.25, 0.5]])
    swk = [1.0, 0.5, 2.0, 1.5, 0.0]
    case("binary-edges", "log_loss", yb, pb)
    case("binary-edges", "log_loss", yb, pb, sample_weight=swb)
    case("binary-unnormalized", "log_loss", yb, pb, {"normalize": False}, swb)
    case("binary-2col", "log_loss", yb, np.stack([1 - np.array(pb), pb], axis=1))
    case("3class", "log_loss", yk, pk)
    case("3class", "log_loss", yk, pk, sample_weight=swk)
    case("3class-unnormalized", "log_loss", yk, pk, {"normalize": False})
    case("not-summing-to-one", "log_loss", [0.0, 1.0, 2.0],
         [[0.5, 0.2, 0.1], [0.1, 0.1, 0.1], [0.2, 0.2, 0.9]])
    case("labels", "log_loss", [0.0, 2.0, 2.0], pk[:3], {"labels": [0, 1, 2]})
    case("labels-binary", "log_loss", [1.0, 1.0], [0.2, 0.9], {"labels": [0, 1]})
    case("other-labels", "log_loss", [3.0, 7.0, 7.0, 3.0], [0.1, 0.8, 0.6, 0.4])
    case("one-label", "log_loss", [1.0, 1.0], [0.2, 0.9], error="y_true contains only one label")
    case("too-few-columns", "log_loss", [0.0, 1.0, 2.0], pk[:3, :2],
         error="y_true and y_prob contain different number of classes")
    case("labels-columns", "log_loss", [0.0, 1.0, 1.0], pk[:3], {"labels": [0, 1]},
         error="The number of classes in labels is different from that in y_prob")
    case("above-one", "log_loss", yb[:2], [0.5, 1.5], error="y_prob contains values greater than 1")
    case("below-zero", "log_loss", yb[:2], [0.5, -0.1], error="y_prob contains values lower than 0")
    case("undeclared", "log_loss", [0.0, 3.0, 1.0], pk[:3], {"labels": [0, 1, 2]},
         error="not belonging to the passed labels")
    # d2_log_loss_score
    case("binary", "d2_log_loss_score", yb, pb)
    case("binary", "d2_log_loss_score", yb, pb, sample_weight=swb)
    case("3class", "d2_log_loss_score", yk, pk)
    case("3class", "d2_log_loss_score", yk, pk, sample_weight=swk)
    case("labels", "d2_log_loss_score", [0.0, 2.0, 2.0], pk[:3], {"labels": [0, 1, 2]})
    case("one-row", "d2_log_loss_score", [1.0], [0.5])
    # hinge_loss: 0/1 and -1/1 labels with one decision column, multiclass decision columns.
    dec = [-2.2, 2.4, 0.1, 0.9, -0.3, 1.0]
    case("01", "hinge_loss", yb, dec)
    case("01", "hinge_loss", yb, dec, sample_weight=swb)
    case("pm1", "hinge_loss", [-1.0, 1.0, 1.0, -1.0, 1.0, -1.0], dec)
    case("other-labels", "hinge_loss", [2.0, 5.0, 5.0, 2.0, 5.0, 2.0], dec)
    case("one-label", "hinge_loss", [1.0, 1.0, 1.0], [0.5, -0.2, 2.0])
    dk = np.array([[1.3, -0.5, 0.2], [0.1, 0.4, 2.1], [-1.0, 1.5, 1.5], [0.3, 0.3, 0.4], [2.0, -2.0, 0.0]])
    case("3class", "hinge_loss", yk, dk)
    case("3class", "hinge_loss", yk, dk, sample_weight=swk)
    case("3class-labels", "hinge_loss", [0.0, 2.0, 2.0, 0.0], dk[:4], {"labels": [0, 1, 2]})
    case("3class-1col", "hinge_loss", yk, dk[:, 0], error="cannot be 1d array")
    case("3class-2col", "hinge_loss", yk, dk[:, :2], error="Please include all labels in y_true")
    # brier_score_loss: binary from one column, with pos_label and scale_by_half; multiclass.
    case("binary-edges", "brier_score_loss", yb, pb)
    case("binary-edges", "brier_score_loss", yb, pb, sample_weight=swb)
    case("binary-unscaled", "brier_score_loss", yb, pb, {"scale_by_half": False})
    case("binary-pos0", "brier_score_loss", yb, pb, {"pos_label": 0})
    case("labels23", "brier_score_loss", [2.0, 3.0, 3.0, 2.0], [0.2, 0.9, 0.6, 0.5])
    case("labels23-pos2", "brier_score_loss", [2.0, 3.0, 3.0, 2.0], [0.2, 0.9, 0.6, 0.5], {"pos_label": 2})
    case("one-label", "brier_score_loss", [1.0, 1.0], [0.2, 0.9])
    case("pm1", "brier_score_loss", [-1.0, 1.0, 1.0], [0.2, 0.9, 0.6])
    case("3class", "brier_score_loss", yk, pk)
    case("3class", "brier_score_loss", yk, pk, sample_weight=swk)
    case("3class-halved", "brier_score_loss", yk, pk, {"scale_by_half": True})
    case("2col", "brier_score_loss", yb, np.stack([1 - np.array(pb), pb], axis=1))
    case("3class-labels", "brier_score_loss", [0.0, 2.0, 2.0], pk[:3], {"labels": [0, 1, 2]})
    case("multiclass-1col", "brier_score_loss", yk, [0.2, 0.3, 0.4, 0.5, 0.6],
         error="should be binary according to the shape of y_prob")
    case("above-one", "brier_score_loss", yb[:2], [0.5, 1.5], error="y_prob contains values greater than 1")
    case("below-zero", "brier_score_loss", yb[:2], [0.5, -0.1], error="y_prob contains values less than 0")
    # zero_one_loss, hamming_loss, accuracy_score: multiclass and multilabel.
    lt = [0.0, 1.0, 2.0, 2.0, 1.0, 0.0]
    lp = [0.0, 2.0, 2.0, 1.0, 1.0, 0.0]
    mt = [[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 0], [1, 0, 0]]
    mp = [[1, 0, 1], [0, 0, 1], [1, 1, 1], [0, 0, 0], [0, 1, 1]]
    swm = [1.0, 2.0, 0.5, 0.0, 1.5]
    for name in ("zero_one_loss", "hamming_loss", "accuracy_score"):
        case("multiclass", name, lt, lp)
        case("multiclass", name, lt, lp, sample_weight=[1.0, 0.5, 2.0, 0.0, 1.0, 3.0])
        case("binary", name, yb, [0.0, 1.0, 0.0, 0.0, 1.0, 1.0])
        case("multilabel", name, mt, mp)
        case("multilabel", name, mt, mp, sample_weight=swm)
        case("continuous", name, lt[:2], [0.5, 1.0], error="can't handle a mix of")
        case("multioutput", name, [[0, 1], [2, 1]], [[0, 1], [2, 2]], error="is not supported")
    for name in ("zero_one_loss", "accuracy_score"):
        case("multiclass-count", name, lt, lp, {"normalize": False})
        case("multilabel-count", name, mt, mp, {"normalize": False}, swm)


def main() -> None:
    build()
    ids = [c["id"] for c in CASES]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        sys.exit(f"duplicate case ids: {duplicates}")
    missing = ALL - {c["loss"].split(".", 1)[1] for c in CASES}
    if missing:
        sys.exit(f"no case for {sorted(missing)}")
    doc = {"generator": "tools/make_fixtures_sklearn.py", "sklearn": sklearn.__version__, "cases": CASES}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(CASES)} cases to {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
