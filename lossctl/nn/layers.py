"""A fully connected layer with its own weights, gradients and initialisation."""

from __future__ import annotations

from typing import Literal

import numpy as np

Init = Literal["he_uniform", "glorot_uniform"]


class Dense:
    """y = x @ W + b, with W of shape (n_in, n_out).

    Initialisation draws from a seeded numpy Generator: He uniform (limit sqrt(6 / n_in), for
    ReLU-like activations) or Glorot uniform (limit sqrt(6 / (n_in + n_out)), Keras's default);
    biases start at zero. `forward` keeps its input for `backward`, which fills `dW` and `db`.
    """

    def __init__(
        self, n_in: int, n_out: int, rng: np.random.Generator, init: Init = "glorot_uniform",
        dtype: np.dtype | type = np.float32,
    ) -> None:
        self.n_in, self.n_out, self.init = n_in, n_out, init
        fan = n_in if init == "he_uniform" else n_in + n_out
        limit = np.sqrt(6.0 / fan)
        self.W = rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)
        self.b = np.zeros(n_out, dtype=dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self._x: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return x @ self.W + self.b

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """Store dW, db for the last forward input; return d(loss)/d(input)."""
        assert self._x is not None, "backward before forward"
        self.dW[...] = self._x.T @ grad_out
        self.db[...] = grad_out.sum(axis=0)
        return grad_out @ self.W.T

    def parameters(self) -> list[np.ndarray]:
        return [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        return [self.dW, self.db]

    @property
    def n_params(self) -> int:
        return self.W.size + self.b.size

    def __repr__(self) -> str:
        return f"Dense({self.n_in} -> {self.n_out})"
