"""A plain numpy float32 reference loop on the shared job: relu MLP, softmax crossentropy, Adam.

Adam follows Keras's formula (bias correction folded into the step size, epsilon 1e-7).
"""

from __future__ import annotations

import time
from itertools import pairwise

import numpy as np
from mlpjob import Job, parse_job, report

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7


class Adam:
    def __init__(self, params: list[np.ndarray], lr: float) -> None:
        self.params, self.lr, self.step = params, lr, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def update(self, grads: list[np.ndarray]) -> None:
        self.step += 1
        lr = self.lr * (1 - BETA_2**self.step) ** 0.5 / (1 - BETA_1**self.step)  # a Python float
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m += (1 - BETA_1) * (g - m)
            v += (1 - BETA_2) * (g * g - v)
            p -= lr * m / (np.sqrt(v) + EPSILON)


def init(job: Job, rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    sizes = [job.x_train.shape[1], *job.hidden, job.classes]
    weights = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32) for a, b in pairwise(sizes)]
    return weights, [np.zeros(b, dtype=np.float32) for b in sizes[1:]]


def gradients(
    weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray, y: np.ndarray
) -> list[np.ndarray]:
    """Gradients of the mean crossentropy, weights first, then biases."""
    acts = [x]
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        acts.append(np.maximum(acts[-1] @ w + b, 0))
    logits = acts[-1] @ weights[-1] + biases[-1]
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    probs[np.arange(len(y)), y] -= 1
    delta = probs / len(y)
    grad_w, grad_b = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        grad_w[i], grad_b[i] = acts[i].T @ delta, delta.sum(axis=0)
        if i:
            delta = (delta @ weights[i].T) * (acts[i] > 0)
    return grad_w + grad_b


def predict(weights: list[np.ndarray], biases: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        x = np.maximum(x @ w + b, 0)
    return np.argmax(x @ weights[-1] + biases[-1], axis=1)


def main() -> None:
    job = parse_job(__doc__)
    rng = np.random.default_rng(job.seed)
    weights, biases = init(job, rng)
    optimizer = Adam(weights + biases, job.lr)
    epoch_seconds, accuracy = [], 0.0
    for _ in range(job.epochs):
        started = time.perf_counter()
        order = rng.permutation(len(job.x_train))
        for start in range(0, len(order), job.batch_size):
            rows = order[start : start + job.batch_size]
            optimizer.update(gradients(weights, biases, job.x_train[rows], job.y_train[rows]))
        accuracy = float(np.mean(predict(weights, biases, job.x_val) == job.y_val))
        epoch_seconds.append(time.perf_counter() - started)
    report(epoch_seconds, accuracy)


if __name__ == "__main__":
    main()
