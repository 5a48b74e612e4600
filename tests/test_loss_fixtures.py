"""Every loss against reference values produced by Keras 3 (TensorFlow backend, float64) and torch.

The fixtures are written by tools/make_fixtures_keras.py and tools/make_fixtures_torch.py, which need
those frameworks; this test needs neither. Each case holds the inputs, the parameters as a user types
them (`-p key=value`), the reduction, the framework's reduced value and the framework's gradient of
that value with respect to y_pred (autograd / GradientTape; for `none`, the gradient of the sum).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lossctl.losses import get_loss
from lossctl.losses.evaluate import evaluate, gradient

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*_losses.json"))
CASES = [case for path in FIXTURES for case in json.loads(path.read_text())["cases"]]
RTOL, ATOL = 1e-9, 1e-12


def _id(case: dict) -> str:
    return case["id"]


def _run(case: dict):
    loss = get_loss(case["loss"])
    params = loss.resolve_params(case.get("params", {}))
    sw = case.get("sample_weight")
    sw = None if sw is None else np.asarray(sw, dtype=np.float64)
    return loss, params, sw


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_value_matches_framework(case: dict) -> None:
    loss, params, sw = _run(case)
    got = evaluate(loss, case["inputs"], params, case["reduction"], sw)
    np.testing.assert_allclose(got, np.asarray(case["value"], dtype=np.float64), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", [c for c in CASES if c.get("grad") is not None], ids=_id)
def test_gradient_matches_framework(case: dict) -> None:
    loss, params, sw = _run(case)
    got = gradient(loss, case["inputs"], params, case["reduction"], sw)
    expected = np.asarray(case["grad"], dtype=np.float64).reshape(got.shape)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-11)


def test_fixtures_cover_every_loss() -> None:
    from lossctl.losses import REGISTRY

    every = [c for path in FIXTURES[0].parent.glob("*.json") for c in json.loads(path.read_text())["cases"]]
    covered = {get_loss(case["loss"]).qualified_name for case in every}
    missing = sorted(loss.qualified_name for loss in REGISTRY if loss.qualified_name not in covered)
    assert not missing, f"no reference fixture for {missing}"
