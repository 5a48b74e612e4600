"""A loss as a function of one prediction (its valley), and gradient descent rolling down it.

For a regression loss the prediction is `y_pred` itself, with `y_true` held fixed. A class loss
is drawn against one number too: the probability (or logit, or score) of the true class, with two
classes, the true one being `--true` (0 or 1). `Form` says how that number becomes the loss's
inputs, and the derivative of those inputs with respect to it, so that the slope of the valley
is the registry's gradient by the chain rule. Every value is the registry's own, computed as
`compute` computes one row (reduction `mean`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lossctl.errors import DataError, UsageError
from lossctl.losses.evaluate import check_gradient, evaluate, gradient
from lossctl.losses.registry import Loss
from lossctl.plot.figure import Figure, Mark, Panel, Series

# Each point is computed as compute computes a one-row file (dice and tversky take the whole batch
# as one, so rows are not independent): 10,000 points, about a second per loss, are more than any
# screen or image shows.
MAX_POINTS = 10_000
Inputs = tuple[np.ndarray, np.ndarray, np.ndarray]  # y_true (n, k), y_pred (n, k), d y_pred / d x


@dataclass(frozen=True)
class Form:
    """How one number x (what the x axis shows) becomes a loss's y_true and y_pred."""

    kind: str  # value, probability, logit, score, log_probability
    width: int  # columns of y_pred: 1, or 2 for two classes
    target: str  # value, binary (0/1), signed (-1/1), onehot, index, index_list
    column: str  # the x column's name in CSV and JSON output

    @property
    def classes(self) -> bool:
        return self.kind != "value"

    @property
    def label(self) -> str:
        """The x axis label."""
        other = " (the other class's {} 0)" if self.width == 2 else ""
        return {
            "value": "y_pred",
            "probability": "probability of the true class",
            "log_probability": "probability of the true class",  # the loss is given its log
            "logit": "logit of the true class" + other.format("logit"),
            "score": "score of the true class" + other.format("score"),
        }[self.kind]

    def params_for(self, loss: Loss, params: Mapping[str, Any]) -> Mapping[str, Any]:
        """`params`, with the two classes named where a loss asks for its labels (scikit-learn's
        cannot infer them from one row)."""
        if self.classes and "labels" in params and params["labels"] is None:
            return {**params, "labels": (0.0, 1.0)}
        return params

    def check_true(self, true: float) -> None:
        if self.classes and true not in (0, 1):
            raise UsageError(
                f"--true is the true class for a class loss: 0 or 1 (the x axis is the {self.label})"
            )

    def check_x(self, lo: float, hi: float, flag: str) -> None:
        """A probability axis takes x in [0, 1]: beyond, the losses clip or refuse it."""
        if self.kind in ("probability", "log_probability") and not 0 <= lo <= hi <= 1:
            raise UsageError(f"{flag} is on the axis of the {self.label}: it must lie in [0, 1]")

    def default_true(self) -> float:
        return 1.0  # class 1; for a value, 1 keeps MAPE, Poisson and KL away from their edge at 0

    def default_range(self, true: float) -> tuple[float, float]:
        if self.kind in ("probability", "log_probability"):
            return (0.01, 1.0)
        if self.classes:
            return (-6.0, 6.0)
        half = max(abs(true) / 3, 3.0)
        return (true - half, true + half)

    def inputs(self, x: np.ndarray, true: float) -> Inputs:
        """y_true, y_pred and d y_pred / d x for each x (shape (n,))."""
        n = len(x)
        c = int(true) if self.classes else 0
        pred = np.zeros((n, self.width))
        jac = np.zeros((n, self.width))
        if self.width == 1:
            # one column holds class 1's number: x for true class 1, its complement for class 0
            sign = 1.0 if (c == 1 or not self.classes) else -1.0
            if self.kind == "probability" and c == 0:
                pred[:, 0] = 1.0 - x
            else:
                pred[:, 0] = sign * x
            jac[:, 0] = sign
        else:
            if self.kind == "probability":
                pred[:, c], pred[:, 1 - c] = x, 1.0 - x
                jac[:, c], jac[:, 1 - c] = 1.0, -1.0
            elif self.kind == "log_probability":
                with np.errstate(divide="ignore", invalid="ignore"):
                    pred[:, c], pred[:, 1 - c] = np.log(x), np.log1p(-x)
                    jac[:, c], jac[:, 1 - c] = 1.0 / x, -1.0 / (1.0 - x)
            else:  # logit or score: the other class's stays at 0
                pred[:, c] = x
                jac[:, c] = 1.0
        target = {
            "value": np.full((n, 1), float(true)),
            "binary": np.full((n, 1), float(c)),
            "signed": np.full((n, 1), 1.0 if c == 1 else -1.0),
            "onehot": np.tile(np.eye(2)[c], (n, 1)),
            "index": np.full((n, 1), float(c)),
            "index_list": np.tile([float(c), -1.0], (n, 1)),
        }[self.target]
        return target, pred, jac


