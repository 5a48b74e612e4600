"""Tallies: the mergeable summaries of rows that a metric keeps when it is no mean of per-row terms.

A ranking metric (ROC AUC, average precision) is a function of the weight of each true class at
each distinct score; a label metric (F-scores, MCC, kappa) of the confusion matrix. Both are sums
over rows, so one block's `Tally` adds to another's: across blocks, threads, `--by` groups and Dask
partitions, finished into the metric only at the end (`TallyMetric.value`).

A tally holds `slots` such sums side by side: one, or one per bootstrap bucket with `--ci`.
`mix(W)` gives the tally whose slot r is sum_b W[r, b] x slot b: a bootstrap replicate weighs the
buckets by Poisson draws, and compare's permutations swap two models' buckets. Every tally is linear
in its rows' weights, so these are exact.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossctl.errors import DataError

Label = float | str  # a class label: a number, or text as written


class Tally:
    """Sums over rows, `slots` of them side by side; added slot by slot."""

    slots: int

    def __add__(self, other: Tally) -> Tally:
        raise NotImplementedError

    def mix(self, weights: np.ndarray) -> Tally:
        """The tally of `weights.shape[0]` slots, slot r = sum_b weights[r, b] x slot b."""
        raise NotImplementedError

    def total(self) -> Tally:
        """All slots added into one."""
        return self.mix(np.ones((1, self.slots)))

    @property
    def size(self) -> int:
        """How many numbers one slot holds, roughly: what a `mix` costs per new slot."""
        raise NotImplementedError


# What a tally is built from: the loss's inputs by role (labels as `Labels`, scores as float64
# (n, k)), its parameters, the sample weights (None: all 1), each row's slot (None: all in slot 0)
# and the number of slots.
TallyFn = Callable[[dict[str, Any], dict[str, Any], "np.ndarray | None", "np.ndarray | None", int], Tally]
# A tally's value in each slot: shape (slots,), or (slots, m) for one value per class or output.
# `strict` (the overall value, one slot): raise scikit-learn's DataError where the metric is
# undefined and warn (`MetricWarning`) as it warns; else (groups, bootstrap replicates) NaN there.
ValueFn = Callable[[Tally, dict[str, Any], bool], np.ndarray]


@dataclass(frozen=True)
class Interval:
    """An analytic interval of a metric, from its tally (DeLong's for ROC AUC)."""

    method: str  # its name in outputs: "delong"
    interval: Callable[[Tally, dict[str, Any], float], tuple[float, float]]  # (tally, params, level)
    why_not: Callable[[dict[str, Any]], str] | None = None  # params -> why it does not apply ("" if it does)


@dataclass(frozen=True)
class PairedTest:
    """An analytic test of two models' metric on the same rows (DeLong's paired test of AUCs):
    built from both models' inputs of each block, side by side."""

    method: str
    tally: Callable[[dict[str, Any], dict[str, Any], dict[str, Any], np.ndarray | None], Tally]
    # (tally, params, level) -> (a, b, b - a, (low, high), p_value)
    test: Callable[[Tally, dict[str, Any], float], tuple[float, float, float, tuple[float, float], float]]
    why_not: Callable[[dict[str, Any]], str] | None = None


@dataclass(frozen=True)
class TallyMetric:
    """How a metric is computed from tallies: `tally` of a block of rows, `value` of the sum."""

    tally: TallyFn
    value: ValueFn
    # Roles whose columns hold class labels (numbers or text), handed over as `Labels`.
    label_roles: tuple[str, ...] = ("y_true",)
    interval: Interval | None = None
    paired: PairedTest | None = None

    def values(self, tally: Tally, params: dict[str, Any], strict: bool = False) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.value(tally, params, strict), dtype=np.float64)


