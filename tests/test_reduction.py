"""Reductions: streamed partial sums equal whole-array reductions; properties that must hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossctl.losses import REGISTRY, get_loss
from lossctl.losses.evaluate import as_inputs, evaluate, loss_values
from lossctl.losses.reduction import Partial, finish, partial, reduce

# (tallied metrics stream as tallies: tests/test_classification.py)
STREAMABLE = [loss for loss in REGISTRY if not loss.batchwise and loss.tally is None and loss.example]


def _tiled(loss, times: int = 3) -> dict[str, np.ndarray]:
    rows = {role: np.asarray(values, dtype=np.float64) for role, values in loss.example.items()}
    return {role: np.concatenate([a] * times) for role, a in rows.items()}


@pytest.mark.parametrize("loss", STREAMABLE, ids=lambda loss: loss.qualified_name)
def test_chunked_partial_sums_equal_whole(loss) -> None:
    params = loss.resolve_params({}) | dict(loss.example_params)
    inputs = as_inputs(loss, _tiled(loss))
    n = len(inputs["y_pred"])
    for reduction in (r for r in loss.reductions if r != "none"):
        whole = reduce(loss, loss_values(loss, inputs, params), reduction)
        total = Partial()
        for chunk in (slice(0, 1), slice(1, n - 1), slice(n - 1, n)):
            part = {role: a[chunk] for role, a in inputs.items()}
            total = total + partial(loss, loss_values(loss, part, params))
        assert finish(loss, total, reduction) == pytest.approx(whole, rel=1e-12, abs=1e-15)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=20),
       st.randoms(use_true_random=False))
def test_row_order_does_not_change_the_mean(pairs, rnd) -> None:
    data = np.array(pairs)
    order = list(range(len(data)))
    rnd.shuffle(order)
    shuffled = data[order]
    for name in ("mse", "mae", "huber", "torch.l1_loss", "torch.smooth_l1_loss"):
        loss = get_loss(name)
        a = evaluate(loss, {"y_true": data[:, :1], "y_pred": data[:, 1:]})
        b = evaluate(loss, {"y_true": shuffled[:, :1], "y_pred": shuffled[:, 1:]})
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=20))
def test_zero_loss_at_a_perfect_prediction(values) -> None:
    y = np.array(values)[:, None]
    # Not log_cosh: Keras computes it as x + softplus(-2x) - log(2), which is -1.9e-9 at x = 0.
    for name in ("mse", "mae", "huber", "torch.mse_loss", "torch.l1_loss", "torch.huber_loss"):
        assert evaluate(get_loss(name), {"y_true": y, "y_pred": y}) == 0.0


def test_keras_sample_weights_and_divide_no_nan() -> None:
    loss = get_loss("mse")
    data = {"y_true": [[0.0], [0.0]], "y_pred": [[1.0], [2.0]]}
    weights = np.array([1.0, 3.0])
    assert evaluate(loss, data, reduction="sum", sample_weight=weights) == 13.0
    assert evaluate(loss, data, reduction="mean", sample_weight=weights) == 6.5
    assert evaluate(loss, data, reduction="mean_with_sample_weight", sample_weight=weights) == 3.25
    zero = np.zeros(2)
    assert evaluate(loss, data, reduction="mean_with_sample_weight", sample_weight=zero) == 0.0
