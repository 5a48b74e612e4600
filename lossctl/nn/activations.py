"""Activation functions with their derivatives, written from the activation's output where possible.

Each activation is a small object: `forward(z)` gives `a`, and `backward(z, a, grad_a)` gives
d(loss)/dz from d(loss)/da (the vector-Jacobian product). For the elementwise ones that is
`grad_a * f'(z)` with f' written from `a` (scikit-learn `_base.py` style); softmax, whose Jacobian
is full, uses `a * (grad_a - sum(grad_a * a))` per row.

GELU is the tanh approximation (Keras `gelu(approximate=True)`, torch `approximate="tanh"`):
numpy has no vectorised erf, and the approximation differs from the exact form by < 1e-3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lossctl.errors import UnknownNameError
from lossctl.losses.numeric import sigmoid as _sigmoid
from lossctl.losses.numeric import softmax as _softmax
from lossctl.losses.numeric import softplus as _softplus

LEAKY_SLOPE = 0.01  # torch's negative_slope (Keras 3 leaky_relu uses 0.2)
ELU_ALPHA = 1.0  # Keras and torch
_GELU_C = np.sqrt(2.0 / np.pi)


@dataclass(frozen=True)
class Activation:
    """One activation: its name, forward function and vector-Jacobian product."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (z, a, grad_a) -> grad_z
    # Optional in-place pair for activations whose derivative needs only `a`: `forward_inplace(z)`
    # overwrites z with a; `backward_inplace(a, grad_a)` overwrites grad_a with grad_z.
    forward_inplace: Callable[[np.ndarray], np.ndarray] | None = None
    backward_inplace: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    # Optional, preferred to the pair above: `forward_slope(z)` overwrites z with a and returns
    # f'(z) as an array of z's dtype, so that backward is one product, grad_z = grad_a * slope.
    forward_slope: Callable[[np.ndarray], np.ndarray] | None = None

    def __repr__(self) -> str:
        return self.name


def _linear_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)


def _relu_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * (a > 0)


# In place, z * (z > 0) is faster than np.maximum(z, 0) on float32 (the same numbers but for the
# sign of a zero; NaN stays NaN). A masked copy of 0 (np.copyto(..., where=)) looks faster on data
# that is already non-negative, but its unpredictable branches make it ~6x slower on real data.
# The mask is kept as floats: a product with a boolean array casts it on the fly, which made
# g * (a > 0) 13 us on (256, 64) float32, against 4 us for g * slope (one 2-core x86 machine).


def _relu_inplace(z: np.ndarray) -> np.ndarray:
    return np.multiply(z, z > 0, out=z)


def _relu_back_inplace(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return np.multiply(g, a > 0, out=g)


def _relu_slope(z: np.ndarray) -> np.ndarray:
    slope = (z > 0).astype(z.dtype)
    np.multiply(z, slope, out=z)
    return slope


def _tanh_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * (1 - a * a)


def _tanh_inplace(z: np.ndarray) -> np.ndarray:
    return np.tanh(z, out=z)


def _tanh_back_inplace(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    d = a * a
    np.subtract(1, d, out=d)
    return np.multiply(g, d, out=g)


def _sigmoid_fwd(z: np.ndarray) -> np.ndarray:
    return _sigmoid(z).astype(z.dtype, copy=False)


def _sigmoid_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * a * (1 - a)


def _leaky(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, z * z.dtype.type(LEAKY_SLOPE))


def _leaky_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g * np.where(a > 0, 1, a.dtype.type(LEAKY_SLOPE)).astype(g.dtype, copy=False)


def _elu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, ELU_ALPHA * np.expm1(np.minimum(z, 0))).astype(z.dtype, copy=False)


def _elu_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    # for z <= 0: d/dz alpha*(e^z - 1) = alpha*e^z = a + alpha
    return g * np.where(z > 0, 1, a + ELU_ALPHA).astype(g.dtype, copy=False)


def _gelu(z: np.ndarray) -> np.ndarray:
    return (0.5 * z * (1 + np.tanh(_GELU_C * (z + 0.044715 * z**3)))).astype(z.dtype, copy=False)


def _gelu_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    t = np.tanh(_GELU_C * (z + 0.044715 * z**3))
    d = 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _GELU_C * (1 + 3 * 0.044715 * z * z)
    return (g * d).astype(g.dtype, copy=False)


def _softplus_fwd(z: np.ndarray) -> np.ndarray:
    return _softplus(z).astype(z.dtype, copy=False)


def _softplus_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    # softplus' = sigmoid(z) = 1 - exp(-a)
    return g * -np.expm1(-a)


# Softmax works on the transpose, (k, n) in memory: numpy reduces the short rows of an (n, k) array
# one row at a time, but the k rows of its transpose as whole vectors, several times faster for
# the few classes of a classifier. The same operations as numeric.softmax, so the same numbers
# (bit for bit below 8 classes, where numpy adds a row in order; within an ulp or two above). The
# result is the Fortran-ordered (n, k) view, which the loss and the layer below take as they are
# (their own row reductions are the fast kind on it too).


def _softmax_fwd(z: np.ndarray) -> np.ndarray:
    if z.ndim != 2:
        return _softmax(z).astype(z.dtype, copy=False)
    t = z.T.copy()
    t -= t.max(axis=0)
    np.exp(t, out=t)
    t /= t.sum(axis=0)
    return t.T


def _softmax_back(z: np.ndarray, a: np.ndarray, g: np.ndarray) -> np.ndarray:
    if a.ndim != 2:
        return a * (g - (g * a).sum(axis=-1, keepdims=True))
    at, gt = a.T, g.T.copy()
    gt -= (gt * at).sum(axis=0)
    gt *= at
    return gt.T


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("linear", lambda z: z, _linear_back, lambda z: z, lambda a, g: g),
        Activation("relu", _relu, _relu_back, _relu_inplace, _relu_back_inplace, _relu_slope),
        Activation("tanh", np.tanh, _tanh_back, _tanh_inplace, _tanh_back_inplace),
        Activation("sigmoid", _sigmoid_fwd, _sigmoid_back),
        Activation("leaky_relu", _leaky, _leaky_back),
        Activation("elu", _elu, _elu_back),
        Activation("gelu", _gelu, _gelu_back),
        Activation("softplus", _softplus_fwd, _softplus_back),
        Activation("softmax", _softmax_fwd, _softmax_back),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called `name`, or UnknownNameError with the nearest names."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        import difflib

        near = difflib.get_close_matches(name, ACTIVATIONS, n=3, cutoff=0.5)
        raise UnknownNameError("activation", name, near) from None
