"""Optimizers as small classes that update parameter arrays in place.

Formulas and default hyper-parameters are Keras 3's (`keras/src/optimizers/*.py`), the tutorial
this trainer reproduces. Weight decay is decoupled, as every Keras 3 optimizer applies it:
`w -= lr * weight_decay * w` before the step (AdamW's default weight_decay is 0.004).

    sgd       w -= lr * g
    momentum  v = m * v - lr * g;  w += v                              (m = 0.9)
    nesterov  v = m * v - lr * g;  w += m * v - lr * g                 (m = 0.9)
    rmsprop   s = rho * s + (1 - rho) * g^2;  w -= lr * g / (sqrt(s) + eps)   (rho = 0.9)
    adam      m += (1 - b1) * (g - m);  v += (1 - b2) * (g^2 - v)
              w -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)     (b1 = 0.9, b2 = 0.999)
    adamw     adam with weight_decay 0.004 by default

eps = 1e-7 (Keras) throughout.

An optimizer takes any list of arrays. The trainer gives it one: the model's flat parameter
buffer (`MLP.flat`, with `MLP.flat_grad`), so a step is a handful of vectorized in-place
operations on one array, with preallocated scratch space, whatever the number of layers.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np

from lossctl.errors import UnknownNameError

EPSILON = 1e-7


class Optimizer:
    """Base class: holds the parameters, the learning rate and the weight decay."""

    name = "optimizer"
    default_lr = 0.01
    default_weight_decay = 0.0

    def __init__(
        self, params: Sequence[np.ndarray], lr: float | None = None,
        weight_decay: float | None = None,
    ) -> None:
        self.params = list(params)
        self.lr = self.default_lr if lr is None else float(lr)
        self.weight_decay = self.default_weight_decay if weight_decay is None else float(weight_decay)
        self.iterations = 0
        self._scratch = [np.empty_like(p) for p in self.params]

    def update(self, grads: Sequence[np.ndarray]) -> None:
        """One step: every parameter moves in place against its gradient."""
        self.iterations += 1
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if self.weight_decay:
                tmp = self._scratch[i]
                np.multiply(p, p.dtype.type(self.lr * self.weight_decay), out=tmp)
                p -= tmp
            self._step(i, p, g)

    def _step(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, weight_decay={self.weight_decay:g})"


class SGD(Optimizer):
    name = "sgd"

    def _step(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        tmp = self._scratch[i]
        np.multiply(g, p.dtype.type(self.lr), out=tmp)
        p -= tmp


class Momentum(Optimizer):
    name = "momentum"
    nesterov = False

    def __init__(self, params, lr=None, weight_decay=None, momentum: float = 0.9) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = momentum
        self.velocity = [np.zeros_like(p) for p in self.params]
        self._look = [np.empty_like(p) for p in self.params] if self.nesterov else []

    def _step(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        m, lr = p.dtype.type(self.momentum), p.dtype.type(self.lr)
        v, lr_g = self.velocity[i], self._scratch[i]
        np.multiply(g, lr, out=lr_g)
        v *= m
        v -= lr_g
        if self.nesterov:  # p += m * v - lr * g
            np.subtract(np.multiply(v, m, out=self._look[i]), lr_g, out=self._look[i])
            p += self._look[i]
        else:
            p += v


class Nesterov(Momentum):
    name = "nesterov"
    nesterov = True


class RMSprop(Optimizer):
    name = "rmsprop"
    default_lr = 0.001

    def __init__(self, params, lr=None, weight_decay=None, rho: float = 0.9,
                 epsilon: float = EPSILON) -> None:
        super().__init__(params, lr, weight_decay)
        self.rho, self.epsilon = rho, epsilon
        self.square = [np.zeros_like(p) for p in self.params]
        self._num = [np.empty_like(p) for p in self.params]

    def _step(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        t = p.dtype.type
        s, tmp = self.square[i], self._scratch[i]
        s *= t(self.rho)
        np.multiply(g, t(1 - self.rho), out=tmp)
        tmp *= g
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += t(self.epsilon)
        np.divide(np.multiply(g, t(self.lr), out=self._num[i]), tmp, out=tmp)
        p -= tmp


class Adam(Optimizer):
    name = "adam"
    default_lr = 0.001

    def __init__(self, params, lr=None, weight_decay=None, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = EPSILON) -> None:
        super().__init__(params, lr, weight_decay)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self._num = [np.empty_like(p) for p in self.params]

    def _step(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        t = p.dtype.type
        step = self.iterations
        alpha = self.lr * np.sqrt(1 - self.beta_2**step) / (1 - self.beta_1**step)
        m, v, tmp, num = self.m[i], self.v[i], self._scratch[i], self._num[i]
        np.subtract(g, m, out=tmp)  # m += (1 - b1) * (g - m)
        tmp *= t(1 - self.beta_1)
        m += tmp
        np.multiply(g, g, out=tmp)  # v += (1 - b2) * (g * g - v)
        tmp -= v
        tmp *= t(1 - self.beta_2)
        v += tmp
        np.sqrt(v, out=tmp)  # p -= alpha * m / (sqrt(v) + eps)
        tmp += t(self.epsilon)
        np.multiply(m, t(alpha), out=num)
        num /= tmp
        p -= num


class AdamW(Adam):
    name = "adamw"
    default_weight_decay = 0.004


OPTIMIZERS: dict[str, type[Optimizer]] = {
    c.name: c for c in (SGD, Momentum, Nesterov, RMSprop, Adam, AdamW)
}


def make_optimizer(
    name: str, params: Sequence[np.ndarray], lr: float | None = None,
    weight_decay: float | None = None,
) -> Optimizer:
    """The optimizer called `name` over `params`; None takes the Keras default."""
    try:
        cls = OPTIMIZERS[name]
    except KeyError:
        near = difflib.get_close_matches(name, OPTIMIZERS, n=3, cutoff=0.5)
        raise UnknownNameError("optimizer", name, near) from None
    return cls(params, lr=lr, weight_decay=weight_decay)