# Class losses and the number each is drawn against. Every other loss with only y_true and y_pred
# as required inputs is drawn against y_pred. A Keras loss with from_logits=true takes logits.
_CLASS_FORMS: dict[str, tuple[str, int, str]] = {
    "keras.hinge": ("score", 1, "signed"),
    "keras.squared_hinge": ("score", 1, "signed"),
    "keras.categorical_hinge": ("score", 2, "onehot"),
    "keras.kl_divergence": ("probability", 2, "onehot"),
    "keras.binary_crossentropy": ("probability", 1, "binary"),
    "keras.binary_focal_crossentropy": ("probability", 1, "binary"),
    "keras.categorical_crossentropy": ("probability", 2, "onehot"),
    "keras.sparse_categorical_crossentropy": ("probability", 2, "index"),
    "keras.categorical_focal_crossentropy": ("probability", 2, "onehot"),
    "keras.categorical_generalized_cross_entropy": ("probability", 2, "index"),
    "keras.dice": ("probability", 1, "binary"),
    "keras.tversky": ("probability", 1, "binary"),
    "paper.jensen_shannon": ("probability", 2, "onehot"),
    "torch.binary_cross_entropy": ("probability", 1, "binary"),
    "torch.binary_cross_entropy_with_logits": ("logit", 1, "binary"),
    "torch.soft_margin_loss": ("logit", 1, "signed"),
    "torch.multilabel_soft_margin_loss": ("logit", 1, "binary"),
    "torch.cross_entropy": ("logit", 2, "index"),
    "torch.nll_loss": ("log_probability", 2, "index"),
    "torch.multi_margin_loss": ("score", 2, "index"),
    "torch.multilabel_margin_loss": ("score", 2, "index_list"),
    "sklearn.log_loss": ("probability", 2, "index"),
    "sklearn.brier_score_loss": ("probability", 1, "binary"),
}
_NEEDS_ROWS = "it compares the errors with the spread of y_true over several rows"
_LABELS = "it counts predicted labels that differ from the true ones: a step, not a valley"
_NO_FORM = {
    "keras.circle": "it compares the embeddings of a whole batch with each other",
    "keras.ctc": "it scores frames of class scores against a sequence of labels",
    "torch.ctc_loss": "it scores frames of class scores against a sequence of labels",
    "paper.crps_gaussian": "its forecast is a mean and a std, and each row's std is a column of the "
                           "file (compute takes it; a curve has no std to hold fixed)",
    "sklearn.r2_score": _NEEDS_ROWS,
    "sklearn.explained_variance_score": _NEEDS_ROWS,
    "sklearn.d2_absolute_error_score": _NEEDS_ROWS,
    "sklearn.d2_pinball_score": _NEEDS_ROWS,
    "sklearn.d2_tweedie_score": _NEEDS_ROWS,
    "sklearn.d2_log_loss_score": _NEEDS_ROWS,
    "sklearn.zero_one_loss": _LABELS,
    "sklearn.hamming_loss": _LABELS,
    "sklearn.accuracy_score": _LABELS,
    "sklearn.hinge_loss": "scikit-learn takes the sign of each row from the labels of all rows (one row "
                          "is always the negative class)",
}
_OPTIONAL_ROLES = ("y_true", "y_pred")


def form_of(loss: Loss, params: Mapping[str, Any]) -> Form:
    """The number `loss` is drawn against; UsageError if it has no single-prediction form."""
    name = loss.qualified_name
    extra = [i.role for i in loss.inputs if not i.optional and i.role not in _OPTIONAL_ROLES]
    if name in _NO_FORM or extra or loss.tally is not None:
        why = _NO_FORM.get(name) or (
            "it is a function of many rows at once (their ranking of scores, or their confusion "
            "matrix), not of one prediction" if loss.tally is not None else
            f"it compares predictions with each other (inputs: {', '.join(loss.roles)})")
        raise UsageError(f"{name} has no single-prediction form to draw: {why}")
    kind, width, target = _CLASS_FORMS.get(name, ("value", 1, "value"))
    if kind == "probability" and params.get("from_logits"):
        kind = "logit"
    return Form(kind, width, target, _COLUMNS[kind])


