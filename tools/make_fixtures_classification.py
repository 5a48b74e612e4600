"""Write tests/fixtures/sklearn_classification.json: scikit-learn's own values of the metrics of
lossctl/losses/classification.py (run from the repository root; needs scikit-learn):

    python tools/make_fixtures_classification.py

Each case holds the inputs (labels as numbers or text, scores), the parameters as a user types them
after -p, the sample weights, and scikit-learn's value (a list for average=none), with `warns` where
scikit-learn warned, or a fragment of the error it raised.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn import metrics

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sklearn_classification.json"
CASES: list[dict] = []
RNG = np.random.default_rng(20261205)


def case(id_: str, name: str, y_true, y_pred, params: dict | None = None, sw=None, **kwargs) -> None:
    params = params or {}
    record = {"id": id_, "loss": f"sklearn.{name}", "y_true": list(y_true), "y_pred": list(y_pred),
              "params": {k: str(v) for k, v in params.items()},
              "sample_weight": None if sw is None else list(map(float, sw))}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = getattr(metrics, name)(np.asarray(y_true), np.asarray(y_pred), sample_weight=sw,
                                           **kwargs)
        except ValueError as error:
            record["error"] = str(error).split("\n")[0][:60]
            CASES.append(record)
            return
    record["value"] = np.asarray(value, dtype=float).tolist()
    record["warns"] = any(issubclass(w.category, sklearn.exceptions.UndefinedMetricWarning) or
                          "y_pred contains classes" in str(w.message) for w in caught)
    CASES.append(record)


def main() -> None:
    n = 300
    y = RNG.integers(0, 2, n)
    score = RNG.random(n) + 0.4 * y
    tied = np.round(score, 1)
    w = RNG.random(n).round(3)
    w0 = w.copy()
    w0[:50] = 0.0
    for sid, s in (("cont", score), ("ties", tied)):
        for name in ("roc_auc_score", "average_precision_score"):
            case(f"{name}_{sid}", name, y.tolist(), s.tolist())
            case(f"{name}_{sid}_weights", name, y.tolist(), s.tolist(), sw=w)
            case(f"{name}_{sid}_zero_weights", name, y.tolist(), s.tolist(), sw=w0)
        for max_fpr in (0.05, 0.3, 0.8):
            case(f"roc_auc_max_fpr_{max_fpr}_{sid}", "roc_auc_score", y.tolist(), s.tolist(),
                 {"max_fpr": max_fpr}, max_fpr=max_fpr)
    case("roc_auc_below_half", "roc_auc_score", y.tolist(), (-score).tolist())
    case("roc_auc_all_tied", "roc_auc_score", y.tolist(), [0.5] * n)
    case("roc_auc_one_class", "roc_auc_score", [1] * 10, RNG.random(10).tolist())
    text = ["pos" if v else "neg" for v in y]
    case("roc_auc_text", "roc_auc_score", text, score.tolist())
    case("ap_text_pos_label", "average_precision_score", text, score.tolist(), {"pos_label": "pos"},
         pos_label="pos")
    case("ap_pos_label_0", "average_precision_score", y.tolist(), (-score).tolist(), {"pos_label": 0},
         pos_label=0)

    classes = RNG.integers(0, 4, n)
    predicted = np.where(RNG.random(n) < 0.6, classes, RNG.integers(0, 4, n))
    absent = np.where(predicted == 3, 2, predicted)  # class 3 never predicted
    y_pred = np.where(RNG.random(n) < 0.8, y, 1 - y)
    names = ("precision_score", "recall_score", "f1_score", "jaccard_score")
    for name in names:
        case(f"{name}_binary", name, y.tolist(), y_pred.tolist())
        case(f"{name}_binary_weights", name, y.tolist(), y_pred.tolist(), sw=w)
        case(f"{name}_binary_pos0", name, y.tolist(), y_pred.tolist(), {"pos_label": 0}, pos_label=0)
        text_pred = ["pos" if v else "neg" for v in y_pred]
        case(f"{name}_binary_text", name, text, text_pred, {"pos_label": "pos"}, pos_label="pos")
        case(f"{name}_multiclass_binary", name, classes.tolist(), predicted.tolist())  # an error
        for average in ("micro", "macro", "weighted", "none"):
            arg = None if average == "none" else average
            case(f"{name}_{average}", name, classes.tolist(), predicted.tolist(), {"average": average},
                 average=arg)
            case(f"{name}_{average}_weights", name, classes.tolist(), predicted.tolist(),
                 {"average": average}, sw=w0, average=arg)
            for zero in ("warn", "0", "1", "nan"):
                zd = {"warn": "warn", "0": 0.0, "1": 1.0, "nan": np.nan}[zero]
                case(f"{name}_{average}_absent_{zero}", name, classes.tolist(), absent.tolist(),
                     {"average": average, "zero_division": zero}, average=arg, zero_division=zd)
        case(f"{name}_labels", name, classes.tolist(), predicted.tolist(),
             {"average": "macro", "labels": "2,0"}, average="macro", labels=[2, 0])
        case(f"{name}_no_positive_predicted", name, y.tolist(), [0] * n)
    for beta in (0.5, 2.0):
        case(f"fbeta_{beta}_macro", "fbeta_score", classes.tolist(), predicted.tolist(),
             {"beta": beta, "average": "macro"}, beta=beta, average="macro")
        case(f"fbeta_{beta}_binary", "fbeta_score", y.tolist(), y_pred.tolist(), {"beta": beta}, beta=beta)
    for wid, ww in (("", None), ("_weights", w)):
        case(f"mcc{wid}", "matthews_corrcoef", classes.tolist(), predicted.tolist(), sw=ww)
        case(f"mcc_binary{wid}", "matthews_corrcoef", y.tolist(), y_pred.tolist(), sw=ww)
        for adjusted in (False, True):
            case(f"balanced_{adjusted}{wid}", "balanced_accuracy_score", classes.tolist(), predicted.tolist(),
                 {"adjusted": str(adjusted).lower()}, sw=ww, adjusted=adjusted)
    case("kappa_labels", "cohen_kappa_score", classes.tolist(), predicted.tolist(),
         {"weights": "linear", "labels": "3,1,0"}, weights="linear", labels=[3, 1, 0])
    case("fbeta_full", "fbeta_score", classes.tolist(), absent.tolist(),
         {"beta": 0.5, "average": "weighted", "labels": "1,3", "zero_division": "1"}, beta=0.5,
         average="weighted", labels=[1, 3], zero_division=1.0)
    case("fbeta_pos_label", "fbeta_score", text, ["pos" if v else "neg" for v in y_pred],
         {"beta": 2.0, "pos_label": "neg"}, beta=2.0, pos_label="neg")
    case("mcc_constant", "matthews_corrcoef", y.tolist(), [1] * n)
    case("balanced_unseen_class", "balanced_accuracy_score", [0, 0, 1, 1], [0, 2, 1, 1])
    case("mcc_text", "matthews_corrcoef", [str(c) + "x" for c in classes], [str(c) + "x" for c in predicted])
    for kind in ("none", "linear", "quadratic"):  # cohen_kappa_score's `weights` is no sample weight
        for wid, ww in (("", None), ("_weights", w)):
            case(f"kappa_{kind}{wid}", "cohen_kappa_score", classes.tolist(), predicted.tolist(),
                 {"weights": kind}, sw=ww, weights=None if kind == "none" else kind)
    OUT.write_text(json.dumps({"sklearn": sklearn.__version__, "cases": CASES}) + "\n")
    print(f"{len(CASES)} cases -> {OUT}")


if __name__ == "__main__":
    main()
