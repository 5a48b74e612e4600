"""Training from logits: the one-pass value_and_grad of the registry agrees with value and grad,
and a network trained on the logits gets the gradients of the loss on its softmax/sigmoid output."""

from __future__ import annotations

import numpy as np
import pytest

from lossctl.losses import REGISTRY, get_loss
from lossctl.nn import targets
from lossctl.nn.model import MLP
from lossctl.nn.train import _loss_and_grad, on_logits

FAST = [loss for loss in REGISTRY if loss.value_and_grad is not None]


def _inputs(loss, k: int, dtype, layout: str = "C") -> dict[str, np.ndarray]:
    rng = np.random.default_rng(k)
    y_pred = rng.normal(size=(40, k)) * 3
    if loss.output_activation == "softmax":
        y_pred = np.where(y_pred > 0, y_pred, 0.01)  # positive, for the from-probabilities path
    labels = rng.integers(0, k, 40)
    y_true = targets.y_true(loss, "multiclass", k, labels, k)
    y_pred = np.asarray(y_pred, dtype=dtype, order=layout)
    return {"y_true": y_true.astype(dtype), "y_pred": y_pred}


@pytest.mark.parametrize("loss", FAST, ids=lambda loss: loss.qualified_name)
@pytest.mark.parametrize("given", [{}, {"from_logits": "true"}, {"from_logits": "true", "ignore_class": "1"}])
@pytest.mark.parametrize("k", [2, 5, 11])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_value_and_grad_agrees_with_value_and_grad(loss, given, k, dtype, layout) -> None:
    given = {key: value for key, value in given.items() if key in {p.name for p in loss.params}}
    params = loss.resolve_params(given)
    inputs = _inputs(loss, k, dtype, layout)
    lv, d = loss.value_and_grad(inputs, params)
    expected = loss.value(inputs, params)
    upstream = np.random.default_rng(0).uniform(0.5, 1.5, size=len(lv.values)).astype(dtype)
    grad = loss.grad(inputs, params, upstream)
    assert d.shape == inputs["y_pred"].shape
    assert d.dtype == dtype
    assert lv.values.dtype == expected.values.dtype
    if k < 8:  # numpy adds short rows in order either way: the same numbers
        np.testing.assert_array_equal(lv.values, expected.values)
        np.testing.assert_array_equal(upstream[:, None] * d, grad)
    else:
        np.testing.assert_allclose(lv.values, expected.values, rtol=1e-6)
        np.testing.assert_allclose(upstream[:, None] * d, grad, rtol=1e-6, atol=1e-7)
    if expected.denom is None:
        assert lv.denom is None
    else:
        np.testing.assert_array_equal(lv.denom, expected.denom)


def _model(out_activation: str, n_out: int) -> MLP:
    return MLP(3, (4,), n_out, "tanh", out_activation, seed=1, dtype="float64")


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("sparse_categorical_crossentropy", {}, True),
        ("categorical_crossentropy", {}, True),
        ("binary_crossentropy", {}, True),
        ("sparse_categorical_crossentropy", {"from_logits": "true"}, False),  # already a linear output
        ("categorical_focal_crossentropy", {}, False),  # Keras computes it from the probabilities
        ("torch.cross_entropy", {}, False),
        ("kl_divergence", {}, False),
    ],
)
def test_which_losses_train_on_logits(name: str, given: dict, expected: bool) -> None:
    loss = get_loss(name)
    params = loss.resolve_params(given)
    model = _model(targets.output_activation(loss, params), 3)
    assert on_logits(model, loss, params) is expected


@pytest.mark.parametrize(
    ("name", "n_out"),
    [("sparse_categorical_crossentropy", 3), ("categorical_crossentropy", 3), ("binary_crossentropy", 1)],
)
def test_logits_step_gives_the_gradient_of_the_loss_on_the_output(name: str, n_out: int) -> None:
    loss = get_loss(name)
    params = loss.resolve_params({})
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 3))
    labels = rng.integers(0, max(n_out, 2), 16)
    y_true = targets.y_true(loss, "multiclass" if n_out > 1 else "binary", max(n_out, 2), labels, n_out)
    model = _model(loss.output_activation, n_out)

    out = model.forward(x)
    value, grad = _loss_and_grad(loss, params, {"y_true": y_true, "y_pred": out}, None)
    model.backward(grad)
    through_output = model.flat_grad.copy()

    logits = model.forward(x, logits=True)
    logit_value, logit_grad = _loss_and_grad(
        loss, params | {"from_logits": True}, {"y_true": y_true, "y_pred": logits}, None)
    model.backward(logit_grad)

    # the same loss (the probabilities' path clips at 1e-7, far from these outputs) and gradients
    assert logit_value == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(model.flat_grad, through_output, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(model.forward(x), out)  # forward without logits is as before
