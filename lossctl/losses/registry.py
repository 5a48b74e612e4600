"""The loss registry: one frozen record per family and per loss, and name resolution with aliases.

Every loss is registered under its qualified name `family.name` (`keras.huber`,
`torch.huber_loss`). Bare names and aliases resolve where they name one loss only; an ambiguous
name lists its candidates and an unknown one suggests the nearest names.

What differs between the families' conventions is data in their `Family` record, which the
reduction (`reduction.py`), the catalog and the renderers read; no module compares family names.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from lossctl.errors import DataError, UnknownNameError, UsageError

if TYPE_CHECKING:
    from lossctl.losses.tally import TallyMetric

Arrays = Mapping[str, np.ndarray]  # role -> float64 array of shape (n, k)
Params = Mapping[str, Any]  # parameter name -> parsed value


@dataclass(frozen=True)
class Family:
    """A framework's conventions: how its losses are reduced and described."""

    name: str  # the prefix of its qualified names: "keras" in keras.huber
    reductions: tuple[str, ...]  # the reductions every loss of the family takes
    convention: str  # one line on how it reduces, for tables and `explain`
    # Whether a loss takes sample weights (`--weights`), and if not, what to use instead.
    sample_weights: bool
    no_sample_weights: str = ""
    # Whether reduction none gives each row's value times its sample weight (Keras), or the
    # row's own term, the weights weighing only the mean (scikit-learn).
    weighted_rows: bool = True
    # How `LossValues.denom` acts: True, a mask of the rows that count (multiplying the sample
    # weights; Keras's ignore_class, circle); False, each row's share of the mean's divisor
    # (torch's class weights and ignore_index).
    denom_masks: bool = False
    # What a mean over nothing (a zero divisor) gives: a number (Keras's divide_no_nan gives 0.0),
    # None for the IEEE quotient (torch: nan for 0/0), or text: the message of the data error
    # raised instead (scikit-learn's weighted averages).
    empty: float | str | None = None
    default_reduction: str = "mean"
    # Its bare names and aliases resolve only where no other family's loss has them, so that
    # adding the family never changes what a bare name means.
    bare_names_new_only: bool = False

    def check_divisor(self, divisor: float) -> None:
        """Raise the family's data error for a zero divisor, where it has one."""
        if divisor == 0 and isinstance(self.empty, str):
            raise DataError(self.empty)


@dataclass(frozen=True)
class LossValues:
    """The unreduced output of a loss.

    `values` is per sample, shape (n,), or per element, shape (n, k), as the framework keeps it
    before reduction (Keras: per sample; torch: per element for elementwise losses). `denom`,
    when set, has shape (n,) and is what a torch `mean` divides by instead of the element count
    (the class weight of each row's target, 0 for an ignored row). `mean_scale`, when set, has
    shape (n,): `mean` averages values * mean_scale instead of the values (torch's ctc_loss divides
    each row's loss by its target length first); `none` and `sum` ignore it.
    """

    values: np.ndarray
    denom: np.ndarray | None = None
    mean_scale: np.ndarray | None = None


@dataclass(frozen=True)
class Param:
    """One keyword parameter of a loss, with the framework's name and default."""

    name: str
    kind: Literal["float", "int", "bool", "str", "floats", "optional_int", "optional_float"]
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    # A check of the parsed value beyond its kind and choices, and what it requires, for the
    # message: (lambda a: 0 <= a <= 1, "a number in [0, 1]").
    check: tuple[Callable[[Any], bool], str] | None = None

    def parse(self, text: str) -> Any:
        """Turn the text of `-p name=text` into a typed, validated value."""
        value: Any
        try:
            if self.kind == "float":
                value = float(text)
            elif self.kind == "int":
                value = int(text)
            elif self.kind in ("optional_int", "optional_float"):
                none = text.strip().lower() in ("none", "null", "")
                cast = int if self.kind == "optional_int" else float
                value = None if none else cast(text)
            elif self.kind == "bool":
                lowered = text.strip().lower()
                if lowered not in _BOOLS:
                    raise ValueError
                value = _BOOLS[lowered]
            elif self.kind == "floats":
                value = tuple(float(part) for part in text.strip("[]() ").split(",") if part.strip())
                if not value:
                    raise ValueError
            else:
                value = text
        except ValueError:
            raise UsageError(
                f"parameter {self.name}: {text!r} is not {_KIND_WORDS[self.kind]}"
            ) from None
        numbers = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, float) and np.isnan(v) for v in numbers):  # inf may mean something (p)
            raise UsageError(f"parameter {self.name}: {text!r} is not a number")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise UsageError(f"parameter {self.name}: {text!r} is not one of {allowed}")
        if self.check is not None and value is not None and not self.check[0](value):
            raise UsageError(f"parameter {self.name}: {text!r} is not {self.check[1]}")
        return value


