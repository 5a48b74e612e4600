"""A multi-layer perceptron: Dense layers with one hidden activation and one output activation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lossctl.nn.activations import Activation, get_activation
from lossctl.nn.layers import Dense

_HE = {"relu", "leaky_relu", "elu", "gelu"}


class MLP:
    """n_in -> hidden... -> n_out, then a fixed output transform.

    `forward(x)` returns the loss's y_pred: the output after the output activation, mapped by
    `y_pred = out * output_scale + output_shift` (identity by default; for regression the
    trainer sets the std and mean of the training targets, so the network learns a standardized
    target while y_pred stays in the target's units). It keeps what `backward` needs;
    `backward(grad_y_pred)` fills every layer's gradients (through the transform: d/d(out) =
    output_scale * d/d(y_pred)). The transform is not trained.
    """

    def __init__(
        self, n_in: int, hidden: Sequence[int], n_out: int, activation: str = "relu",
        output_activation: str = "linear", seed: int = 0, dtype: str = "float32",
        output_scale: float = 1.0, output_shift: float = 0.0,
    ) -> None:
        self.n_in, self.hidden, self.n_out = n_in, tuple(hidden), n_out
        self.output_scale, self.output_shift = float(output_scale), float(output_shift)
        self.dtype = np.dtype(dtype)
        self.activation: Activation = get_activation(activation)
        self.output_activation: Activation = get_activation(output_activation)
        rng = np.random.default_rng(seed)
        sizes = [n_in, *self.hidden, n_out]
        self.layers = [
            Dense(a, b, rng, "he_uniform" if (i < len(sizes) - 2 and activation in _HE)
                  else "glorot_uniform", self.dtype)
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        ]
        self._cache: list[tuple[np.ndarray, np.ndarray]] = []  # (z, a) per layer

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y_pred for inputs x of shape (n, n_in)."""
        a = np.asarray(x, dtype=self.dtype)
        self._cache = []
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            z = layer.forward(a)
            act = self.output_activation if i == last else self.activation
            a = act.forward(z)
            self._cache.append((z, a))
        if self.has_output_transform:
            a = a * self.dtype.type(self.output_scale) + self.dtype.type(self.output_shift)
        return a

    def backward(self, grad_y_pred: np.ndarray) -> np.ndarray:
        """Back-propagate d(loss)/d(y_pred); returns d(loss)/d(x)."""
        g = np.asarray(grad_y_pred, dtype=self.dtype)
        if self.has_output_transform:
            g = g * self.dtype.type(self.output_scale)
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            z, a = self._cache[i]
            act = self.output_activation if i == last else self.activation
            g = self.layers[i].backward(act.backward(z, a, g))
        return g

    def parameters(self) -> list[np.ndarray]:
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self) -> list[np.ndarray]:
        return [g for layer in self.layers for g in layer.gradients()]

    def get_weights(self) -> list[np.ndarray]:
        return [p.copy() for p in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        params = self.parameters()
        if len(weights) != len(params):
            raise ValueError(f"expected {len(params)} arrays, got {len(weights)}")
        for p, w in zip(params, weights, strict=True):
            if p.shape != w.shape:
                raise ValueError(f"weight of shape {w.shape} for a parameter of shape {p.shape}")
            p[...] = w

    @property
    def has_output_transform(self) -> bool:
        return (self.output_scale, self.output_shift) != (1.0, 0.0)

    @property
    def n_params(self) -> int:
        return sum(layer.n_params for layer in self.layers)

    def __repr__(self) -> str:
        parts = [str(self.n_in)]
        parts += [f"{h} {self.activation.name}" for h in self.hidden]
        parts.append(f"{self.n_out} {self.output_activation.name}")
        if self.has_output_transform:
            parts[-1] += f" * {self.output_scale:.4g} + {self.output_shift:.4g}"
        return f"MLP({' -> '.join(parts)}; {self.n_params} parameters, {self.dtype})"
