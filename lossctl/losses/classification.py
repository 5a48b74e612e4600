"""scikit-learn's classification metrics computed from tallies: ROC AUC and average precision from
the weights at each distinct score (`ScoreCounts`), the F-scores, MCC, kappa and balanced accuracy
from the confusion matrix (`Confusion`). Both add block by block, so every metric here streams and
takes --by, --ci, compare and the dask engine. ROC AUC has DeLong's interval and paired test
(`delong.py`), as R's pROC computes them.

Binary ranking metrics take one score column; the positive class is the greater label in sorted
order (ROC AUC, as scikit-learn), or `pos_label` (average precision). Label metrics take one column
of true and one of predicted labels, numbers or text.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from lossctl.errors import DataError, InputValueError, MetricWarning, UsageError
from lossctl.losses.delong import Delong, paired_delong
from lossctl.losses.registry import Input, Param
from lossctl.losses.sklearn_family import register_tallied
from lossctl.losses.tally import (
    Confusion,
    Interval,
    PairedTest,
    ScoreCounts,
    Tally,
    TallyMetric,
    find_label,
    label_text,
    slot_bounds,
    sorted_labels,
)

# --- ranking of scores ---------------------------------------------------------------------------

_ONE_CLASS = "Only one class is present in y_true. ROC AUC score is not defined in that case."

_TRUE = Input("y_true", width="one", help="class label of each row (two classes; numbers or text)")
_SCORE = Input("y_pred", width="one", help="score of each row: higher means the positive class")


def _score_tally(inputs: dict[str, Any], params: dict[str, Any], weights: np.ndarray | None,
                 slot: np.ndarray | None, slots: int) -> ScoreCounts:
    scores = np.asarray(inputs["y_pred"], dtype=np.float64)
    bad = ~np.isfinite(scores[:, 0])
    if bad.any():
        row = int(np.argmax(bad))
        raise InputValueError(f"score {scores[row, 0]!r} is not a finite number", row=row, role="y_pred",
                              column=0)
    return ScoreCounts.of(scores, inputs["y_true"], weights, slot, slots)


def _positive(tally: ScoreCounts, params: dict[str, Any], metric: str, strict: bool) -> int | None:
    """The class index of the positive class; None (strict: an error) where it is undefined."""
    classes = tally.classes
    if len(classes) > 2:
        shown = ", ".join(label_text(c) for c in classes)
        raise DataError(f"y_true has {len(classes)} classes ({shown}): {metric} takes two, one score column "
                        "(the positive class's)")
    if "pos_label" in params:
        label = find_label(params["pos_label"], classes)
        if label is None:
            shown = ", ".join(label_text(c) for c in classes)
            if len(classes) == 2 or strict:
                raise UsageError(f"pos_label={params['pos_label']} is not a valid label. It should be one of "
                                 f"[{shown}] (give -p pos_label=LABEL)")
            return None
        return classes.index(label)
    if len(classes) < 2:
        _warn(strict, _ONE_CLASS)
        return None
    return 1


def _segments(tally: ScoreCounts, positive: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct (slot, score), ascending: the positive and negative weight, and each entry's
    slot; and where each slot's entries start and end."""
    slot, _, w = tally.column(0)
    pos = w[:, positive]
    neg = w.sum(axis=1) - pos
    return pos, neg, slot, slot_bounds(slot, tally.slots)


