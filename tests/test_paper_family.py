"""The paper.* family beyond its fixtures: gradients by central differences, names, input checks
and properties of the published definitions."""

from __future__ import annotations

import numpy as np
import pytest

from lossctl.catalog import explain_text
from lossctl.errors import InputValueError, UsageError
from lossctl.losses import REGISTRY, get_loss
from lossctl.losses.evaluate import evaluate, gradient

N = 5


def _forecast(rng):
    return {"y_true": rng.uniform(-3.0, 5.0, (N, 3)), "y_pred": rng.uniform(-3.0, 5.0, (N, 3))}


def _distributions(rng):
    return {"y_true": rng.uniform(0.05, 1.0, (N, 4)), "y_pred": rng.uniform(0.05, 1.0, (N, 4))}


def _gaussian(rng):
    return {"y_true": rng.normal(size=(N, 2)), "y_pred": rng.normal(size=(N, 2)),
            "std": rng.uniform(0.3, 2.0, (N, 1))}


def _quantiles(rng):
    return {"y_true": rng.normal(size=(N, 1)), "y_pred": rng.normal(size=(N, 3))}


GRAD_CASES = [
    ("smape", {}, _forecast),
    ("wmape", {}, _forecast),
    ("jensen_shannon", {}, _distributions),
    ("jensen_shannon", {"base": "2"}, _distributions),
    ("crps_gaussian", {}, _gaussian),
    ("quantile_loss", {"quantiles": "0.1,0.5,0.9"}, _quantiles),
]


def test_every_paper_loss_has_a_gradient_check() -> None:
    assert {name for name, _, _ in GRAD_CASES} == {
        loss.name for loss in REGISTRY if loss.family.name == "paper"
    }


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] + "".join(c[1]) for c in GRAD_CASES])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_gradient_matches_central_differences(case, weighted: bool, reduction: str) -> None:
    name, typed, make = case
    rng = np.random.default_rng(len(name) + len(typed))
    loss = get_loss(f"paper.{name}")
    params = loss.resolve_params(typed)
    inputs = make(rng)
    sw = rng.uniform(0.5, 2.0, N) if weighted else None
    got = gradient(loss, inputs, params, reduction, sw)
    h = 1e-6
    expected = np.zeros_like(got)
    for index in np.ndindex(*got.shape):
        up, down = ({**inputs, "y_pred": inputs["y_pred"].copy()} for _ in range(2))
        up["y_pred"][index] += h
        down["y_pred"][index] -= h
        expected[index] = (evaluate(loss, up, params, reduction, sw)
                           - evaluate(loss, down, params, reduction, sw)) / (2 * h)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    ("name", "qualified"),
    [("smape", "paper.smape"), ("sMAPE", "paper.smape"), ("wmape", "paper.wmape"),
     ("jsd", "paper.jensen_shannon"), ("jensen_shannon_divergence", "paper.jensen_shannon"),
     ("crps", "paper.crps_gaussian"), ("pinball", "paper.quantile_loss")],
)
def test_bare_names_resolve(name: str, qualified: str) -> None:
    assert get_loss(name).qualified_name == qualified


@pytest.mark.parametrize("name", ["smape", "wmape", "jensen_shannon", "crps_gaussian", "quantile_loss"])
def test_explain_cites_the_definition(name: str) -> None:
    text = explain_text(get_loss(f"paper.{name}"))
    assert "Reference:" in text
    assert any(year in text for year in ("1978", "1991", "2007", "2020"))


@pytest.mark.parametrize("name", ["smape", "wmape"])
def test_perfect_forecast_scores_zero(name: str) -> None:
    y = _forecast(np.random.default_rng(3))["y_true"]
    assert evaluate(get_loss(f"paper.{name}"), {"y_true": y, "y_pred": y}) == 0.0


def test_smape_bounds_and_zero_over_zero() -> None:
    loss = get_loss("smape")
    values = evaluate(loss, {"y_true": [[0.0, 0.0], [0.0, 5.0]], "y_pred": [[0.0, 3.0], [0.0, -5.0]]},
                      reduction="none")
    np.testing.assert_array_equal(values, [100.0, 100.0])  # 0/0 counts 0, opposite signs 200


