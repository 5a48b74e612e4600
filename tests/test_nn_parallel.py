"""Data-parallel steps: shards give the one-pass gradient, and the same numbers on any number of threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from lossctl.losses import get_loss
from lossctl.nn import blas, build_model, fit, load_training, resolve_metrics
from lossctl.nn.model import MLP
from lossctl.nn.parallel import MAX_SHARDS, SHARD_ROWS, ShardedSteps, Workers, shard_bounds
from lossctl.nn.train import PREDICT_BATCH, predict_raw


@pytest.mark.parametrize(
    ("rows", "shards"),
    [(1, 1), (SHARD_ROWS, 1), (2 * SHARD_ROWS - 1, 1), (2 * SHARD_ROWS, 2), (4 * SHARD_ROWS - 1, 2),
     (4 * SHARD_ROWS, 4), (10**6, MAX_SHARDS)],
)
def test_shard_bounds_cover_the_batch_in_order(rows: int, shards: int) -> None:
    bounds = shard_bounds(rows)
    assert len(bounds) == shards + 1
    assert bounds[0] == 0
    assert bounds[-1] == rows
    sizes = np.diff(bounds)
    assert sizes.min() >= min(rows, SHARD_ROWS)
    assert sizes.max() - sizes.min() <= 1


def _batch(dtype: str, rows: int = 4 * SHARD_ROWS + 3) -> tuple[MLP, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    model = MLP(6, (24, 20), 3, "tanh", "softmax", seed=3, dtype=dtype)
    x = rng.normal(size=(rows + 50, 6)).astype(dtype)
    batch = rng.permutation(len(x))[:rows]
    grad = rng.normal(size=(rows, 3)).astype(dtype)
    return model, x, batch, grad


def _sharded_pass(model: MLP, x: np.ndarray, rows: np.ndarray, grad: np.ndarray,
                  threads: int) -> tuple[np.ndarray, np.ndarray]:
    with Workers(threads) as workers:
        steps = ShardedSteps(model, workers)
        out = steps.forward(x, rows)
        steps.backward(grad)
    return out, model.flat_grad.copy()


def test_shards_give_the_one_pass_output_and_gradient() -> None:
    model, x, rows, grad = _batch("float64")
    whole = model.forward(x[rows])
    model.backward(grad, input_grad=False)
    expected = model.flat_grad.copy()
    for layer in model.layers:
        layer.dWb[...] = np.nan  # every gradient must be written again
    out, found = _sharded_pass(model, x, rows, grad, threads=2)
    assert len(shard_bounds(len(rows))) - 1 == MAX_SHARDS
    assert out.shape == whole.shape
    assert out.flags.f_contiguous
    np.testing.assert_allclose(out, whole, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(found, expected, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("threads", [2, 3, 4])
def test_shards_give_the_same_numbers_on_any_number_of_threads(threads: int) -> None:
    model, x, rows, grad = _batch("float32")
    out_1, grad_1 = _sharded_pass(model, x, rows, grad, threads=1)
    out_n, grad_n = _sharded_pass(model, x, rows, grad, threads=threads)
    np.testing.assert_array_equal(out_n, out_1)
    np.testing.assert_array_equal(grad_n, grad_1)


def test_predict_raw_on_threads_equals_one_thread() -> None:
    model, x, *_ = _batch("float32", rows=3 * PREDICT_BATCH + 11)
    before = blas.get_threads()
    alone = predict_raw(model, x, Workers(1))
    np.testing.assert_array_equal(predict_raw(model, x), alone)  # its own threads, on the cores
    with Workers(3) as workers:
        np.testing.assert_array_equal(predict_raw(model, x, workers), alone)
    assert blas.get_threads() == before  # one BLAS thread per product only while predicting


def test_workers_keep_job_order_and_the_callers_error_settings() -> None:
    names: set[str] = set()

    def job(i: int):
        def run() -> int:
            names.add(threading.current_thread().name)
            return i * i
        return run

    with Workers(3) as workers:
        assert workers.run([job(i) for i in range(10)]) == [i * i for i in range(10)]
        assert threading.current_thread().name in names  # the caller's own share
        assert len(names) >= 2
        with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
            workers.run([lambda: 1.0, lambda: np.float64(1.0) / np.zeros(1)])


def test_a_failing_job_waits_for_the_others_then_raises() -> None:
    finished = threading.Event()

    def slow() -> None:
        finished.wait(0.05)
        finished.set()

    def fail() -> None:
        raise ValueError("boom")

    with Workers(2) as workers, pytest.raises(ValueError, match="boom"):
        workers.run([fail, slow])
    assert finished.is_set()


def test_training_on_shards_is_the_same_on_one_thread_and_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4))
    label = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
    path = tmp_path / "big.csv"
    np.savetxt(path, np.column_stack([x, label]), delimiter=",", fmt=["%.6f"] * 4 + ["%d"],
               header="a,b,c,d,label", comments="")
    histories, weights = [], []
    for threads in ("1", "2"):
        monkeypatch.setenv("LOSSCTL_THREADS", threads)
        data = load_training(str(path), target="label")
        loss = get_loss("binary_crossentropy")
        params = loss.resolve_params({})
        model = build_model(data, loss, params, (32,), seed=0)
        # batch 2400 (all training rows): four shards per step
        records = fit(model, loss, params, data, epochs=3, batch_size=2400,
                      metrics=resolve_metrics(["accuracy"], data.prep.task))
        histories.append([(r.loss, r.val_loss, r.metrics) for r in records])
        weights.append(model.flat.copy())
    assert len(shard_bounds(2400)) == 5
    assert histories[0] == histories[1]
    np.testing.assert_array_equal(weights[0], weights[1])
