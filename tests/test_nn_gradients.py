"""Gradient checks by central differences (float64): activations, Dense, and every trainable loss
of the registry back-propagated through a whole network (scikit-learn's test_mlp.py::test_gradient)."""

from __future__ import annotations

import numpy as np
import pytest

from lossctl.losses import REGISTRY
from lossctl.nn import targets
from lossctl.nn.activations import ACTIVATIONS
from lossctl.nn.layers import Dense, with_ones_row
from lossctl.nn.model import MLP
from lossctl.nn.train import loss_and_grad, loss_value

H = 1e-6


def _numeric_grad(f, array: np.ndarray) -> np.ndarray:
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        old = array[index]
        array[index] = old + H
        up = f()
        array[index] = old - H
        down = f()
        array[index] = old
        grad[index] = (up - down) / (2 * H)
    return grad


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_vjp(name: str) -> None:
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4, 3)) * 2
    z[np.abs(z) < 1e-3] = 0.5  # keep away from the kinks of relu-like functions
    weights = rng.normal(size=z.shape)
    a = act.forward(z)
    analytic = act.backward(z, a, weights)
    numeric = _numeric_grad(lambda: float(np.sum(act.forward(z) * weights)), z)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


def test_dense_gradients() -> None:
    rng = np.random.default_rng(2)
    layer = Dense(4, 3, rng, dtype=np.float64)
    layer.b[...] = rng.normal(size=3)
    x = rng.normal(size=(5, 4))
    weights = rng.normal(size=(5, 3))

    def f() -> float:  # the layer works on transposes: x.T with a row of ones in, z.T out
        return float(np.sum(layer.forward(with_ones_row(x, np.float64)).T * weights))

    x1 = with_ones_row(x, np.float64)
    np.testing.assert_allclose(layer.forward(x1).T, x @ layer.W + layer.b)
    dx = layer.backward(x1, weights.T).T
    np.testing.assert_allclose(layer.dW, _numeric_grad(f, layer.W), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(layer.db, _numeric_grad(f, layer.b), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, _numeric_grad(f, x), rtol=1e-6, atol=1e-8)


def _trainable():
    cases = []
    for loss in sorted(REGISTRY, key=lambda lo: lo.qualified_name):
        extra = [i for i in loss.inputs if not i.optional and i.role not in ("y_true", "y_pred")]
        if not loss.trainable or extra:
            continue
        cases.append(pytest.param(loss, {}, id=loss.qualified_name))
        if any(p.name == "from_logits" for p in loss.params):
            cases.append(pytest.param(loss, {"from_logits": True}, id=loss.qualified_name + "-logits"))
    return cases


@pytest.mark.parametrize(("loss", "given"), _trainable())
def test_loss_through_network(loss, given) -> None:
    params = loss.resolve_params({}) | given
    if "var" in params and params["var"] is None:  # gaussian_nll_loss: a constant variance
        params["var"] = 0.5
    rng = np.random.default_rng(3)
    k, n = 3, 6
    width = targets.output_width(loss, "multiclass", k)
    model = MLP(4, (5, 4), width, "tanh", targets.output_activation(loss, params), seed=4,
                dtype="float64")
    x = rng.normal(size=(n, 4))
    y = np.array([0, 1, 2, 1, 0, 2])
    y_true = targets.y_true(loss, "multiclass", k, y, width)
    if not loss.class_index_target:  # soft targets away from 0 and 1 (MAPE, KL, log terms)
        y_true = y_true * 0.8 + 0.1

    def f() -> float:
        return loss_value(loss, params, y_true, model.forward(x))

    value, grad = loss_and_grad(loss, params, y_true, model.forward(x))
    assert np.isfinite(value)
    model.backward(grad)
    analytic = [g.copy() for g in model.gradients()]
    for param, expected in zip(model.parameters(), analytic, strict=True):
        np.testing.assert_allclose(expected, _numeric_grad(f, param), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("name", [
    "keras.mean_squared_error", "keras.mean_absolute_error", "keras.huber", "keras.log_cosh",
    "keras.mean_squared_logarithmic_error", "torch.smooth_l1_loss", "torch.poisson_nll_loss",
])
def test_regression_loss_through_the_output_transform(name: str) -> None:
    """y_pred = z * scale + shift (the standardized-target transform): d/dz = scale * d/dy_pred."""
    loss = next(lo for lo in REGISTRY if lo.qualified_name == name)
    params = loss.resolve_params({})
    rng = np.random.default_rng(5)
    scale, shift = 2.5, 7.0
    model = MLP(4, (5, 4), 1, "tanh", "linear", seed=6, dtype="float64",
                output_scale=scale, output_shift=shift)
    plain = MLP(4, (5, 4), 1, "tanh", "linear", seed=6, dtype="float64")
    x = rng.normal(size=(6, 4))
    y_true = (shift + scale * rng.normal(size=6))[:, None]
    np.testing.assert_allclose(model.forward(x), plain.forward(x) * scale + shift)

    def f() -> float:
        return loss_value(loss, params, y_true, model.forward(x))

    value, grad = loss_and_grad(loss, params, y_true, model.forward(x))
    assert np.isfinite(value)
    dx = model.backward(grad)
    analytic = [g.copy() for g in model.gradients()]
    for param, expected in zip(model.parameters(), analytic, strict=True):
        np.testing.assert_allclose(expected, _numeric_grad(f, param), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(dx, _numeric_grad(f, x), rtol=1e-4, atol=1e-7)
