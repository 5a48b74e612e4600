"""Connectionist Temporal Classification (Graves et al., 2006) for Keras's `ctc` and torch's
`ctc_loss`: the CSV layout, and the forward-backward recursions in log space.

One sequence per CSV row:

* y_pred: T x C columns, time-major: column t * C + c holds frame t's score of class c (torch:
  log-probabilities; Keras: logits). `-p classes=C` says how to cut the row into frames.
* y_true: the label sequence, one class index per column, padded after its last label with the
  blank (torch: `blank`, 0 by default; Keras: always 0).
* lengths: a row's number of labels is its count of labels before the padding, and its number of
  frames is T, unless given as `input_length` / `target_length` columns or parameters (torch).

`ctc` returns -log p(labels | frames) per row and the posterior of each (frame, class): the
probability that a path through the labels emits that class at that frame.
"""

from __future__ import annotations

import numpy as np

from lossctl.errors import InputValueError, UsageError

NEG = -np.inf


def frames(y_pred: np.ndarray, classes: int | None, loss: str) -> np.ndarray:
    """The (n, T*C) y_pred as (n, T, C)."""
    if classes is None:
        raise UsageError(f"{loss} needs -p classes=C: y_pred holds T x C columns, frame by frame")
    width = y_pred.shape[1]
    if classes < 2 or width % classes:
        raise UsageError(
            f"{loss}: y_pred has {width} column(s), not a whole number of frames of "
            f"classes={classes} (columns t*C + c, C >= 2)"
        )
    return y_pred.reshape(y_pred.shape[0], width // classes, classes)


def labels(
    y_true: np.ndarray, classes: int, blank: int, lengths: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The label columns as int64 and each row's number of labels.

    Without `lengths`, a row's labels are those before its padding, and the padding (blanks)
    must run to the end of the row. Labels must be class indices other than the blank.
    """
    not_int = y_true != np.rint(y_true)
    if not_int.any():
        row, col = np.argwhere(not_int)[0]
        raise InputValueError(f"label {y_true[row, col]!r} is not a class index", row=int(row),
                              role="y_true", column=int(col))
    as_int = y_true.astype(np.int64)
    is_blank = as_int == blank
    if lengths is None:
        lengths = (~is_blank).sum(axis=1)
        late = ~is_blank & (np.arange(as_int.shape[1])[None, :] >= lengths[:, None])
        if late.any():
            row, col = np.argwhere(late)[0]
            raise InputValueError(
                f"label {as_int[row, col]} follows a blank: pad each row's labels with the blank "
                f"({blank}) after the last one", row=int(row), role="y_true", column=int(col),
            )
    counted = np.arange(as_int.shape[1])[None, :] < lengths[:, None]
    bad = counted & ((as_int < 0) | (as_int >= classes) | is_blank)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputValueError(
            f"label {as_int[row, col]} is not a class index in 0..{classes - 1} other than the "
            f"blank ({blank})", row=int(row), role="y_true", column=int(col),
        )
    return np.where(counted, as_int, blank), lengths


def lengths(
    column: np.ndarray | None, constant: int | None, role: str, low: int, high: int, loss: str
) -> np.ndarray | None:
    """A length per row from its column or parameter (not both), checked to lie in [low, high]."""
    if column is not None and constant is not None:
        raise UsageError(f"{loss}: give {role} as a column or as -p {role}=N, not both")
    if column is None and constant is None:
        return None
    values = column[:, 0] if column is not None else np.full(1, float(constant))
    bad = (values != np.rint(values)) | (values < low) | (values > high)
    if bad.any():
        row = int(np.argmax(bad))
        message = f"{role} {float(values[row])!r} is not a whole number in {low}..{high}"
        if column is None:
            raise UsageError(f"{loss}: {message}")
        raise InputValueError(message, row=row, role=role, column=0)
    return np.broadcast_to(values.astype(np.int64), (len(column) if column is not None else 1,))


def _lse(*terms: np.ndarray) -> np.ndarray:
    """log(sum(exp(terms))) elementwise, -inf where every term is -inf."""
    top = np.maximum.reduce(terms)
    safe = np.where(np.isfinite(top), top, 0.0)
    total = sum(np.exp(term - safe) for term in terms)
    return np.where(np.isfinite(top), safe + np.log(np.where(np.isfinite(top), total, 1.0)), top)


def _shift(x: np.ndarray, by: int) -> np.ndarray:
    """x[..., s - by] at s (-inf before the start)."""
    out = np.full_like(x, NEG)
    out[..., by:] = x[..., :-by]
    return out


def _unshift(x: np.ndarray, by: int) -> np.ndarray:
    """x[..., s + by] at s (-inf past the end)."""
    out = np.full_like(x, NEG)
    out[..., :-by] = x[..., by:]
    return out


def ctc(
    log_probs: np.ndarray, targets: np.ndarray, target_lengths: np.ndarray,
    input_lengths: np.ndarray, blank: int,
) -> tuple[np.ndarray, np.ndarray]:
    """-log p(targets | log_probs) per row (inf where no path fits), and the posterior (n, T, C)
    of each frame's class (0 at frames past the row's input length; nan where the loss is inf).

    log_probs (n, T, C), targets (n, S) padded, target_lengths and input_lengths (n,).
    """
    n, steps, _ = log_probs.shape
    width = 2 * targets.shape[1] + 1
    ext = np.full((n, width), blank, dtype=np.int64)  # blank, l1, blank, l2, ..., blank
    ext[:, 1::2] = targets
    used = np.arange(width)[None, :] < (2 * target_lengths + 1)[:, None]
    skip = np.zeros((n, width), dtype=bool)  # s may be reached from s - 2
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    emit = np.take_along_axis(log_probs, np.broadcast_to(ext[:, None, :], (n, steps, width)), axis=2)
    emit = np.where(used[:, None, :], emit, NEG)
    rows = np.arange(n)

    alpha = np.full((n, steps, width), NEG)
    alpha[:, 0, :2] = emit[:, 0, :2]
    for t in range(1, steps):
        prev = alpha[:, t - 1]
        reach = _lse(prev, _shift(prev, 1), np.where(skip, _shift(prev, 2), NEG))
        alpha[:, t] = np.where((t < input_lengths)[:, None], emit[:, t] + reach, NEG)
    last = alpha[rows, input_lengths - 1]
    end = 2 * target_lengths
    before_end = np.where(target_lengths > 0, last[rows, np.maximum(end - 1, 0)], NEG)
    nll = -_lse(last[rows, end], before_end)

    beta = np.full((n, steps, width), NEG)
    skip_back = _unshift(skip, 2) if width > 2 else np.zeros_like(skip)  # s + 2 may follow s
    start = np.full((n, width), NEG)  # a path ends on the last label or the blank after it
    start[rows, end] = 0.0
    labelled = target_lengths > 0
    start[rows[labelled], end[labelled] - 1] = 0.0
    for t in range(steps - 1, -1, -1):
        if t == steps - 1:
            after = np.full((n, width), NEG)
        else:
            nxt = beta[:, t + 1]
            after = _lse(nxt, _unshift(nxt, 1), np.where(skip_back, _unshift(nxt, 2), NEG))
        after = np.where((t == input_lengths - 1)[:, None], start, after)
        beta[:, t] = np.where((t < input_lengths)[:, None], emit[:, t] + after, NEG)

    with np.errstate(invalid="ignore"):
        path = np.exp(alpha + beta - emit + nll[:, None, None])  # share of paths through (t, s)
    path = np.nan_to_num(path, nan=0.0)
    posterior = np.zeros_like(log_probs)
    index = np.broadcast_to(ext[:, None, :], path.shape)
    np.add.at(posterior, (rows[:, None, None], np.arange(steps)[None, :, None], index), path)
    return nll, np.where(np.isfinite(nll)[:, None, None], posterior, np.nan)