# --- labels --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Labels:
    """Label columns: each cell's code (n, k) into `values`, the distinct labels (floats, or str
    when a column holds text)."""

    codes: np.ndarray
    values: tuple[Label, ...]

    def __len__(self) -> int:
        return self.codes.shape[0]

    @property
    def text(self) -> bool:
        return any(isinstance(v, str) for v in self.values)

    def take(self, rows: np.ndarray) -> Labels:
        return Labels(self.codes[rows], self.values)

    def cells(self) -> np.ndarray:
        """Each cell's label, (n, k): float64, or object for text."""
        values = np.array(self.values, dtype=object if self.text else np.float64)
        return values[self.codes] if len(self.values) else np.empty(self.codes.shape)

    def numbers(self, what: str = "labels") -> np.ndarray:
        """The cells as float64, or a DataError for text."""
        if self.text:
            text = next(v for v in self.values if isinstance(v, str))
            raise DataError(f"{what} must be numbers, got {text!r}")
        return self.cells().astype(np.float64)

    @classmethod
    def of(cls, columns: Sequence[Any]) -> Labels:
        """The labels of columns (each a `Codes` of text cells from the reader, or an array of
        numbers or text): cells that all read as numbers are numbers (`1` and `1.0` are one label),
        else every cell is its text."""
        parts = [_words_and_codes(c) for c in columns]
        words = list(dict.fromkeys(w for ws, _ in parts for w in ws))
        values = _label_values(words)
        distinct = list(dict.fromkeys(values))
        where = {v: i for i, v in enumerate(distinct)}
        code_of_word = {w: where[v] for w, v in zip(words, values, strict=True)}
        codes = [np.array([code_of_word[w] for w in ws], dtype=np.int64)[c] for ws, c in parts]
        n = len(codes[0]) if codes else 0
        return cls(np.column_stack(codes) if codes else np.empty((n, 0), dtype=np.int64), tuple(distinct))


def _words_and_codes(column: Any) -> tuple[list, np.ndarray]:
    from lossctl.io.block import Codes

    if isinstance(column, Codes):
        return list(column.words), np.asarray(column.codes, dtype=np.int64)
    array = np.asarray(column)
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise DataError("labels contain NaN")
    words, codes = np.unique(array, return_inverse=True)
    return words.tolist(), codes.reshape(-1).astype(np.int64)


def _label_values(words: list) -> list[Label]:
    """Words as labels: all numbers (float) when every word reads as one, else all text."""
    numbers: list[Label] = []
    for word in words:
        if isinstance(word, (int, float, np.integer, np.floating)) and not isinstance(word, bool):
            numbers.append(float(word))
            continue
        try:
            numbers.append(float(str(word).strip()))
        except ValueError:
            return [str(w) for w in words]
    return numbers


def sorted_labels(values: Sequence[Label]) -> list[Label]:
    """Labels in scikit-learn's order (np.unique's): numbers ascending, text by code point."""
    kinds = {isinstance(v, str) for v in values}
    if len(kinds) > 1:
        number = next(v for v in values if not isinstance(v, str))
        text = next(v for v in values if isinstance(v, str))
        raise DataError(
            f"labels are numbers in some rows and text in others ({label_text(number)} and {text!r}): "
            "give them one kind"
        )
    return sorted(values)


def label_text(label: Label) -> str:
    """A label as a user wrote it: integral numbers without `.0`."""
    if isinstance(label, float) and label.is_integer():
        return str(int(label))
    return str(label)


def find_label(label: str | None, values: Sequence[Label]) -> Label | None:
    """The label among `values` that the text `label` (a -p value) names, or None if none does."""
    if label is None:
        return None
    if any(isinstance(v, str) for v in values):
        return label if label in values else None
    try:
        number = float(label)
    except ValueError:
        return None
    return number if number in values else None


def union(first: Sequence[Label], second: Sequence[Label]) -> tuple[list[Label], np.ndarray, np.ndarray]:
    """The labels of both, sorted, and where each of `first` and `second` goes in them."""
    merged = sorted_labels(list(dict.fromkeys([*first, *second])))
    where = {v: i for i, v in enumerate(merged)}
    return (merged, np.array([where[v] for v in first], dtype=np.int64),
            np.array([where[v] for v in second], dtype=np.int64))


# --- the confusion matrix ------------------------------------------------------------------------


