"""Two steps of each optimizer against its formula written out by hand (Keras 3 conventions)."""

from __future__ import annotations

import numpy as np
import pytest

from lossctl.errors import UnknownNameError
from lossctl.nn.optimizers import make_optimizer
from lossctl.nn.schedules import Schedule

W0 = np.array([[0.5, -1.0], [2.0, 0.25]])
G1 = np.array([[0.1, -0.2], [0.3, 0.05]])
G2 = np.array([[-0.4, 0.1], [0.2, 0.3]])


def _run(name: str, **kwargs) -> np.ndarray:
    w = W0.copy()
    opt = make_optimizer(name, [w], **kwargs)
    opt.update([G1])
    opt.update([G2])
    return w


def test_sgd() -> None:
    np.testing.assert_allclose(_run("sgd", lr=0.1), W0 - 0.1 * G1 - 0.1 * G2, rtol=1e-12)


def test_sgd_default_lr_is_keras() -> None:
    np.testing.assert_allclose(_run("sgd"), W0 - 0.01 * (G1 + G2), rtol=1e-12)


def test_momentum() -> None:
    v1 = -0.1 * G1
    v2 = 0.9 * v1 - 0.1 * G2
    np.testing.assert_allclose(_run("momentum", lr=0.1), W0 + v1 + v2, rtol=1e-12)


def test_nesterov() -> None:
    v1 = -0.1 * G1
    w1 = W0 + 0.9 * v1 - 0.1 * G1
    v2 = 0.9 * v1 - 0.1 * G2
    np.testing.assert_allclose(_run("nesterov", lr=0.1), w1 + 0.9 * v2 - 0.1 * G2, rtol=1e-12)


def test_rmsprop() -> None:
    s1 = 0.1 * G1**2
    w1 = W0 - 0.001 * G1 / (np.sqrt(s1) + 1e-7)
    s2 = 0.9 * s1 + 0.1 * G2**2
    np.testing.assert_allclose(_run("rmsprop"), w1 - 0.001 * G2 / (np.sqrt(s2) + 1e-7), rtol=1e-12)


def _adam(lr: float, wd: float) -> np.ndarray:
    w, m, v = W0.copy(), np.zeros_like(W0), np.zeros_like(W0)
    for t, g in enumerate((G1, G2), start=1):
        w = w - lr * wd * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        alpha = lr * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        w = w - alpha * m / (np.sqrt(v) + 1e-7)
    return w


def test_adam() -> None:
    np.testing.assert_allclose(_run("adam"), _adam(0.001, 0.0), rtol=1e-12)


def test_adamw_default_weight_decay() -> None:
    np.testing.assert_allclose(_run("adamw", lr=0.01), _adam(0.01, 0.004), rtol=1e-12)


def test_weight_decay_is_decoupled_for_sgd() -> None:
    w1 = W0 - 0.1 * 0.5 * W0 - 0.1 * G1
    expected = w1 - 0.1 * 0.5 * w1 - 0.1 * G2
    np.testing.assert_allclose(_run("sgd", lr=0.1, weight_decay=0.5), expected, rtol=1e-12)


def test_float32_stays_float32() -> None:
    w = W0.astype(np.float32)
    make_optimizer("adam", [w]).update([G1.astype(np.float32)])
    assert w.dtype == np.float32


def test_unknown_optimizer_suggests() -> None:
    with pytest.raises(UnknownNameError, match="did you mean adam"):
        make_optimizer("adma", [W0.copy()])


def test_schedules() -> None:
    assert Schedule("step", 0.1, 30).lr(25) == pytest.approx(0.1 * 0.25)
    cosine = Schedule("cosine", 0.1, 10)
    assert cosine.lr(0) == pytest.approx(0.1)
    assert cosine.lr(5) == pytest.approx(0.05)
    plateau = Schedule("plateau", 0.1, 30, patience=2)
    for loss in (1.0, 1.0, 1.0):
        plateau.observe(loss)
    assert plateau.lr(3) == pytest.approx(0.01)
