"""DeLong's interval and paired test against R's pROC 1.18 (tests/fixtures/proc_delong.json, from
tools/make_fixtures_proc.R; the suite needs no R), through the library and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lossctl.losses.delong import Delong, normal_quantile, paired_delong

CASES = json.loads((Path(__file__).parent / "fixtures" / "proc_delong.json").read_text())["cases"]
RTOL = 1e-9


def _counts(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    distinct, at = np.unique(scores, return_inverse=True)
    return (np.bincount(at, weights=y, minlength=len(distinct)),
            np.bincount(at, weights=1 - y, minlength=len(distinct)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_interval_as_proc(case: dict) -> None:
    y, a = np.asarray(case["y_true"], float), np.asarray(case["score_a"], float)
    delong = Delong.of_counts(*_counts(y, a))
    assert delong.auc == pytest.approx(case["auc_a"], rel=RTOL)
    assert delong.variance == pytest.approx(case["var_a"], rel=RTOL)
    np.testing.assert_allclose(delong.interval(case["level"]), case["ci_a"], rtol=RTOL)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_paired_test_as_proc(case: dict) -> None:
    y = np.asarray(case["y_true"]) == 1
    test = paired_delong(np.asarray(case["score_a"]), np.asarray(case["score_b"]), y, case["level"])
    assert (test.a, test.b) == pytest.approx((case["auc_a"], case["auc_b"]), rel=RTOL)
    assert test.z == pytest.approx(case["z"], rel=RTOL)
    assert test.p_value == pytest.approx(case["p_value"], rel=RTOL)
    # pROC's interval is of a - b; lossctl's diff is b - a
    np.testing.assert_allclose(test.interval, [-case["diff_ci"][1], -case["diff_ci"][0]], rtol=RTOL)


def test_normal_quantile_is_exact() -> None:
    from math import erfc, sqrt

    for p in (1e-12, 0.001, 0.025, 0.3, 0.5, 0.95, 0.975, 0.995, 1 - 1e-9):
        x = normal_quantile(p)
        assert 0.5 * erfc(-x / sqrt(2)) == pytest.approx(p, rel=1e-14)


def test_identical_models_give_p_one() -> None:
    rng = np.random.default_rng(0)
    y = rng.random(100) < 0.4
    s = rng.random(100)
    test = paired_delong(s, s, y)
    assert (test.diff, test.p_value, test.interval) == (0.0, 1.0, (0.0, 0.0))