def test_wmape_of_all_zero_targets_divides_by_zero() -> None:
    assert evaluate(get_loss("wmape"), {"y_true": [[0.0]], "y_pred": [[1.0]]}) == np.inf
    assert np.isnan(evaluate(get_loss("wmape"), {"y_true": [[0.0]], "y_pred": [[0.0]]}))


def test_wmape_is_a_ratio_of_sums_not_a_mean_of_ratios() -> None:
    value = evaluate(get_loss("wmape"), {"y_true": [[1.0], [100.0]], "y_pred": [[2.0], [100.0]]})
    assert value == pytest.approx(100.0 / 101.0)


def test_jensen_shannon_is_symmetric_and_bounded_by_log2() -> None:
    loss = get_loss("jsd")
    inputs = _distributions(np.random.default_rng(4))
    swapped = {"y_true": inputs["y_pred"], "y_pred": inputs["y_true"]}
    np.testing.assert_allclose(evaluate(loss, inputs, reduction="none"),
                               evaluate(loss, swapped, reduction="none"), rtol=1e-14)
    disjoint = evaluate(loss, {"y_true": [[1.0, 0.0]], "y_pred": [[0.0, 1.0]]}, {"base": 2.0})
    assert disjoint == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize(("role", "bad"), [("y_true", -0.1), ("y_pred", -1.0)])
def test_jensen_shannon_rejects_negative_weights(role: str, bad: float) -> None:
    inputs = {"y_true": np.full((3, 2), 0.5), "y_pred": np.full((3, 2), 0.5)}
    inputs[role][1, 1] = bad
    with pytest.raises(InputValueError) as info:
        evaluate(get_loss("jsd"), inputs)
    assert (info.value.row, info.value.role, info.value.column) == (1, role, 1)


def test_crps_needs_a_positive_std() -> None:
    with pytest.raises(InputValueError, match="standard deviation") as info:
        evaluate(get_loss("crps"), {"y_true": [[0.0], [1.0]], "y_pred": [[0.0], [1.0]],
                                    "std": [[1.0], [0.0]]})
    assert info.value.row == 1


def test_crps_tends_to_the_absolute_error_as_std_shrinks() -> None:
    value = evaluate(get_loss("crps"), {"y_true": [[2.0]], "y_pred": [[0.5]], "std": [[1e-9]]})
    assert value == pytest.approx(1.5, rel=1e-8)


def test_quantile_loss_at_the_median_is_half_the_absolute_error() -> None:
    loss = get_loss("quantile_loss")
    inputs = {"y_true": [[1.0], [4.0]], "y_pred": [[3.0], [3.5]]}
    assert evaluate(loss, inputs, {"quantiles": (0.5,)}) == pytest.approx((1.0 + 0.25) / 2)


@pytest.mark.parametrize(
    ("text", "message"),
    [((0.5,), "1 quantile"), ((0.1, 0.9), "2 quantile"), ((0.0, 0.5, 1.0), "strictly")],
)
def test_quantile_levels_are_checked(text, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        evaluate(get_loss("quantile_loss"), _quantiles(np.random.default_rng(0)), {"quantiles": text})


def test_jensen_shannon_gradient_where_both_distributions_are_zero() -> None:
    # where p_j = 0 the divergence is q_j log(2) / 2, linear in q_j: the slope is finite there
    loss = get_loss("jsd")
    inputs = {"y_true": [[0.0, 1.0, 0.0]], "y_pred": [[0.0, 0.5, 0.5]]}
    got = gradient(loss, inputs, reduction="sum")
    assert np.all(np.isfinite(got))
    h = 1e-7
    up = evaluate(loss, {**inputs, "y_pred": [[h, 0.5, 0.5]]}, reduction="sum")
    base = evaluate(loss, inputs, reduction="sum")
    assert got[0, 0] == pytest.approx((up - base) / h, rel=1e-5)
