"""The torch family beyond the reference fixtures: gradients by central differences, aliases,
input-domain and usage errors, and properties that hold for every input.

The fixtures (test_loss_fixtures.py) pin values and gradients to torch 2.13; these tests need no
framework.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossctl.errors import InputValueError, UsageError
from lossctl.losses import REGISTRY, get_loss
from lossctl.losses.evaluate import evaluate, gradient

TORCH_LOSSES = [loss for loss in REGISTRY if loss.family.name == "torch"]


# --- central differences ------------------------------------------------------------------------


def _away_from(rng: np.random.Generator, shape, low: float, high: float) -> np.ndarray:
    """Magnitudes in [low, high] with random signs (to keep differences off the kinks)."""
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def _grad_cases():
    """(id, loss, params as typed, inputs): every torch loss, with its parameter variants."""
    rng = np.random.default_rng(7)
    n, k = 4, 3

    def normal(*shape, scale=1.0):
        return rng.normal(0.0, scale, shape)

    y = normal(n, k)
    w = rng.uniform(0.2, 2.0, (n, k))
    yield "l1", "l1_loss", {}, {"y_true": y, "y_pred": y + _away_from(rng, (n, k), 0.1, 1.0)}
    yield (
        "l1-weight",
        "l1_loss",
        {},
        {
            "y_true": y,
            "y_pred": y + _away_from(rng, (n, k), 0.1, 1.0),
            "weight": w,
        },
    )
    yield "mse-weight", "mse_loss", {}, {"y_true": y, "y_pred": normal(n, k), "weight": w}
    for name, key in (("huber_loss", "delta"), ("smooth_l1_loss", "beta")):
        near = _away_from(rng, (n, k), 0.1, 0.6)
        far = _away_from(rng, (n, k), 1.5, 3.0)
        diff = np.where(rng.random((n, k)) < 0.5, near, far)
        yield name, name, {key: "1"}, {"y_true": y, "y_pred": y + diff}
    yield (
        "huber-weight",
        "huber_loss",
        {"delta": "0.5"},
        {
            "y_true": y,
            "y_pred": y + _away_from(rng, (n, k), 0.6, 1.0),
            "weight": w,
        },
    )
    counts = rng.poisson(2.0, (n, k)).astype(float)
    yield (
        "poisson",
        "poisson_nll_loss",
        {"full": "true"},
        {"y_true": counts, "y_pred": normal(n, k)},
    )
    yield (
        "poisson-rate",
        "poisson_nll_loss",
        {"log_input": "false"},
        {
            "y_true": counts,
            "y_pred": rng.uniform(0.5, 3.0, (n, k)),
        },
    )
    yield (
        "gauss",
        "gaussian_nll_loss",
        {},
        {
            "y_true": y,
            "y_pred": normal(n, k),
            "var": rng.uniform(0.5, 2.0, (n, 1)),
        },
    )
    yield (
        "gauss-param",
        "gaussian_nll_loss",
        {"var": "0.7", "full": "true"},
        {
            "y_true": y,
            "y_pred": normal(n, k),
        },
    )
    yield (
        "bce",
        "binary_cross_entropy",
        {},
        {
            "y_true": rng.uniform(0, 1, (n, k)),
            "y_pred": rng.uniform(0.05, 0.95, (n, k)),
            "weight": w,
        },
    )
    yield (
        "bcelogits",
        "binary_cross_entropy_with_logits",
        {"pos_weight": "2,0.5,1"},
        {
            "y_true": rng.uniform(0, 1, (n, k)),
            "y_pred": normal(n, k, scale=2.0),
            "weight": w,
        },
    )
    signs = rng.choice([-1.0, 1.0], (n, k))
    yield "softmargin", "soft_margin_loss", {}, {"y_true": signs, "y_pred": normal(n, k)}
    yield (
        "mlsoftmargin",
        "multilabel_soft_margin_loss",
        {"weight": "1,2,0.5"},
        {
            "y_true": rng.integers(0, 2, (n, k)).astype(float),
            "y_pred": normal(n, k),
        },
    )
    labels = np.array([[2.0], [0.0], [1.0], [2.0]])
    yield "ce", "cross_entropy", {}, {"y_true": labels, "y_pred": normal(n, k, scale=2.0)}
    yield (
        "ce-all-params",
        "cross_entropy",
        {
            "weight": "1,2,0.5",
            "label_smoothing": "0.2",
            "ignore_index": "1",
        },
        {"y_true": np.array([[2.0], [1.0], [0.0], [1.0]]), "y_pred": normal(n, k, scale=2.0)},
    )
    probs = rng.dirichlet(np.ones(k), n)
    yield (
        "ce-prob",
        "cross_entropy",
        {"weight": "1,2,0.5", "label_smoothing": "0.1"},
        {
            "y_true": probs,
            "y_pred": normal(n, k, scale=2.0),
        },
    )
    yield "nll", "nll_loss", {"weight": "1,2,0.5"}, {"y_true": labels, "y_pred": normal(n, k)}
    yield "kl", "kl_div", {}, {"y_true": probs, "y_pred": normal(n, k)}
    yield (
        "kl-logtarget",
        "kl_div",
        {"log_target": "true"},
        {
            "y_true": np.log(probs),
            "y_pred": normal(n, k),
        },
    )
    for p in ("1", "2"):
        yield (
            f"multimargin-p{p}",
            "multi_margin_loss",
            {"p": p, "weight": "1,2,3"},
            {
                "y_true": labels,
                "y_pred": normal(n, k),
            },
        )
    yield (
        "mlmargin",
        "multilabel_margin_loss",
        {},
        {
            "y_true": np.array([[2, 0, -1], [1, -1, 0], [0, 1, 2], [-1, 0, 0]], dtype=float),
            "y_pred": normal(n, k),
        },
    )
    yield (
        "hingeemb",
        "hinge_embedding_loss",
        {},
        {
            "y_true": signs,
            "y_pred": 1.0 + _away_from(rng, (n, k), 0.1, 0.9),
        },
    )
    yield (
        "ranking",
        "margin_ranking_loss",
        {"margin": "0.5"},
        {
            "y_true": signs[:, :1],
            "y_pred": normal(n, 1),
            "input2": normal(n, 1),
        },
    )
    yield (
        "cosemb",
        "cosine_embedding_loss",
        {"margin": "0.1"},
        {
            "y_true": np.array([[1.0], [-1.0], [1.0], [-1.0]]),
            "y_pred": normal(n, k),
            "input2": normal(n, k),
        },
    )
    for params in ({"margin": "3"}, {"p": "1", "margin": "3"}, {"p": "3", "swap": "true"}):
        label = "-".join(f"{key}{value}" for key, value in params.items())
        yield (
            f"triplet-{label}",
            "triplet_margin_loss",
            params,
            {
                "y_pred": normal(n, k),
                "positive": normal(n, k),
                "negative": normal(n, k),
            },
        )


    yield (
        "bce-weight-list",
        "binary_cross_entropy",
        {"weight": "0.5,2,1"},
        {"y_true": rng.uniform(0, 1, (n, k)), "y_pred": rng.uniform(0.05, 0.95, (n, k))},
    )
    yield (
        "bcelogits-weight-list",
        "binary_cross_entropy_with_logits",
        {"weight": "0.5,2,1", "pos_weight": "2,1,0.5"},
        {"y_true": rng.uniform(0, 1, (n, k)), "y_pred": normal(n, k, scale=2.0)},
    )
    for params in ({}, {"distance": "cosine", "margin": "2"}, {"distance": "cosine", "swap": "true"},
                   {"swap": "true", "margin": "3"}):
        label = "-".join(f"{key}{value}" for key, value in params.items())
        yield (
            f"tripletdist-{label}",
            "triplet_margin_with_distance_loss",
            params,
            {"y_pred": normal(n, k), "positive": normal(n, k), "negative": normal(n, k)},
        )


GRAD_CASES = list(_grad_cases())


def _central_difference(loss, inputs, params, reduction, h=1e-6):
    x = np.asarray(inputs["y_pred"], dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        values = []
        for step in (h, -h):
            moved = x.copy()
            moved[index] += step
            values.append(evaluate(loss, {**inputs, "y_pred": moved}, params, reduction))
        grad[index] = (values[0] - values[1]) / (2 * h)
    return grad


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize(
    ("name", "params", "inputs"), [c[1:] for c in GRAD_CASES], ids=[c[0] for c in GRAD_CASES]
)
def test_gradient_matches_central_differences(name, params, inputs, reduction) -> None:
    loss = get_loss(f"torch.{name}")
    resolved = loss.resolve_params(params)
    analytic = gradient(loss, inputs, resolved, reduction)
    numeric = _central_difference(loss, inputs, resolved, reduction)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_every_torch_loss_has_a_gradient_check() -> None:
    checked = {name for _, name, _, _ in GRAD_CASES} | {"ctc_loss"}  # ctc_loss: the next test
    assert checked == {loss.name for loss in TORCH_LOSSES}


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("params", [{}, {"blank": "2", "input_length": "4"}, {"target_length": "1"}])
def test_ctc_gradient_through_a_log_softmax_matches_central_differences(params, reduction) -> None:
    # torch's ctc backward assumes its input came out of a log_softmax (exp(x) - posterior, not
    # -posterior); through that log_softmax it is the derivative with respect to the logits.
    rng = np.random.default_rng(11)
    n, steps, classes = 3, 5, 4
    logits = rng.normal(size=(n, steps * classes))
    y_true = np.array([[1.0, 3.0], [3.0, 3.0], [1.0, 0.0]]) if not params.get("blank") else \
        np.array([[1.0, 3.0], [3.0, 0.0], [1.0, 2.0]])
    loss = get_loss("torch.ctc_loss")
    resolved = loss.resolve_params({"classes": str(classes), **params})

    def log_softmax(z):
        z = z.reshape(n, steps, classes)
        shifted = z - z.max(axis=2, keepdims=True)
        return (shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))).reshape(n, -1)

    g = gradient(loss, {"y_true": y_true, "y_pred": log_softmax(logits)}, resolved, reduction)
    g = g.reshape(n, steps, classes)
    probs = np.exp(log_softmax(logits)).reshape(n, steps, classes)
    chained = (g - probs * g.sum(axis=2, keepdims=True)).reshape(n, -1)
    h = 1e-6
    expected = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[index] += h
        down[index] -= h
        expected[index] = (
            evaluate(loss, {"y_true": y_true, "y_pred": log_softmax(up)}, resolved, reduction)
            - evaluate(loss, {"y_true": y_true, "y_pred": log_softmax(down)}, resolved, reduction)
        ) / (2 * h)
    np.testing.assert_allclose(chained, expected, rtol=1e-5, atol=1e-7)


# --- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("MSELoss", "torch.mse_loss"),
        ("BCEWithLogitsLoss", "torch.binary_cross_entropy_with_logits"),
        ("CrossEntropyLoss", "torch.cross_entropy"),
        ("torch.CrossEntropyLoss", "torch.cross_entropy"),
        ("mseloss", "torch.mse_loss"),
        ("huber_loss", "torch.huber_loss"),
    ],
)
def test_alias_resolves(alias: str, name: str) -> None:
    assert get_loss(alias).qualified_name == name


@pytest.mark.parametrize("loss", TORCH_LOSSES, ids=lambda loss: loss.name)
def test_every_alias_names_one_loss(loss) -> None:
    for alias in loss.aliases:
        assert get_loss(alias) is loss


@pytest.mark.parametrize("loss", TORCH_LOSSES, ids=lambda loss: loss.name)
def test_every_loss_explains_itself(loss) -> None:
    assert loss.summary
    assert loss.formula
    assert loss.value.__doc__
    assert loss.grad.__doc__
    params = loss.resolve_params({key: str(v) for key, v in loss.example_params.items()})
    value = evaluate(loss, loss.example, params, "mean")
    assert np.isfinite(value)


# --- errors -------------------------------------------------------------------------------------


def test_bce_probability_outside_unit_interval() -> None:
    loss = get_loss("torch.binary_cross_entropy")
    with pytest.raises(InputValueError) as caught:
        evaluate(loss, {"y_true": [[1, 0], [0, 1]], "y_pred": [[0.5, 0.5], [0.2, 1.2]]})
    assert (caught.value.row, caught.value.role, caught.value.column) == (1, "y_pred", 1)
    with pytest.raises(InputValueError) as caught:
        evaluate(loss, {"y_true": [[1, -0.5]], "y_pred": [[0.5, 0.5]]})
    assert (caught.value.row, caught.value.role, caught.value.column) == (0, "y_true", 1)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "multi_margin_loss"])
def test_class_index_out_of_range(name: str) -> None:
    loss = get_loss(f"torch.{name}")
    with pytest.raises(InputValueError) as caught:
        evaluate(loss, {"y_true": [[0], [1], [3]], "y_pred": np.zeros((3, 3))})
    assert (caught.value.row, caught.value.role, caught.value.column) == (2, "y_true", 0)
    with pytest.raises(InputValueError, match="not a class index"):
        evaluate(loss, {"y_true": [[0.5], [1], [2]], "y_pred": np.zeros((3, 3))})


def test_ignore_index_is_not_out_of_range() -> None:
    loss = get_loss("torch.cross_entropy")
    assert evaluate(loss, {"y_true": [[-100], [1]], "y_pred": np.zeros((2, 3))}) == pytest.approx(
        np.log(3)
    )
    with pytest.raises(InputValueError):
        evaluate(loss, {"y_true": [[-1], [1]], "y_pred": np.zeros((2, 3))})


def test_multilabel_margin_target_out_of_range() -> None:
    loss = get_loss("torch.multilabel_margin_loss")
    with pytest.raises(InputValueError) as caught:
        evaluate(loss, {"y_true": [[0, -1, 1], [0, -1, 3]], "y_pred": np.zeros((2, 3))})
    assert (caught.value.row, caught.value.role, caught.value.column) == (1, "y_true", 2)


@pytest.mark.parametrize(
    ("name", "param", "text"),
    [
        ("cross_entropy", "weight", "1,2"),
        ("nll_loss", "weight", "1,2,3,4"),
        ("multi_margin_loss", "weight", "1"),
        ("multilabel_soft_margin_loss", "weight", "1,2"),
        ("binary_cross_entropy_with_logits", "pos_weight", "1,2"),
    ],
)
def test_weight_list_of_wrong_length(name: str, param: str, text: str) -> None:
    loss = get_loss(f"torch.{name}")
    params = loss.resolve_params({param: text})
    y_true = [[0.0], [1.0]] if loss.class_index_target else [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0]]
    with pytest.raises(UsageError, match=param):
        evaluate(loss, {"y_true": y_true, "y_pred": np.zeros((2, 3))}, params)


def test_gaussian_var_given_twice_or_not_at_all() -> None:
    loss = get_loss("torch.gaussian_nll_loss")
    arrays = {"y_true": [[1.0], [2.0]], "y_pred": [[0.0], [0.0]]}
    with pytest.raises(UsageError, match="neither"):
        evaluate(loss, arrays)
    with pytest.raises(UsageError, match="both"):
        evaluate(loss, {**arrays, "var": [[1.0], [1.0]]}, loss.resolve_params({"var": "1"}))
    with pytest.raises(InputValueError) as caught:
        evaluate(loss, {**arrays, "var": [[1.0], [-1.0]]})
    assert (caught.value.row, caught.value.role) == (1, "var")


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("huber_loss", {"delta": "0"}),
        ("smooth_l1_loss", {"beta": "-1"}),
        ("cross_entropy", {"label_smoothing": "1.5"}),
        ("triplet_margin_loss", {"margin": "0"}),
        ("gaussian_nll_loss", {"var": "-1"}),
    ],
)
def test_parameter_outside_torchs_range(name: str, params: dict) -> None:
    loss = get_loss(f"torch.{name}")
    arrays = {"y_true": [[0.0]], "y_pred": [[1.0]]}
    if name == "triplet_margin_loss":
        arrays = {"y_pred": [[1.0]], "positive": [[0.0]], "negative": [[2.0]]}
    with pytest.raises(UsageError):
        evaluate(loss, arrays, loss.resolve_params(params))


def test_multi_margin_p_is_one_or_two() -> None:
    with pytest.raises(UsageError):
        get_loss("torch.multi_margin_loss").resolve_params({"p": "3"})


def test_cross_entropy_target_width() -> None:
    loss = get_loss("torch.cross_entropy")
    with pytest.raises(UsageError, match="class indices"):
        evaluate(loss, {"y_true": np.zeros((2, 2)), "y_pred": np.zeros((2, 3))})


# --- properties ---------------------------------------------------------------------------------

ELEMENTWISE = ["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "soft_margin_loss"]
PER_SAMPLE = ["multilabel_soft_margin_loss", "cosine_embedding_loss"]
finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def _pair(rows: int, cols: int):
    return hnp.arrays(np.float64, (rows, cols), elements=finite)


@settings(max_examples=40, deadline=None)
@given(
    data=st.data(),
    rows=st.integers(1, 5),
    cols=st.integers(1, 4),
    name=st.sampled_from(ELEMENTWISE + PER_SAMPLE),
)
def test_sum_is_mean_times_count(data, rows: int, cols: int, name: str) -> None:
    loss = get_loss(f"torch.{name}")
    arrays = {"y_true": data.draw(_pair(rows, cols)), "y_pred": data.draw(_pair(rows, cols))}
    if name == "cosine_embedding_loss":
        arrays["input2"] = arrays.pop("y_true")
        arrays["y_true"] = data.draw(
            hnp.arrays(np.float64, (rows, 1), elements=st.sampled_from([-1.0, 1.0]))
        )
    count = rows * cols if name in ELEMENTWISE else rows
    total = evaluate(loss, arrays, None, "sum")
    mean = evaluate(loss, arrays, None, "mean")
    assert total == pytest.approx(mean * count, rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    y=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 3)), elements=finite),
    name=st.sampled_from(["l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss"]),
)
def test_perfect_prediction_costs_nothing(y: np.ndarray, name: str) -> None:
    loss = get_loss(f"torch.{name}")
    assert evaluate(loss, {"y_true": y, "y_pred": y}, None, "sum") == 0.0
    assert not gradient(loss, {"y_true": y, "y_pred": y}, None, "sum").any()


@settings(max_examples=30, deadline=None)
@given(
    logits=hnp.arrays(np.float64, (5, 3), elements=finite),
    labels=hnp.arrays(np.int64, (5, 1), elements=st.integers(0, 2)),
    order=st.permutations(range(5)),
)
def test_weighted_cross_entropy_mean_divides_by_target_weights(logits, labels, order) -> None:
    loss = get_loss("torch.cross_entropy")
    params = loss.resolve_params({"weight": "1,2,0.5"})
    arrays = {"y_true": labels.astype(float), "y_pred": logits}
    total = evaluate(loss, arrays, params, "sum")
    mean = evaluate(loss, arrays, params, "mean")
    assert mean == pytest.approx(total / np.array([1, 2, 0.5])[labels[:, 0]].sum(), rel=1e-12)
    shuffled = {role: a[list(order)] for role, a in arrays.items()}
    assert evaluate(loss, shuffled, params, "mean") == pytest.approx(mean, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    logits=hnp.arrays(np.float64, (4, 3), elements=finite),
    labels=hnp.arrays(np.int64, (4,), elements=st.integers(0, 2)),
)
def test_cross_entropy_index_equals_one_hot(logits, labels) -> None:
    loss = get_loss("torch.cross_entropy")
    one_hot = np.eye(3)[labels]
    by_index = evaluate(
        loss, {"y_true": labels[:, None].astype(float), "y_pred": logits}, None, "none"
    )
    by_probability = evaluate(loss, {"y_true": one_hot, "y_pred": logits}, None, "none")
    np.testing.assert_allclose(by_index, by_probability, rtol=1e-12, atol=1e-12)


def test_binary_cross_entropy_clamps_log_at_minus_100() -> None:
    loss = get_loss("torch.binary_cross_entropy")
    arrays = {"y_true": [[1.0, 0.0]], "y_pred": [[0.0, 1.0]]}
    np.testing.assert_array_equal(evaluate(loss, arrays, None, "none"), [[100.0, 100.0]])
    grad = gradient(loss, arrays, None, "sum")
    assert np.all(np.isfinite(grad))
    assert grad[0, 0] < -1e11 < 1e11 < grad[0, 1]


def test_kl_div_batchmean_divides_by_rows() -> None:
    loss = get_loss("torch.kl_div")
    arrays = {"y_true": [[0.2, 0.8], [0.5, 0.5]], "y_pred": [[-1.0, -0.5], [-0.7, -0.7]]}
    total = evaluate(loss, arrays, None, "sum")
    assert evaluate(loss, arrays, None, "batchmean") == pytest.approx(total / 2)
    with pytest.raises(UsageError):
        evaluate(
            get_loss("torch.mse_loss"), {"y_true": [[0.0]], "y_pred": [[1.0]]}, None, "batchmean"
        )


def test_bce_weight_list_rescales_each_column() -> None:
    loss = get_loss("torch.binary_cross_entropy")
    inputs = {"y_true": [[1.0, 0.0], [0.0, 1.0]], "y_pred": [[0.8, 0.3], [0.4, 0.6]]}
    listed = evaluate(loss, inputs, loss.resolve_params({"weight": "2,0.5"}), "none")
    column = evaluate(loss, {**inputs, "weight": [[2.0, 0.5], [2.0, 0.5]]}, loss.resolve_params({}), "none")
    np.testing.assert_array_equal(listed, column)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_bce_weight_as_column_and_list_is_a_usage_error(name: str) -> None:
    loss = get_loss(f"torch.{name}")
    inputs = {"y_true": [[1.0, 0.0]], "y_pred": [[0.8, 0.3]], "weight": [[1.0, 2.0]]}
    with pytest.raises(UsageError, match="not both"):
        evaluate(loss, inputs, loss.resolve_params({"weight": "2,0.5"}))
    with pytest.raises(UsageError, match="one per column"):
        evaluate(loss, {"y_true": [[1.0, 0.0]], "y_pred": [[0.8, 0.3]]},
                 loss.resolve_params({"weight": "1,2,3"}))


def test_ctc_mean_divides_each_loss_by_its_target_length() -> None:
    loss = get_loss("torch.ctc_loss")
    rng = np.random.default_rng(2)
    log_probs = np.log(rng.dirichlet(np.ones(3), (2, 4))).reshape(2, 12)
    inputs = {"y_true": [[1.0, 2.0], [2.0, 0.0]], "y_pred": log_probs}
    params = loss.resolve_params({"classes": "3"})
    rows = evaluate(loss, inputs, params, "none")
    assert evaluate(loss, inputs, params, "mean") == pytest.approx((rows[0] / 2 + rows[1] / 1) / 2, rel=1e-14)
    assert evaluate(loss, inputs, params, "sum") == pytest.approx(rows.sum(), rel=1e-14)


@pytest.mark.parametrize(
    ("extra", "params", "message"),
    [({"input_length": [[6.0], [2.0]]}, {}, "input_length 6.0 is not a whole number in 1..4"),
     ({"target_length": [[1.0], [3.0]]}, {}, "target_length 3.0"),
     ({"input_length": [[2.0], [2.0]]}, {"input_length": "2"}, "not both"),
     ({}, {"blank": "3"}, "blank 3 is not a class")],
)
def test_ctc_lengths_are_checked(extra, params, message: str) -> None:
    loss = get_loss("torch.ctc_loss")
    inputs = {"y_true": [[1.0, 2.0], [2.0, 0.0]], "y_pred": np.full((2, 12), np.log(1 / 3)), **extra}
    with pytest.raises((UsageError, InputValueError), match=message):
        evaluate(loss, inputs, loss.resolve_params({"classes": "3", **params}))


def test_ctc_zero_infinity() -> None:
    loss = get_loss("torch.ctc_loss")
    inputs = {"y_true": [[1.0, 1.0]], "y_pred": np.full((1, 6), np.log(1 / 3))}  # 2 frames, 3 needed
    assert evaluate(loss, inputs, loss.resolve_params({"classes": "3"}), "sum") == np.inf
    params = loss.resolve_params({"classes": "3", "zero_infinity": "true"})
    assert evaluate(loss, inputs, params, "sum") == 0.0
    assert np.all(gradient(loss, inputs, params, "sum") == 0.0)