def _within(values: np.ndarray, slot: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each entry's running sum within its slot (inclusive), and each slot's total."""
    running = np.cumsum(values)
    before = np.concatenate([[0.0], running])[bounds]  # the running sum before each slot starts
    return running - before[:-1][slot], before[1:] - before[:-1]


def roc_auc_value(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """The area under the ROC curve (true positive rate against false positive rate, through tied
    scores on the diagonal), sum_i P_i (N_<i + N_i / 2) / (P N) over distinct scores: the
    probability that a positive row scores above a negative one, ties counted half (Mann-Whitney
    U / (P N)); P, N the weight of positive and negative rows. With max_fpr, the area up to that
    false positive rate, McClish-standardised: (1 + (A - m^2/2) / (m - m^2/2)) / 2."""
    assert isinstance(tally, ScoreCounts)
    positive = _positive(tally, {}, "roc_auc_score", strict)
    if positive is None:
        return np.full(tally.slots, np.nan)
    pos, neg, slot, bounds = _segments(tally, positive)
    neg_running, negatives = _within(neg, slot, bounds)
    _, positives = _within(pos, slot, bounds)
    if positives[0] == 0 or negatives[0] == 0:
        _warn(strict and tally.slots == 1, _ONE_CLASS)
    max_fpr = params.get("max_fpr")
    if max_fpr is not None and max_fpr != 1:
        return np.array([_partial_auc(pos[a:b], neg[a:b], max_fpr) for a, b in zip(bounds[:-1], bounds[1:],
                                                                                       strict=True)])
    area = np.bincount(slot, weights=pos * (neg_running - 0.5 * neg), minlength=tally.slots)
    with np.errstate(invalid="ignore", divide="ignore"):
        return area / (positives * negatives)


def _partial_auc(pos: np.ndarray, neg: np.ndarray, max_fpr: float) -> float:
    """scikit-learn's McClish-corrected partial AUC up to `max_fpr`, from one slot's weights at
    ascending distinct scores: the ROC curve from the highest score down, cut at max_fpr by linear
    interpolation, its trapezoid area standardised."""
    positives, negatives = pos.sum(), neg.sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    tpr = np.concatenate([[0.0], np.cumsum(pos[::-1]) / positives])
    fpr = np.concatenate([[0.0], np.cumsum(neg[::-1]) / negatives])
    stop = int(np.searchsorted(fpr, max_fpr, side="right"))
    x_interp = [fpr[stop - 1], fpr[stop]] if stop < len(fpr) else [fpr[stop - 1], fpr[stop - 1]]
    y_interp = [tpr[stop - 1], tpr[stop]] if stop < len(tpr) else [tpr[stop - 1], tpr[stop - 1]]
    tpr_cut = np.append(tpr[:stop], np.interp(max_fpr, x_interp, y_interp))
    fpr_cut = np.append(fpr[:stop], max_fpr)
    area = float(np.sum(np.diff(fpr_cut) * (tpr_cut[1:] + tpr_cut[:-1]) / 2.0))
    low, high = 0.5 * max_fpr**2, max_fpr
    return 0.5 * (1 + (area - low) / (high - low))


def average_precision_value(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """Average precision, sum_k (R_k - R_(k+1)) P_k over the distinct scores k from the highest
    down: the precision at each threshold weighted by the recall it adds (no interpolation)."""
    assert isinstance(tally, ScoreCounts)
    positive = _positive(tally, params, "average_precision_score", strict)
    if positive is None:
        return np.full(tally.slots, np.nan)
    pos, neg, slot, bounds = _segments(tally, positive)
    pos_running, positives = _within(pos, slot, bounds)
    neg_running, negatives = _within(neg, slot, bounds)
    # at threshold x_i the predicted positives are the rows scoring >= x_i
    true_pos = positives[slot] - pos_running + pos
    false_pos = negatives[slot] - neg_running + neg
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(true_pos + false_pos > 0, true_pos / (true_pos + false_pos), 0.0)
        value = np.bincount(slot, weights=pos * precision, minlength=tally.slots) / positives
    if strict and positives[0] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all thresholds which "
                      "leads to a horizontal precision-recall curve and average precision of 0",
                      MetricWarning, stacklevel=2)
        return np.zeros(1)
    return value


def _binary_counts(tally: ScoreCounts) -> tuple[np.ndarray, np.ndarray]:
    """One slot's positive and negative weight at each ascending distinct score."""
    positive = _positive(tally, {}, "roc_auc_score", True)
    assert positive is not None
    pos, neg, _, _ = _segments(tally.total() if tally.slots > 1 else tally, positive)
    return pos, neg


def _delong_interval(tally: Tally, params: dict[str, Any], level: float) -> tuple[float, float]:
    assert isinstance(tally, ScoreCounts)
    pos, neg = _binary_counts(tally)
    return Delong.of_counts(pos, neg).interval(level)


def _delong_why_not(params: dict[str, Any]) -> str:
    if params.get("max_fpr") not in (None, 1.0):
        return "DeLong's interval is of the whole area (max_fpr none)"
    return ""


class PairedScores(Tally):
    """Both models' scores and the label of each row, kept: DeLong's paired test needs each row's
    placement in both models (memory: about 24 bytes a row)."""

    slots = 1

    def __init__(self, a: np.ndarray, b: np.ndarray, truth: np.ndarray) -> None:
        self.a, self.b, self.truth = a, b, truth

    @classmethod
    def of(cls, inputs_a: dict[str, Any], inputs_b: dict[str, Any], params: dict[str, Any],
           weights: np.ndarray | None) -> PairedScores:
        return cls(np.asarray(inputs_a["y_pred"], dtype=np.float64)[:, 0],
                   np.asarray(inputs_b["y_pred"], dtype=np.float64)[:, 0], inputs_a["y_true"].cells()[:, 0])

    def __add__(self, other: Tally) -> PairedScores:
        assert isinstance(other, PairedScores)
        return PairedScores(np.concatenate([self.a, other.a]), np.concatenate([self.b, other.b]),
                            np.concatenate([self.truth, other.truth]))

    def mix(self, weights: np.ndarray) -> Tally:
        raise NotImplementedError("DeLong's paired test is analytic: no replicates")

    @property
    def size(self) -> int:
        return len(self.a)


def _delong_test(tally: Tally, params: dict[str, Any], level: float):
    assert isinstance(tally, PairedScores)
    classes = sorted_labels(list(dict.fromkeys(tally.truth.tolist())))
    if len(classes) != 2:
        raise DataError("Only one class present in y_true. ROC AUC score is not defined in that case."
                        if len(classes) < 2
                        else f"y_true has {len(classes)} classes: DeLong's test takes two")
    test = paired_delong(tally.a, tally.b, tally.truth == classes[-1], level)
    return test.a, test.b, test.diff, test.interval, test.p_value


_MAX_FPR = Param("max_fpr", "optional_float", None,
                 "the area up to this false positive rate, McClish-corrected",
                 check=(lambda m: 0 < m <= 1, "a number in (0, 1]"))
_POS_LABEL = Param("pos_label", "str", "1", "the positive class (a label as written: 1, pos)")

ROC_AUC = TallyMetric(
    _score_tally, roc_auc_value,
    interval=Interval("delong", _delong_interval, _delong_why_not),
    paired=PairedTest("delong", PairedScores.of, _delong_test, _delong_why_not),
)
register_tallied(
    "roc_auc_score", "area under the ROC curve of one score column (higher is better)", ROC_AUC,
    (_TRUE, _SCORE), no_rows="it ranks every row against every other", params=(_MAX_FPR,),
    aliases=("roc_auc", "auc"), better="higher",
)
register_tallied(
    "average_precision_score", "precision averaged over the recall levels of one score column "
    "(higher is better)", TallyMetric(_score_tally, average_precision_value), (_TRUE, _SCORE),
    no_rows="it ranks every row against every other", params=(_POS_LABEL,),
    aliases=("average_precision", "ap"), better="higher",
)

# --- labels against labels -----------------------------------------------------------------------

_LABEL_TRUE = Input("y_true", width="one", help="true class label of each row (numbers or text)")
_LABEL_PRED = Input("y_pred", width="one", help="predicted class label of each row")
_LABEL_EXAMPLE = {"y_true": [[0.0], [1.0], [2.0], [2.0], [1.0]],
                  "y_pred": [[0.0], [2.0], [2.0], [1.0], [1.0]]}
_BINARY_EXAMPLE = {"y_true": [[0.0], [1.0], [1.0], [0.0], [1.0]],
                   "y_pred": [[0.0], [1.0], [0.0], [1.0], [1.0]]}
AVERAGES = ("binary", "micro", "macro", "weighted", "none")


def _confusion(inputs: dict[str, Any], params: dict[str, Any], weights: np.ndarray | None,
               slot: np.ndarray | None, slots: int) -> Confusion:
    return Confusion.of(inputs["y_true"], inputs["y_pred"], weights, slot, slots)


def _warn(strict: bool, message: str) -> None:
    if strict:
        warnings.warn(message, MetricWarning, stacklevel=3)


def _divided(numerator: np.ndarray, denominator: np.ndarray, zero_division: str, strict: bool,
             what: str) -> np.ndarray:
    """numerator / denominator, with scikit-learn's zero_division where the denominator is 0."""
    empty = denominator == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out = numerator / np.where(empty, 1.0, denominator)
    if empty.any():
        fill = {"warn": 0.0, "0": 0.0, "1": 1.0, "nan": np.nan}[zero_division]
        out = np.where(empty, fill, out)
        if zero_division == "warn":
            _warn(strict, f"{what} is ill-defined and being set to 0.0 in labels with no "
                  f"{'predicted' if what.startswith('Precision') else 'true'} samples. Use `zero_division` "
                  "parameter to control this behavior.")
    return out


def _class_counts(tally: Confusion, params: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Per slot and class (the average's classes): true positives, predicted and true weight."""
    counts, labels = tally.counts, tally.labels
    average = params["average"]
    if average == "binary":
        if len(labels) > 2:
            raise DataError("Target is multiclass but average='binary'. Please choose another average "
                            "setting, one of [None, 'micro', 'macro', 'weighted'] (-p average=macro).")
        label = find_label(params["pos_label"], labels)
        if label is None:
            if len(labels) < 2:
                label = None
            else:
                shown = ", ".join(label_text(c) for c in labels)
                raise UsageError(f"pos_label={params['pos_label']} is not a valid label. It should be one of "
                                 f"[{shown}] (give -p pos_label=LABEL, or -p average=macro)")
        if label is None:  # one class only, and not the positive one: no positive rows at all
            zero = np.zeros((tally.slots, 1))
            return zero, zero, zero
        keep = [labels.index(label)]
    elif params.get("labels") is not None:
        where = {v: i for i, v in enumerate(labels)}
        keep = [where.get(float(v), -1) for v in params["labels"]]
    else:
        keep = list(range(len(labels)))
    true_pos = np.diagonal(counts, axis1=1, axis2=2)
    predicted, actual = counts.sum(axis=1), counts.sum(axis=2)
    pick = np.array(keep, dtype=np.int64)
    present = pick >= 0

    def take(a: np.ndarray) -> np.ndarray:
        return np.where(present, a[:, np.maximum(pick, 0)] if len(labels) else 0.0, 0.0)

    return take(true_pos), take(predicted), take(actual)


def _f_family(kind: str):
    def value(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
        assert isinstance(tally, Confusion)
        tp, predicted, actual = _class_counts(tally, params)
        average, zero = params["average"], params["zero_division"]
        if average == "micro":
            tp, predicted, actual = (a.sum(axis=1, keepdims=True) for a in (tp, predicted, actual))
        beta2 = params.get("beta", 1.0) ** 2
        if kind == "precision":
            scores = _divided(tp, predicted, zero, strict, "Precision")
        elif kind == "recall":
            scores = _divided(tp, actual, zero, strict, "Recall")
        elif kind == "jaccard":
            scores = _divided(tp, predicted + actual - tp, zero, strict, "Jaccard")
        else:
            denominator = beta2 * actual + predicted  # (1 + b^2) tp + b^2 fn + fp
            scores = _divided((1 + beta2) * tp, denominator, zero, strict, "F-score")
        if average == "none":
            return scores
        if zero == "nan":  # scikit-learn averages the defined ones
            counted = ~np.isnan(scores)
            weight = actual * counted if average == "weighted" else counted.astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(counted, scores, 0.0).__mul__(weight).sum(axis=1) / weight.sum(axis=1)
        if average == "weighted":
            total = actual.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out = (scores * actual).sum(axis=1) / total
            if zero != "nan":
                out = np.where(total == 0, 0.0 if zero == "warn" else float(zero), out)
            return out
        return scores.mean(axis=1) if scores.shape[1] else np.full(tally.slots, np.nan)

    return value


def precision_score(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """Precision tp / (tp + fp) per class, averaged as `average` says: binary (pos_label's),
    micro (of the summed counts), macro (the classes' mean), weighted (by support), none (each)."""
    return _f_family("precision")(tally, params, strict)


def recall_score(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """Recall tp / (tp + fn) per class, averaged as `average` says (see precision_score)."""
    return _f_family("recall")(tally, params, strict)


def f1_score(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """F1 = 2 tp / (2 tp + fp + fn) per class, averaged as `average` says (see precision_score)."""
    return _f_family("f")(tally, params | {"beta": 1.0}, strict)


def fbeta_score(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """F-beta = (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp) per class, averaged as `average` says."""
    return _f_family("f")(tally, params, strict)


def jaccard_score(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """Jaccard index tp / (tp + fp + fn) per class, averaged as `average` says."""
    return _f_family("jaccard")(tally, params, strict)


def matthews_corrcoef(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """Matthews correlation (multiclass R_K): (c s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t)) with c the
    correct weight, s all weight, t and p the true and predicted weight per class; 0 where the
    denominator is 0."""
    assert isinstance(tally, Confusion)
    counts = tally.counts
    t, p = counts.sum(axis=2), counts.sum(axis=1)
    correct, total = np.trace(counts, axis1=1, axis2=2), counts.sum(axis=(1, 2))
    cov_tp = correct * total - (t * p).sum(axis=1)
    cov_pp = total**2 - (p * p).sum(axis=1)
    cov_tt = total**2 - (t * t).sum(axis=1)
    denominator = cov_tt * cov_pp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator == 0, 0.0, cov_tp / np.sqrt(np.where(denominator == 0, 1.0, denominator)))


def balanced_accuracy_score(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """The mean recall of the classes y_true has; adjusted: (score - 1/K) / (1 - 1/K), K classes,
    so that chance scores 0."""
    assert isinstance(tally, Confusion)
    counts = tally.counts
    actual = counts.sum(axis=2)
    seen = actual > 0
    if strict and (~seen[0]).any():
        _warn(strict, "y_pred contains classes not in y_true")
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(seen, np.diagonal(counts, axis1=1, axis2=2) / np.where(seen, actual, 1.0), 0.0)
        score = recall.sum(axis=1) / seen.sum(axis=1)
        if params["adjusted"]:
            chance = 1.0 / seen.sum(axis=1)
            score = (score - chance) / (1.0 - chance)
    return score


def cohen_kappa_score(tally: Tally, params: dict[str, Any], strict: bool) -> np.ndarray:
    """Cohen's kappa, 1 - sum(w O) / sum(w E): O the confusion matrix of y_true (y1) and y_pred (y2),
    E the outer product of its marginals over the total, w 0 on the diagonal and 1 off it (weights
    none), |i - j| (linear) or (i - j)^2 (quadratic) in sorted label order."""
    assert isinstance(tally, Confusion)
    counts = tally.counts
    labels = tally.labels
    if params.get("labels") is not None:
        where = {v: i for i, v in enumerate(labels)}
        pick = np.array([where.get(float(v), -1) for v in params["labels"]])
        padded = np.concatenate([counts, np.zeros((counts.shape[0], 1, counts.shape[2]))], axis=1)
        padded = np.concatenate([padded, np.zeros((counts.shape[0], padded.shape[1], 1))], axis=2)
        counts = padded[:, pick][:, :, pick]
    size = counts.shape[1]
    i, j = np.indices((size, size))
    w = {"none": (i != j).astype(np.float64), "linear": np.abs(i - j).astype(np.float64),
         "quadratic": ((i - j) ** 2).astype(np.float64)}[params["weights"]]
    total = counts.sum(axis=(1, 2))
    expected = np.einsum("si,sj->sij", counts.sum(axis=1), counts.sum(axis=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = expected / total[:, None, None]
        return 1.0 - (w * counts).sum(axis=(1, 2)) / (w * expected).sum(axis=(1, 2))


_AVERAGE = Param("average", "str", "binary",
                 "binary (pos_label's), micro, macro, weighted, none (one per class)",
                 choices=AVERAGES)
_ZERO_DIVISION = Param("zero_division", "str", "warn", "a 0/0 gives: warn (0, and a warning), 0, 1, nan",
                       choices=("warn", "0", "1", "nan"))
_LABELS_PARAM = Param("labels", "floats", None, "the classes to average over, in this order (numbers)")
_BETA = Param("beta", "float", 1.0, "the weight of recall against precision",
              check=(lambda b: b >= 0, "a number >= 0"))
_F_PARAMS = (_AVERAGE, _POS_LABEL, _LABELS_PARAM, _ZERO_DIVISION)
_LABEL_ROLES = ("y_true", "y_pred")
_CONFUSION = "it is a function of the confusion matrix of every row"


def _label_metric(name: str, summary: str, value, params: tuple[Param, ...], aliases: tuple[str, ...],
                  example: dict) -> None:
    register_tallied(name, summary, TallyMetric(_confusion, value, _LABEL_ROLES), (_LABEL_TRUE, _LABEL_PRED),
                     no_rows=_CONFUSION, params=params, aliases=aliases, example=example, better="higher")


_label_metric("precision_score", "precision: the predicted positives that are right (higher is better)",
              precision_score, _F_PARAMS, ("precision",), _BINARY_EXAMPLE)
_label_metric("recall_score", "recall: the positives found (higher is better)", recall_score, _F_PARAMS,
              ("recall", "sensitivity"), _BINARY_EXAMPLE)
_label_metric("f1_score", "F1, the harmonic mean of precision and recall (higher is better)", f1_score,
              _F_PARAMS, ("f1",), _BINARY_EXAMPLE)
_label_metric("fbeta_score", "F-beta: recall beta times as important as precision (higher is better)",
              fbeta_score, (_BETA, *_F_PARAMS), ("fbeta",), _BINARY_EXAMPLE)
_JACCARD_ZERO = Param("zero_division", "str", "warn", "a 0/0 gives: warn (0, and a warning), 0, 1",
                      choices=("warn", "0", "1"))
_label_metric("jaccard_score", "Jaccard index: intersection over union of predicted and true (higher is "
              "better)", jaccard_score, (_AVERAGE, _POS_LABEL, _LABELS_PARAM, _JACCARD_ZERO), ("jaccard",),
              _BINARY_EXAMPLE)
_label_metric("matthews_corrcoef", "Matthews correlation of true and predicted labels (higher is better)",
              matthews_corrcoef, (), ("mcc",), _LABEL_EXAMPLE)
_label_metric("balanced_accuracy_score", "mean recall of the classes (higher is better)",
              balanced_accuracy_score, (Param("adjusted", "bool", False, "rescale so that chance scores 0"),),
              ("balanced_accuracy",), _LABEL_EXAMPLE)
_label_metric("cohen_kappa_score", "Cohen's kappa: agreement beyond chance (higher is better)",
              cohen_kappa_score, (Param("weights", "str", "none", "none, linear or quadratic disagreement",
                                        choices=("none", "linear", "quadratic")), _LABELS_PARAM),
              ("kappa", "cohen_kappa"), _LABEL_EXAMPLE)