_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_KIND_WORDS = {
    "float": "a number",
    "int": "an integer",
    "optional_int": "an integer or none",
    "optional_float": "a number or none",
    "bool": "true or false",
    "floats": "a comma-separated list of numbers",
    "str": "text",
}


@dataclass(frozen=True)
class Input:
    """One input role of a loss and how many columns it takes.

    width: "any" (one or more columns), "one" (exactly one column, e.g. class indices),
    "like_pred" (as many columns as y_pred).
    """

    role: str
    width: Literal["any", "one", "like_pred"] = "any"
    optional: bool = False
    help: str = ""


ValueFn = Callable[[Arrays, Params], LossValues]
# Vector-Jacobian product: given d(reduced)/d(values) (shaped like LossValues.values),
# return d(reduced)/d(y_pred), shaped like inputs["y_pred"].
GradFn = Callable[[Arrays, Params, np.ndarray], np.ndarray]
# Value and gradient in one pass, for a loss with per-sample values (n,): the LossValues and the
# derivative of each row's value with respect to its own y_pred row, shaped like y_pred, so that
# grad(inputs, params, upstream) == upstream[:, None] * d. The trainer's steps call it.
ValueGradFn = Callable[[Arrays, Params], tuple[LossValues, np.ndarray]]
# The value of a metric over the whole batch, given its sample weights (None: unweighted): a
# float, or one per output column (scikit-learn's multioutput="raw_values").
MetricFn = Callable[[Arrays, Params, "np.ndarray | None"], "float | np.ndarray"]


