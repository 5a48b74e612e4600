"""Numerically stable building blocks shared by the loss families, and input domain checks."""

from __future__ import annotations

import numpy as np

from lossctl.errors import InputValueError


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(x)) along the last axis, computed as x - logsumexp(x)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def neg_log_softmax_at(logits: np.ndarray, labels: np.ndarray, scratch: bool = False) -> np.ndarray:
    """-log_softmax(logits)[i, labels[i]] per row, rounded exactly as `log_softmax` then picking.

    Picks before exponentiating, so only one (n, k) temporary is made; with `scratch` the logits
    array itself is overwritten instead.
    """
    shifted = np.subtract(logits, logits.max(axis=-1, keepdims=True), out=logits if scratch else None)
    picked = shifted[np.arange(shifted.shape[0]), labels]
    return np.log(np.exp(shifted, out=shifted).sum(axis=-1)) - picked


def softmax_crossentropy(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(-log_softmax(logits)[i, labels[i]] per row, softmax(logits) - onehot(labels)) in one
    pass: the crossentropy of class indices from logits and its derivative, rounded as
    `neg_log_softmax_at` and `softmax` round them (bit for bit below 8 columns).

    It works on the transpose, (k, n) in memory: numpy reduces the k rows of that whole, several
    times faster than the n short rows of (n, k); the labels' entries are found by their flat
    positions in it. The derivative comes back as an (n, k) view of a fresh (k, n) array.
    """
    n = logits.shape[0]
    shifted = np.array(logits.T, order="C")
    shifted -= shifted.max(axis=0)
    at = labels * n
    at += np.arange(n)
    flat = shifted.reshape(-1)
    picked = flat[at]
    np.exp(shifted, out=shifted)
    total = shifted.sum(axis=0)
    shifted /= total
    flat[at] -= 1
    return np.log(total) - picked, shifted.T


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log(1 / (1 + exp(-x))) without overflow: min(x, 0) - log1p(exp(-|x|))."""
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)) without overflow."""
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def first_bad(mask: np.ndarray) -> tuple[int, int]:
    """(row, column) of the first True in a 1-d or 2-d mask."""
    index = np.argwhere(mask)[0]
    return int(index[0]), int(index[1]) if index.size > 1 else 0


def check_probability(values: np.ndarray, role: str, what: str = "a probability") -> None:
    """Raise unless every value lies in [0, 1] (torch's requirement for binary_cross_entropy)."""
    bad = ~((values >= 0.0) & (values <= 1.0))
    if bad.any():
        row, col = first_bad(bad)
        value = values[row, col] if values.ndim == 2 else values[row]
        raise InputValueError(
            f"{role} value {float(value)!r} is not {what} (must lie in [0, 1])",
            row=row, role=role, column=col,
        )


def class_indices(
    labels: np.ndarray, n_classes: int, role: str = "y_true", ignore: int | None = None
) -> np.ndarray:
    """Validate a column of class indices in [0, n_classes) (or == ignore) and return them as int64."""
    flat = labels.reshape(labels.shape[0], -1)[:, 0] if labels.ndim > 1 else labels
    not_int = flat != np.rint(flat)  # np.round without its Python wrapper
    if not_int.any():
        row = int(np.argmax(not_int))
        raise InputValueError(
            f"{role} value {float(flat[row])!r} is not a class index (an integer)",
            row=row, role=role, column=0,
        )
    as_int = flat.astype(np.int64)
    if ignore is None and as_int.size and as_int.min() >= 0 and as_int.max() < n_classes:
        return as_int  # the usual case, in two reductions
    out_of_range = (as_int < 0) | (as_int >= n_classes)
    if ignore is not None:
        out_of_range &= as_int != ignore
    if out_of_range.any():
        row = int(np.argmax(out_of_range))
        raise InputValueError(
            f"{role} class index {as_int[row]} is out of range for {n_classes} classes "
            f"(0..{n_classes - 1})",
            row=row, role=role, column=0,
        )
    return as_int