_COLUMNS = {"value": "y_pred", "probability": "p_true", "log_probability": "p_true",
            "logit": "logit_true", "score": "score_true"}


def forms_of(chosen: Sequence[tuple[Loss, Mapping[str, Any]]]) -> list[Form]:
    """Each loss's form; they must share one x axis (y_pred and a probability do not)."""
    forms = [form_of(loss, params) for loss, params in chosen]
    if len({f.column for f in forms}) > 1:
        which = "; ".join(f"{loss.qualified_name}: {f.label}"
                          for (loss, _), f in zip(chosen, forms, strict=True))
        raise UsageError(
            f"these losses are drawn against different x axes ({which}); draw them one at a time")
    return forms


def point(loss: Loss, params: Mapping[str, Any], form: Form, true: float, x: float) -> tuple[float, float]:
    """The loss at x and its slope dL/dx (the registry's gradient through the chain rule; nan for
    a metric without a gradient)."""
    y_true, y_pred, jac = form.inputs(np.array([float(x)]), true)
    arrays = {"y_true": y_true, "y_pred": y_pred}
    value = float(evaluate(loss, arrays, params))  # the family's default reduction, as compute
    if loss.grad is None:  # a metric (scikit-learn's): a value, no slope
        return value, math.nan
    grad = gradient(loss, arrays, params, "mean")
    with np.errstate(invalid="ignore"):  # an input the loss ignores may have an infinite jac
        slope = float(np.sum(np.where(grad != 0, grad * jac, 0.0)))
    return value, slope


@dataclass(frozen=True)
class Curves:
    """Each loss at each x: `values[j]` and `slopes[j]` belong to `losses[j]`."""

    form: Form
    true: float
    x: np.ndarray
    losses: tuple[Loss, ...]
    values: tuple[np.ndarray, ...]
    slopes: tuple[np.ndarray, ...]

    def columns(self, grad: bool) -> tuple[list[str], list[list]]:
        """CSV header and rows: x, then each loss (followed by its gradient with `grad`)."""
        names, cols = [self.form.column], [self.x]
        for loss, v, s in zip(self.losses, self.values, self.slopes, strict=True):
            names.append(loss.qualified_name)
            cols.append(v)
            if grad:
                names.append(f"grad_{loss.qualified_name}")
                cols.append(s)
        return names, np.column_stack(cols).tolist()


def curves(chosen: Sequence[tuple[Loss, Mapping[str, Any]]], true: float | None,
           span: tuple[float, float] | None, points: int, grad: bool = False) -> Curves:
    """Every loss of `chosen` (with its resolved parameters) at `points` evenly spaced x; with
    `grad`, each must have a gradient."""
    if not 2 <= points <= MAX_POINTS:
        raise UsageError(f"--points must be at least 2 and at most {MAX_POINTS}, got {points}")
    forms = forms_of(chosen)
    if grad:
        for loss, _ in chosen:
            check_gradient(loss)
    form = max(forms, key=lambda f: len(f.label))  # the axis label that says the most
    true = form.default_true() if true is None else true
    form.check_true(true)
    lo, hi = span if span is not None else form.default_range(true)
    form.check_x(lo, hi, "--range")
    x = np.linspace(lo, hi, points)
    values, slopes = [], []
    for (loss, params), own in zip(chosen, forms, strict=True):
        pairs = _points(loss, own.params_for(loss, params), own, true, x)
        values.append(pairs[:, 0])
        slopes.append(pairs[:, 1])
    return Curves(form, true, x, tuple(loss for loss, _ in chosen), tuple(values), tuple(slopes))


def _points(loss: Loss, params: Mapping[str, Any], form: Form, true: float, x: np.ndarray) -> np.ndarray:
    """(value, slope) at each x; nan where x is outside what the loss takes (scikit-learn's
    deviances refuse a y_pred <= 0), and the loss's own error if it takes no x at all."""
    pairs = np.full((len(x), 2), np.nan)
    first: DataError | None = None
    for i, v in enumerate(x):
        try:
            pairs[i] = point(loss, params, form, true, v)
        except DataError as error:
            first = first or error
    if first is not None and not np.isfinite(pairs[:, 0]).any():
        raise first
    return pairs


def parse_range(text: str) -> tuple[float, float]:
    """`--range LOW,HIGH`."""
    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        lo = hi = None
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        raise UsageError(f"--range takes two numbers LOW,HIGH, got {text!r}")
    if lo >= hi:
        raise UsageError(f"--range needs LOW < HIGH, got {text!r}")
    return lo, hi


def _title_true(form: Form, true: float) -> str:
    return f"true class {int(true)}" if form.classes else f"y_true = {true:g}"