@dataclass
class Confusion(Tally):
    """The (weighted) count of rows of each true label (axis 1) predicted as each label (axis 2),
    per slot (axis 0); `labels` sorted."""

    labels: list[Label]
    counts: np.ndarray  # (slots, L, L)

    @property
    def slots(self) -> int:
        return self.counts.shape[0]

    @property
    def size(self) -> int:
        return max(1, self.counts[0].size)

    @classmethod
    def of(cls, y_true: Labels, y_pred: Labels, weights: np.ndarray | None, slot: np.ndarray | None,
           slots: int) -> Confusion:
        labels, into_true, into_pred = union(y_true.values, y_pred.values)
        size = len(labels)
        t = into_true[y_true.codes[:, 0]] if size else y_true.codes[:, 0]
        p = into_pred[y_pred.codes[:, 0]] if size else y_pred.codes[:, 0]
        cell = t * size + p
        if slot is not None:
            cell = slot * (size * size) + cell
        counts = np.bincount(cell, weights=weights, minlength=slots * size * size)
        return cls(labels, counts.astype(np.float64).reshape(slots, size, size))

    def over(self, labels: Sequence[Label]) -> np.ndarray:
        """The counts on the axes of `labels` (a superset of this tally's)."""
        where = {v: i for i, v in enumerate(labels)}
        index = np.array([where[v] for v in self.labels], dtype=np.int64)
        out = np.zeros((self.slots, len(labels), len(labels)))
        out[np.ix_(np.arange(self.slots), index, index)] = self.counts
        return out

    def __add__(self, other: Tally) -> Confusion:
        assert isinstance(other, Confusion)
        if self.labels == other.labels:
            return Confusion(self.labels, self.counts + other.counts)
        labels, _, _ = union(self.labels, other.labels)
        return Confusion(labels, self.over(labels) + other.over(labels))

    def mix(self, weights: np.ndarray) -> Confusion:
        return Confusion(self.labels, np.einsum("rs,sij->rij", weights, self.counts))


# --- weights at distinct scores ------------------------------------------------------------------