@dataclass(frozen=True)
class Loss:
    """Everything lossctl knows about one loss."""

    name: str  # the framework's function name, e.g. "mean_squared_error", "mse_loss"
    family: Family
    summary: str  # one line: what it measures
    inputs: tuple[Input, ...]
    value: ValueFn
    grad: GradFn | None  # None: it has no gradient (a metric: computed, not trained on)
    params: tuple[Param, ...] = ()
    aliases: tuple[str, ...] = ()  # other names in the family: "mse", "MeanSquaredError", ...
    # The value depends on the whole batch (Keras dice/tversky with axis=None, circle): it is
    # computed on all rows at once and cannot be streamed in chunks.
    batchwise: bool = False
    # What the trainer puts on the network's output before this loss: "linear", "sigmoid" or
    # "softmax"; a loss with from_logits=True takes "linear" whatever this says.
    output_activation: Literal["linear", "sigmoid", "softmax"] = "linear"
    # y_true holds class indices (one column of integers) rather than values like y_pred.
    class_index_target: bool = False
    # y_true takes the two classes as -1 and +1 (not 0 and 1): the trainer maps them.
    signed_target: bool = False
    trainable: bool = True
    # Which way is better: a loss or error goes down, a score (*_score: AUC, F1, R^2) up.
    better: Literal["lower", "higher"] = "lower"
    # Keras computes this loss from the logits when y_pred came out of its output activation
    # (TensorFlow caches them on the softmax or sigmoid output as `_keras_logits`); so does the
    # trainer, taking the last layer's output before the activation with from_logits=True.
    trains_on_logits: bool = False
    # Reductions this loss takes beyond its family's (torch's batchmean for kl_div only).
    extra_reductions: tuple[str, ...] = ()
    # Why this loss has no per-row values, where its family has them (reduction none is then
    # refused with this reason): scikit-learn's metrics that are no mean of per-row terms.
    no_rows: str = ""
    # The reduced value computed by the loss itself from the whole batch and its sample weights
    # (scikit-learn's functions), instead of a reduction of `value`, which then gives the rows'
    # terms for reduction none.
    metric: MetricFn | None = None
    # How the value is computed from mergeable summaries of the rows (`lossctl.losses.tally`): a
    # confusion matrix, the weights at each distinct score. Such a metric streams block by block and
    # takes --by, --ci, compare and the dask engine though it is no mean of per-row terms.
    tally: TallyMetric | None = None
    # An optional one-pass value and gradient (see ValueGradFn); it must agree with value and grad.
    value_and_grad: ValueGradFn | None = None
    # The published definition this loss follows, cited by `lossctl explain` (paper.* losses).
    reference: str = ""
    # A small worked example for `lossctl explain`: role -> rows, and params.
    example: Mapping[str, list[list[float]]] = field(default_factory=dict)
    example_params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def formula(self) -> str:
        """The formula, written once: the docstring of the function that computes the loss (the
        whole batch's `metric` where it has one, else `value`, unreduced)."""
        return inspect.cleandoc((self.metric or self.value).__doc__ or "")

    @property
    def qualified_name(self) -> str:
        return f"{self.family.name}.{self.name}"

    @property
    def reductions(self) -> tuple[str, ...]:
        names = self.family.reductions + self.extra_reductions
        return tuple(r for r in names if r != "none") if self.no_rows else names

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(i.role for i in self.inputs)

    def resolve_params(self, given: Mapping[str, str]) -> dict[str, Any]:
        """Parse `-p` texts into typed values, filling in the framework's defaults."""
        by_name = {p.name: p for p in self.params}
        resolved = {p.name: p.default for p in self.params}
        for key, text in given.items():
            if key not in by_name:
                valid = ", ".join(by_name) or "none"
                raise UsageError(
                    f"{self.qualified_name} has no parameter {key!r} (valid: {valid})"
                )
            resolved[key] = by_name[key].parse(text)
        return resolved


class Registry:
    """All losses, by qualified name, with one flat table of every name that resolves."""

    def __init__(self) -> None:
        self._losses: dict[str, Loss] = {}
        self._names: dict[str, set[str]] = {}  # any accepted name -> qualified names
        self.families: dict[str, Family] = {}  # by name, in the order they registered

    def add(self, loss: Loss) -> Loss:
        qualified = loss.qualified_name
        if qualified in self._losses:
            raise ValueError(f"loss {qualified} registered twice")
        if self.families.setdefault(loss.family.name, loss.family) is not loss.family:
            raise ValueError(f"two families named {loss.family.name}")
        self._losses[qualified] = loss
        prefix = loss.family.name
        for name in (qualified, loss.name, *loss.aliases, *(f"{prefix}.{a}" for a in loss.aliases)):
            self._names.setdefault(name, set()).add(qualified)
        return loss

    def __iter__(self):
        return iter(self._losses.values())

    def __len__(self) -> int:
        return len(self._losses)

    def get(self, name: str) -> Loss:
        """Resolve a qualified name, bare name or alias (exact, then case-insensitive)."""
        found = self._names.get(name)
        if not found:
            folded = name.casefold()
            found = set().union(*(q for n, q in self._names.items() if n.casefold() == folded))
        if len(found) > 1:  # a family added later never takes a name another family answers to
            found = {q for q in found if not self._losses[q].family.bare_names_new_only} or found
        if len(found) == 1:
            return self._losses[next(iter(found))]
        if found:
            raise UsageError(
                f"loss name {name!r} is ambiguous: use one of {', '.join(sorted(found))}"
            )
        nearest = difflib.get_close_matches(name, self._names, n=4, cutoff=0.6)
        raise UnknownNameError("loss", name, nearest, hint="`lossctl list` shows every loss")


REGISTRY = Registry()


def register(loss: Loss) -> Loss:
    """Add a loss to the global registry (called at import of the family modules)."""
    return REGISTRY.add(loss)
