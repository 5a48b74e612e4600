"""The fast paths of training give the numbers of the plain ones: the flat parameter buffer and its
views, optimizers stepping on it, float32 steps, the transposed softmax, blocked weight gradients,
the BLAS thread limit, and Keras-style training metrics."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from lossctl.losses import get_loss
from lossctl.losses.numeric import softmax
from lossctl.nn import blas, build_model, fit, load_training, resolve_metrics
from lossctl.nn.activations import ACTIVATIONS
from lossctl.nn.layers import TN_CHUNK, Dense, with_ones_row
from lossctl.nn.model import ALIGN, MLP
from lossctl.nn.optimizers import OPTIMIZERS, make_optimizer
from lossctl.nn.train import loss_and_grad, loss_value, predict_raw

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def _model(dtype: str = "float64") -> MLP:
    return MLP(3, (5, 4), 2, "relu", "softmax", seed=3, dtype=dtype)


def test_layer_arrays_are_views_of_the_flat_buffers() -> None:
    model = _model()
    offset = 0
    for layer in model.layers:  # W, then b as the last row of the same block; blocks aligned
        for p, g in ((layer.W, layer.dW), (layer.b, layer.db)):
            assert np.shares_memory(p, model.flat)
            assert np.shares_memory(g, model.flat_grad)
            assert p.ctypes.data == model.flat.ctypes.data + offset * model.flat.itemsize
            assert g.ctypes.data == model.flat_grad.ctypes.data + offset * model.flat.itemsize
            offset += p.size
        offset = -(-offset // ALIGN) * ALIGN
    assert offset == model.flat.size
    # written through the buffer, seen by the layer; written through set_weights, seen in the buffer
    model.flat += 1.0
    assert model.layers[0].b[0] == 1.0
    weights = [np.full(p.shape, 7.0) for p in model.parameters()]
    model.set_weights(weights)
    assert np.count_nonzero(model.flat == 7.0) == sum(w.size for w in weights)


def test_backward_fills_flat_gradient_and_gaps_stay_zero() -> None:
    model = _model()
    x = np.random.default_rng(0).normal(size=(6, 3))
    model.forward(x)
    model.backward(np.ones((6, 2)))
    used = np.concatenate([g.ravel() for g in model.gradients()])
    assert np.count_nonzero(model.flat_grad) == np.count_nonzero(used)
    assert np.isclose(model.flat_grad.sum(), used.sum())
    gaps = np.ones(model.flat.size, dtype=bool)
    for p in model.parameters():
        start = (p.ctypes.data - model.flat.ctypes.data) // model.flat.itemsize
        gaps[start:start + p.size] = False
    assert not model.flat[gaps].any()
    assert not model.flat_grad[gaps].any()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("weight_decay", [None, 0.01])
def test_optimizer_on_flat_buffer_equals_per_parameter(name: str, weight_decay: float | None) -> None:
    flat_model, split_model = _model(), _model()
    flat_opt = make_optimizer(name, [flat_model.flat], lr=0.01, weight_decay=weight_decay)
    split_params = [p.copy() for p in split_model.parameters()]
    split_opt = make_optimizer(name, split_params, lr=0.01, weight_decay=weight_decay)
    rng = np.random.default_rng(1)
    for _ in range(3):
        grads = [rng.normal(size=p.shape) for p in split_params]
        for g_view, g in zip(flat_model.gradients(), grads, strict=True):
            g_view[...] = g
        flat_opt.update([flat_model.flat_grad])
        split_opt.update(grads)
    for p_flat, p_split in zip(flat_model.parameters(), split_params, strict=True):
        np.testing.assert_array_equal(p_flat, p_split)


def test_float32_steps_stay_float32() -> None:
    rng = np.random.default_rng(2)
    p = rng.random((8, 3)).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, 8)
    cases = [
        ("keras.sparse_categorical_crossentropy", y[:, None], p),
        ("torch.cross_entropy", y[:, None], p),
        ("keras.categorical_hinge", np.eye(3)[y], p),
        ("keras.mean_squared_error", rng.normal(size=(8, 1)), p[:, :1]),
    ]
    for name, y_true, y_pred in cases:
        loss = get_loss(name)
        params = loss.resolve_params({})
        _, grad32 = loss_and_grad(loss, params, y_true, y_pred, dtype=np.float32)
        _, grad64 = loss_and_grad(loss, params, y_true, y_pred)
        assert grad32.dtype == np.float32, name
        assert grad64.dtype == np.float64, name
        np.testing.assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("k", [2, 3, 7, 12])
def test_transposed_softmax_matches_the_formula(k: int) -> None:
    rng = np.random.default_rng(k)
    act = ACTIVATIONS["softmax"]
    for dtype in (np.float32, np.float64):
        z = (rng.normal(size=(50, k)) * 4).astype(dtype)
        g = rng.normal(size=(50, k)).astype(dtype)
        a = act.forward(z)
        expected = softmax(z)
        back = act.backward(z, a, g)
        expected_back = expected * (g - (g * expected).sum(axis=-1, keepdims=True))
        assert a.dtype == dtype
        assert back.dtype == dtype
        if k < 8:  # numpy adds fewer than 8 numbers in order whichever the layout: same bits
            np.testing.assert_array_equal(a, expected)
            np.testing.assert_array_equal(back, expected_back)
        rtol = 1e-6 if dtype == np.float32 else 1e-14
        np.testing.assert_allclose(a, expected, rtol=rtol)
        np.testing.assert_allclose(back, expected_back, rtol=rtol * 10, atol=rtol)


def test_blocked_weight_gradient_equals_the_whole_product() -> None:
    rng = np.random.default_rng(4)
    layer = Dense(24, 32, rng, dtype=np.float64)
    n = 3 * TN_CHUNK + 17
    x, g = rng.normal(size=(n, 24)), rng.normal(size=(n, 32))
    x1 = with_ones_row(x, np.float64)
    dx = layer.backward(x1, g.T).T
    np.testing.assert_allclose(layer.dW, x.T @ g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.db, g.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(dx, g @ layer.W.T, rtol=1e-12)
    assert layer.backward(x1, g.T, input_grad=False) is None


def test_first_layer_input_gradient_is_skipped_only_on_request() -> None:
    model = _model()
    x = np.random.default_rng(5).normal(size=(4, 3))
    model.forward(x)
    assert model.backward(np.ones((4, 2))).shape == (4, 3)
    model.forward(x)
    assert model.backward(np.ones((4, 2)), input_grad=False) is None


def test_predict_raw_in_chunks_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model("float32")
    x = np.random.default_rng(6).normal(size=(25, 3))
    whole = predict_raw(model, x)
    monkeypatch.setattr("lossctl.nn.train.PREDICT_BATCH", 4)
    chunked = predict_raw(model, x)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6)  # a 1-row product may round differently
    assert chunked.dtype == np.float32


def test_blas_thread_limit_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    before = blas.get_threads()
    with blas.blas_threads(1):
        if before is not None:
            assert blas.get_threads() == 1
    assert blas.get_threads() == before
    with blas.blas_threads(None):
        assert blas.get_threads() == before
    for name in blas.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    assert blas.train_threads() == blas.TRAIN_THREADS
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    assert blas.train_threads() is None  # the user's choice stands


def test_blas_warm_up_runs_once_and_leaves_threads_as_they_were(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blas, "_warmed", set())
    before = blas.get_threads()
    blas.warm_up(1, 300, np.float32)
    blas.warm_up(1, 300, np.float32)
    blas.warm_up(1, 5000, np.float32)  # rows are capped
    me = threading.get_ident()
    assert blas._warmed == {(me, 1, 300, "<f4"), (me, 1, 1024, "<f4")}
    assert blas.get_threads() == before
    other = threading.Thread(target=blas.warm_up, args=(1, 300, np.float32))  # its own buffer
    other.start()
    other.join()
    assert len(blas._warmed) == 3


def _train(dtype: str, **kwargs):
    data = load_training(str(SAMPLES / "penguins_like.csv"), seed=0)
    loss = get_loss("sparse_categorical_crossentropy")
    params = loss.resolve_params({})
    model = build_model(data, loss, params, (16, 32), seed=0, dtype=dtype)
    metrics = resolve_metrics(["accuracy"], data.prep.task)
    return data, loss, params, model, list(fit(model, loss, params, data, metrics=metrics, **kwargs))


def test_float32_training_reaches_the_accuracy_of_float64() -> None:
    *_, records32 = _train("float32", epochs=30)
    *_, records64 = _train("float64", epochs=30)
    acc32, acc64 = records32[-1].metrics["val_accuracy"], records64[-1].metrics["val_accuracy"]
    assert acc32 > 0.9
    assert abs(acc32 - acc64) <= 0.02
    assert records32[-1].val_loss == pytest.approx(records64[-1].val_loss, rel=1e-3)


def test_training_loss_is_the_mean_of_the_batch_losses() -> None:
    # one batch per epoch: the epoch's training loss is the loss of the weights it started with
    data = load_training(str(SAMPLES / "penguins_like.csv"), seed=0)
    loss = get_loss("sparse_categorical_crossentropy")
    params = loss.resolve_params({})
    model = build_model(data, loss, params, (8,), seed=0, dtype="float64")
    before = predict_raw(model, data.x_train)
    expected = loss_value(loss, params, data.y_train[:, None], before)
    accuracy = float(np.mean(before.argmax(axis=1) == data.y_train))
    metrics = resolve_metrics(["accuracy", "mae"], data.prep.task)
    (record,) = fit(model, loss, params, data, epochs=1, batch_size=len(data.x_train),
                    metrics=metrics)
    assert record.loss == pytest.approx(expected, rel=1e-12)
    assert record.metrics["accuracy"] == accuracy
    assert list(record.metrics) == ["accuracy", "val_accuracy", "mae", "val_mae"]
    # validation numbers are those of the weights after the epoch, as `compute` gives them
    after = predict_raw(model, data.x_val)
    assert record.val_loss == loss_value(loss, params, data.y_val[:, None], after)


@pytest.mark.parametrize("name", sorted(n for n, a in ACTIVATIONS.items() if a.forward_inplace))
def test_in_place_activations_equal_their_formulas(name: str) -> None:
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(7)
    z, g = rng.normal(size=(40, 6)), rng.normal(size=(40, 6))
    a = act.forward(z)
    z_copy, g_copy = z.copy(), g.copy()
    a_inplace = act.forward_inplace(z_copy)
    np.testing.assert_array_equal(a_inplace, a)
    np.testing.assert_allclose(act.backward_inplace(a_inplace, g_copy), act.backward(z, a, g),
                               rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", sorted(n for n, a in ACTIVATIONS.items() if a.forward_slope))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_slopes_equal_their_formulas(name: str, dtype) -> None:
    act = ACTIVATIONS[name]
    rng = np.random.default_rng(8)
    z, g = rng.normal(size=(40, 6)).astype(dtype), rng.normal(size=(40, 6)).astype(dtype)
    z[0, :3] = (0.0, np.nan, np.inf)
    a = act.forward(z)
    z_copy = z.copy()
    slope = act.forward_slope(z_copy)
    assert slope.dtype == dtype
    np.testing.assert_array_equal(z_copy, a)  # NaN where a has NaN
    np.testing.assert_array_equal(g * slope, act.backward(z, a, g))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_prediction_pass_equals_training_pass(activation: str) -> None:
    model = MLP(3, (5, 4), 2, activation, "softmax", seed=3, dtype="float32")
    x = np.random.default_rng(9).normal(size=(7, 3))
    kept = model.forward(x)
    model.backward(np.ones((7, 2)))
    gradients = model.flat_grad.copy()
    np.testing.assert_array_equal(model.forward(x, for_backward=False), kept)
    model.backward(np.ones((7, 2)))  # still the training pass's: predictions keep nothing
    np.testing.assert_array_equal(model.flat_grad, gradients)