@dataclass
class ScoreCounts(Tally):
    """Per score column, the weight of each class at each distinct score, per slot.

    `classes`: the class labels of the class axis, sorted. Each column's entries are
    (slot, score, weights over classes), kept as added (`pending`) and sorted and merged by
    (slot, score) when read (`column`), or when the pending ones outgrow the merged ones.
    """

    classes: list[Label]
    slots: int
    columns: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = field(default_factory=list)

    @classmethod
    def of(cls, scores: np.ndarray, classes: Labels, weights: np.ndarray | None,
           slot: np.ndarray | None, slots: int) -> ScoreCounts:
        """Score column j counted by the class of `classes` column j (or of its only column)."""
        labels = sorted_labels(classes.values)
        where = {v: i for i, v in enumerate(labels)}
        recode = np.array([where[v] for v in classes.values], dtype=np.int64)
        n, k = scores.shape
        slot_of = np.zeros(n, dtype=np.int64) if slot is None else slot.astype(np.int64)
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
        columns = []
        for j in range(k):
            codes = recode[classes.codes[:, j if classes.codes.shape[1] > 1 else 0]] if len(labels) else \
                np.zeros(n, dtype=np.int64)
            one_hot = np.zeros((n, max(1, len(labels))))
            one_hot[np.arange(n), codes] = w
            columns.append([_merged(slot_of, scores[:, j], one_hot)])
        return cls(labels, slots, columns)

    @property
    def size(self) -> int:
        return max(1, sum(sum(len(e[1]) for e in col) for col in self.columns))

    def column(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Column j's (slot, score, weights (E, classes)), sorted by slot then score, each
        (slot, score) once."""
        entries = self.columns[j]
        if len(entries) > 1:
            entries[:] = [_merged(*(np.concatenate(a) for a in zip(*entries, strict=True)))]
        return entries[0]

    def on(self, classes: list[Label]) -> ScoreCounts:
        """The same counts on the class axis of `classes` (a superset of this tally's)."""
        if classes == self.classes:
            return self
        where = {v: i for i, v in enumerate(classes)}
        index = np.array([where[v] for v in self.classes], dtype=np.int64)
        columns = []
        for entries in self.columns:
            moved = []
            for s, x, w in entries:
                grown = np.zeros((len(x), len(classes)))
                grown[:, index] = w[:, : len(index)]
                moved.append((s, x, grown))
            columns.append(moved)
        return ScoreCounts(classes, self.slots, columns)

    def __add__(self, other: Tally) -> ScoreCounts:
        assert isinstance(other, ScoreCounts)
        if len(self.columns) != len(other.columns):
            raise DataError(f"score columns differ: {len(self.columns)} and {len(other.columns)}")
        classes = self.classes if self.classes == other.classes else union(self.classes, other.classes)[0]
        mine, theirs = self.on(classes), other.on(classes)
        columns = []
        for a, b in zip(mine.columns, theirs.columns, strict=True):
            entries = a + b
            pending = sum(len(e[1]) for e in entries[1:])
            if len(entries) > 2 and pending > len(entries[0][1]):  # amortised: merge as they double
                entries = [_merged(*(np.concatenate(x) for x in zip(*entries, strict=True)))]
            columns.append(entries)
        return ScoreCounts(classes, self.slots, columns)

    def mix(self, weights: np.ndarray) -> ScoreCounts:
        replicates = weights.shape[0]
        columns = []
        for j in range(len(self.columns)):
            s, x, w = self.column(j)
            order = np.argsort(x, kind="stable")  # every slot's entries in one order of scores
            s, x, w = s[order], x[order], w[order]
            factor = weights[:, s]  # (R, E)
            r, e = np.nonzero(factor)  # row-major: by replicate, then by score
            columns.append([_merged(r, x[e], w[e] * factor[r, e][:, None], presorted=True)])
        return ScoreCounts(self.classes, replicates, columns)


def _merged(slot: np.ndarray, score: np.ndarray, weights: np.ndarray,
            presorted: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entries sorted by (slot, score) (`presorted`: they are), the weights of equal (slot, score)
    added."""
    if len(score) == 0:
        return slot, score, weights
    if not presorted:
        # a stable sort finds runs already in order (blocks merged before): near linear
        order = np.argsort(score, kind="stable") if slot.min() == slot.max() else np.lexsort((score, slot))
        slot, score, weights = slot[order], score[order], weights[order]
    new = np.empty(len(score), dtype=bool)
    new[0] = True
    np.not_equal(score[1:], score[:-1], out=new[1:])
    new[1:] |= slot[1:] != slot[:-1]
    starts = np.flatnonzero(new)
    if len(starts) == len(score):
        return slot, score, weights
    return slot[starts], score[starts], np.add.reduceat(weights, starts, axis=0)


def slot_bounds(slot: np.ndarray, slots: int) -> np.ndarray:
    """Where each slot's entries start and end in entries sorted by slot: (slots + 1,)."""
    return np.searchsorted(slot, np.arange(slots + 1))


# --- means of per-row terms ----------------------------------------------------------------------


@dataclass
class RowSums(Tally):
    """Per slot, the weighted sum of per-row terms (one per output column) and the summed weight:
    for metrics that are a (weighted) mean of per-row terms (NDCG, LRAP, top-k accuracy)."""

    sums: np.ndarray  # (slots, m)
    weight: np.ndarray  # (slots,)

    @property
    def slots(self) -> int:
        return self.weight.shape[0]

    @property
    def size(self) -> int:
        return self.sums.shape[1] + 1

    @classmethod
    def of(cls, terms: np.ndarray, weights: np.ndarray | None, slot: np.ndarray | None,
           slots: int) -> RowSums:
        """`terms`: (n,) or (n, m) per-row terms."""
        terms = terms.reshape(len(terms), -1)
        w = np.ones(len(terms)) if weights is None else np.asarray(weights, dtype=np.float64)
        at = np.zeros(len(terms), dtype=np.int64) if slot is None else slot
        sums = np.stack([np.bincount(at, weights=terms[:, j] * w, minlength=slots)
                         for j in range(terms.shape[1])], axis=1)
        return cls(sums, np.bincount(at, weights=w, minlength=slots))

    def __add__(self, other: Tally) -> RowSums:
        assert isinstance(other, RowSums)
        return RowSums(self.sums + other.sums, self.weight + other.weight)

    def mix(self, weights: np.ndarray) -> RowSums:
        return RowSums(weights @ self.sums, weights @ self.weight)

    def means(self) -> np.ndarray:
        """(slots, m): each slot's weighted mean of each column's terms (NaN: no weight)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.weight[:, None] != 0, self.sums / self.weight[:, None], np.nan)