def curve_figure(c: Curves, grad: bool) -> Figure:
    vline = c.true if not c.form.classes else None
    panels = [Panel(
        title=f"loss vs {c.form.column} ({_title_true(c.form, c.true)})", xlabel=c.form.label, ylabel="loss",
        series=tuple(Series(loss.qualified_name, c.x, v) for loss, v in zip(c.losses, c.values, strict=True)),
        vline=vline, vline_label="y_true" if vline is not None else "",
    )]
    if grad:
        panels.append(Panel(
            title=f"gradient dL/d{c.form.column} ({_title_true(c.form, c.true)})",
            xlabel=c.form.label, ylabel=f"dL/d{c.form.column}",
            series=tuple(Series(f"grad {loss.qualified_name}", c.x, s)
                         for loss, s in zip(c.losses, c.slopes, strict=True)),
            vline=vline, vline_label="y_true" if vline is not None else "",
        ))
    return Figure(title=f"loss and its gradient vs {c.form.column} ({_title_true(c.form, c.true)})",
                  panels=tuple(panels))


def valley_figure(loss: Loss) -> Figure:
    """The loss alone, with its default parameters, around y_true = 1 (or true class 1)."""
    return curve_figure(curves([(loss, loss.resolve_params({}))], None, None, 201), grad=False)


@dataclass(frozen=True)
class Descent:
    """Gradient descent on one prediction: step 0 is the start."""

    loss: Loss
    form: Form
    true: float
    optimizer: str
    lr: float
    x: np.ndarray
    values: np.ndarray
    slopes: np.ndarray
    valley: Curves

    def columns(self) -> tuple[list[str], list[list]]:
        """CSV header and rows: step (an integer), x, loss, gradient."""
        rows = np.column_stack([self.x, self.values, self.slopes]).tolist()
        return ["step", self.form.column, "loss", "gradient"], [[i, *r] for i, r in enumerate(rows)]


def descend(loss: Loss, params: Mapping[str, Any], true: float | None, start: float, lr: float,
            steps: int, optimizer: str = "sgd", span: tuple[float, float] | None = None,
            points: int = 200) -> Descent:
    """`steps` updates of x from `start` by `optimizer` (sgd: x <- x - lr * dL/dx)."""
    if steps < 1:
        raise UsageError(f"--steps must be at least 1, got {steps}")
    if not (np.isfinite(lr) and lr > 0):
        raise UsageError(f"--lr must be > 0, got {lr:g}")
    from lossctl.nn.optimizers import make_optimizer

    check_gradient(loss)
    form = form_of(loss, params)
    true = form.default_true() if true is None else true
    form.check_true(true)
    params = form.params_for(loss, params)
    form.check_x(start, start, "--start")
    if span is not None:
        form.check_x(*span, "--range")
    x = np.array([float(start)])
    opt = make_optimizer(optimizer, [x], lr=lr)
    xs, values, slopes = [], [], []
    for step in range(steps + 1):
        value, slope = point(loss, params, form, true, x[0])
        xs.append(x[0])
        values.append(value)
        slopes.append(slope)
        if step < steps:
            opt.update([np.array([slope])])
    path = np.array(xs)
    if span is None:
        lo, hi = form.default_range(true)
        finite = path[np.isfinite(path)]
        lo, hi = min(lo, finite.min()), max(hi, finite.max())
        pad = 0.05 * (hi - lo)
        if form.kind in ("probability", "log_probability"):  # a step may overshoot 1: clipped
            lo, hi = max(lo, 0.001), min(hi, 1.0)
        else:
            lo, hi = lo - pad, hi + pad
        span = (lo, hi)
    valley = curves([(loss, params)], true, span, points)
    return Descent(loss, form, true, optimizer, lr, path, np.array(values), np.array(slopes), valley)


def descent_figure(d: Descent) -> Figure:
    last = len(d.x) - 1
    panel = Panel(
        title=f"gradient descent: {d.optimizer}, lr {d.lr:g}, {last} steps ({_title_true(d.form, d.true)})",
        xlabel=d.form.label, ylabel="loss",
        series=(Series(d.loss.qualified_name, d.valley.x, d.valley.values[0]),
                Series("steps", d.x, d.values, style="points")),
        marks=(Mark(f"start {d.x[0]:.4g}", d.x[0], d.values[0]),
               Mark(f"step {last}: {d.x[-1]:.4g}", d.x[-1], d.values[-1])),
        vline=d.true if not d.form.classes else None, vline_label="y_true" if not d.form.classes else "",
    )
    return Figure(title="Gradient descent on one prediction", panels=(panel,))
