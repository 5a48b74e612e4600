"""How a task meets a loss: output width, output activation, y_true layout, probabilities.

* regression: one output; y_true is the target value.
* a class-index loss (sparse categorical crossentropy, torch cross_entropy, ...): one output per
  class; y_true is the class index column.
* binary with a sigmoid or linear loss (binary crossentropy, hinge, mse): one output; y_true is
  0/1 (the index of the class).
* otherwise one output per class; y_true is one-hot.

Regression with a linear output standardizes the target through a fixed output transform of
the model, y_pred = z * scale + shift, with the std (1 if it is 0) and mean of the training
targets: the network learns a target of mean 0 and std 1, while y_pred, the loss and every
prediction stay in the target's units.

The output activation is the loss's (`loss.output_activation`), linear when from_logits=True.
Class probabilities come from the output: as is after softmax, renormalised after a per-class
sigmoid, through softmax (or sigmoid for one output) after a linear output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lossctl.losses.numeric import sigmoid, softmax
from lossctl.losses.registry import Loss
from lossctl.nn.data import mean_std


def output_activation(loss: Loss, params: Mapping[str, Any]) -> str:
    return "linear" if params.get("from_logits") else loss.output_activation


def output_width(loss: Loss, task: str, n_classes: int) -> int:
    if task == "regression":
        return 1
    if loss.class_index_target or loss.output_activation == "softmax":
        return n_classes
    return 1 if task == "binary" else n_classes


def output_transform(task: str, activation: str, y_train: np.ndarray) -> tuple[float, float]:
    """(scale, shift) of the model's output transform: the training targets' std and mean for
    regression with a linear output, else the identity (1, 0)."""
    if task != "regression" or activation != "linear" or len(y_train) == 0:
        return 1.0, 0.0
    mean, std = mean_std(np.asarray(y_train, dtype=np.float64))
    return (std if std > 0 else 1.0), mean


def y_true(loss: Loss, task: str, n_classes: int, y: np.ndarray, width: int) -> np.ndarray:
    """The y_true array `loss` takes, from target values or class indices `y`."""
    if task == "regression" or loss.class_index_target or width == 1:
        values = np.asarray(y, dtype=np.float64)[:, None]
    else:
        values = np.zeros((len(y), n_classes), dtype=np.float64)
        values[np.arange(len(y)), y] = 1.0
    if task != "regression" and loss.signed_target:
        values = 2.0 * values - 1.0  # classes 0 / 1 as -1 / +1
    return values


def probabilities(out: np.ndarray, activation: str) -> np.ndarray:
    """(n, k) class probabilities, float64, from the network output."""
    out = np.asarray(out, dtype=np.float64)
    if out.shape[1] == 1:
        p1 = out if activation == "sigmoid" else sigmoid(out)
        p1 = np.clip(p1, 0.0, 1.0)
        return np.hstack([1.0 - p1, p1])
    if activation == "softmax":
        return out
    if activation == "sigmoid":
        total = out.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, out / np.where(total > 0, total, 1.0), 1.0 / out.shape[1])
    return softmax(out)


def metric_inputs(
    metric: Loss, task: str, y: np.ndarray, out: np.ndarray, activation: str,
) -> dict[str, np.ndarray]:
    """y_true and y_pred for a metric loss: computed on what `predict` writes.

    Classification: the class probabilities (for a binary metric that takes one column, p_1
    alone); regression: the output itself.
    """
    if task == "regression":
        return {"y_true": np.asarray(y, dtype=np.float64)[:, None],
                "y_pred": np.asarray(out, dtype=np.float64)}
    probs = probabilities(out, activation)
    k = probs.shape[1]
    width = output_width(metric, task, k)
    y_pred = probs if width == k else probs[:, 1:]
    return {"y_true": y_true(metric, task, k, y, width), "y_pred": y_pred}


def predicted_index(out: np.ndarray, activation: str) -> np.ndarray:
    """The predicted class index of each row (ties go to the lower index)."""
    if out.shape[1] == 1:
        threshold = 0.5 if activation == "sigmoid" else 0.0
        return (np.asarray(out)[:, 0] > threshold).astype(np.int64)
    return np.argmax(out, axis=1).astype(np.int64, copy=False)
