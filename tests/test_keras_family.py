"""The Keras family beyond the reference fixtures: gradients by central differences, names,
input validation and properties that hold for any valid input. Needs neither Keras nor TF."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lossctl.errors import InputValueError, UsageError
from lossctl.losses import REGISTRY, get_loss
from lossctl.losses.evaluate import evaluate, gradient

KERAS = sorted(loss.name for loss in REGISTRY if loss.family.name == "keras")
TORCH_FUNCTIONS = {
    "l1_loss", "mse_loss", "huber_loss", "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div",
    "poisson_nll_loss", "gaussian_nll_loss", "soft_margin_loss", "multilabel_soft_margin_loss",
    "multi_margin_loss", "multilabel_margin_loss", "hinge_embedding_loss", "margin_ranking_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "MSELoss", "L1Loss", "HuberLoss",
    "SmoothL1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "KLDivLoss",
    "PoissonNLLLoss", "GaussianNLLLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiMarginLoss", "MultiLabelMarginLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
    "CosineEmbeddingLoss", "TripletMarginLoss",
}

N, K = 5, 3
Maker = Callable[[np.random.Generator], dict[str, np.ndarray]]


def _probs(rng: np.random.Generator, n: int = N, k: int = K) -> np.ndarray:
    p = rng.uniform(0.05, 1.0, size=(n, k))
    return p / p.sum(axis=1, keepdims=True)


def _onehot(rng: np.random.Generator, n: int = N, k: int = K) -> np.ndarray:
    return np.eye(k)[rng.integers(0, k, size=n)]


def _labels(rng: np.random.Generator, n: int = N, k: int = K) -> np.ndarray:
    return rng.integers(0, k, size=(n, 1)).astype(np.float64)


def _real(rng):
    return {"y_true": rng.normal(size=(N, K)), "y_pred": rng.normal(size=(N, K))}


def _positive(rng):
    return {"y_true": rng.uniform(0.1, 3.0, (N, K)), "y_pred": rng.uniform(0.1, 3.0, (N, K))}


def _signs(rng):
    return {"y_true": rng.choice([-1.0, 1.0], (N, K)), "y_pred": rng.normal(size=(N, K))}


def _binary(rng):
    return {"y_true": rng.integers(0, 2, (N, K)).astype(float), "y_pred": rng.uniform(0.05, 0.95, (N, K))}


def _binary_logits(rng):
    return {"y_true": rng.uniform(0.0, 1.0, (N, K)), "y_pred": rng.normal(scale=3.0, size=(N, K))}


def _categorical(rng):  # y_pred is deliberately not normalised: Keras renormalises it
    return {"y_true": _onehot(rng), "y_pred": rng.uniform(0.05, 1.0, (N, K))}


def _categorical_logits(rng):
    return {"y_true": _probs(rng), "y_pred": rng.normal(scale=2.0, size=(N, K))}


def _sparse(rng):
    return {"y_true": _labels(rng), "y_pred": rng.uniform(0.05, 0.9, (N, K))}


def _sparse_logits(rng):
    return {"y_true": _labels(rng), "y_pred": rng.normal(scale=2.0, size=(N, K))}


def _distributions(rng):
    return {"y_true": _probs(rng), "y_pred": _probs(rng)}


def _circle(rng):
    x = rng.normal(size=(6, 3))
    return {"y_true": np.array([[0.0], [1.0], [0.0], [2.0], [1.0], [2.0]]),
            "y_pred": x / np.linalg.norm(x, axis=1, keepdims=True)}


def _ctc(rng):  # N sequences of 4 frames x 3 classes (blank 0), one or two labels each
    labels = np.array([[1.0, 2.0], [2.0, 0.0], [1.0, 1.0], [2.0, 1.0], [1.0, 0.0]])
    return {"y_true": labels, "y_pred": rng.normal(scale=1.5, size=(N, 12))}


# (loss, params as typed, input maker): every Keras loss, and the variants that change the math.
GRAD_CASES: list[tuple[str, dict[str, str], Maker]] = [
    ("mean_squared_error", {}, _real),
    ("mean_absolute_error", {}, _real),
    ("mean_absolute_percentage_error", {}, _real),
    ("mean_squared_logarithmic_error", {}, _positive),
    ("cosine_similarity", {}, _real),
    ("huber", {}, _real),
    ("huber", {"delta": "0.3"}, _real),
    ("log_cosh", {}, _real),
    ("hinge", {}, _signs),
    ("squared_hinge", {}, _signs),
    ("categorical_hinge", {}, lambda rng: {"y_true": _onehot(rng), "y_pred": rng.normal(size=(N, K))}),
    ("kl_divergence", {}, _distributions),
    ("poisson", {}, _positive),
    ("binary_crossentropy", {}, _binary),
    ("binary_crossentropy", {"label_smoothing": "0.2"}, _binary),
    ("binary_crossentropy", {"from_logits": "true"}, _binary_logits),
    ("binary_focal_crossentropy", {}, _binary),
    ("binary_focal_crossentropy", {"apply_class_balancing": "true", "gamma": "1.5"}, _binary),
    ("binary_focal_crossentropy", {"from_logits": "true", "label_smoothing": "0.1"}, _binary_logits),
    ("categorical_crossentropy", {}, _categorical),
    ("categorical_crossentropy", {"label_smoothing": "0.1"}, _categorical),
    ("categorical_crossentropy", {"from_logits": "true"}, _categorical_logits),
    ("categorical_focal_crossentropy", {}, _categorical),
    ("categorical_focal_crossentropy", {"alpha": "0.2,0.3,0.5", "gamma": "1"}, _categorical),
    ("categorical_focal_crossentropy", {"from_logits": "true"}, _categorical_logits),
    ("sparse_categorical_crossentropy", {}, _sparse),
    ("sparse_categorical_crossentropy", {"from_logits": "true"}, _sparse_logits),
    ("sparse_categorical_crossentropy", {"ignore_class": "1"}, _sparse),
    ("categorical_generalized_cross_entropy", {}, _sparse),
    ("categorical_generalized_cross_entropy", {"q": "0.8"}, _sparse),
    ("dice", {}, _binary),
    ("dice", {"axis": "1"}, _binary),
    ("tversky", {"alpha": "0.7", "beta": "0.3"}, _binary),
    ("tversky", {"axis": "-1"}, _binary),
    ("ctc", {"classes": "3"}, _ctc),
    ("circle", {"gamma": "2"}, _circle),
    ("circle", {"gamma": "3", "margin": "0.25", "remove_diagonal": "false"}, _circle),
]


def _case_id(case: tuple) -> str:
    name, params, _ = case
    return name + "".join(f"-{k}={v}" for k, v in params.items())


def test_every_keras_loss_has_a_gradient_check() -> None:
    assert {name for name, _, _ in GRAD_CASES} == set(KERAS)


@pytest.mark.parametrize("case", GRAD_CASES, ids=[_case_id(c) for c in GRAD_CASES])
@pytest.mark.parametrize("reduction", ["sum", "mean_with_sample_weight"])
def test_gradient_matches_central_differences(case, reduction: str) -> None:
    name, typed, make = case
    rng = np.random.default_rng(zlib.crc32(_case_id(case).encode()))
    loss = get_loss(f"keras.{name}")
    params = loss.resolve_params(typed)
    inputs = make(rng)
    sw = rng.uniform(0.5, 2.0, size=inputs["y_pred"].shape[0])
    got = gradient(loss, inputs, params, reduction, sw)
    assert got.shape == inputs["y_pred"].shape
    h = 1e-6
    expected = np.zeros_like(got)
    for index in np.ndindex(*inputs["y_pred"].shape):
        up, down = ({**inputs, "y_pred": inputs["y_pred"].copy()} for _ in range(2))
        up["y_pred"][index] += h
        down["y_pred"][index] -= h
        f_up = evaluate(loss, up, params, reduction, sw)
        f_down = evaluate(loss, down, params, reduction, sw)
        expected[index] = (f_up - f_down) / (2 * h)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "qualified"),
    [
        ("mse", "keras.mean_squared_error"),
        ("MSE", "keras.mean_squared_error"),
        ("MeanSquaredError", "keras.mean_squared_error"),
        ("keras.mse", "keras.mean_squared_error"),
        ("mae", "keras.mean_absolute_error"),
        ("mape", "keras.mean_absolute_percentage_error"),
        ("msle", "keras.mean_squared_logarithmic_error"),
        ("logcosh", "keras.log_cosh"),
        ("LogCosh", "keras.log_cosh"),
        ("cosine_proximity", "keras.cosine_similarity"),
        ("kld", "keras.kl_divergence"),
        ("kullback_leibler_divergence", "keras.kl_divergence"),
        ("KLDivergence", "keras.kl_divergence"),
        ("bce", "keras.binary_crossentropy"),
        ("BinaryCrossentropy", "keras.binary_crossentropy"),
        ("Huber", "keras.huber"),
        ("huber", "keras.huber"),
        ("SparseCategoricalCrossentropy", "keras.sparse_categorical_crossentropy"),
        ("CategoricalGeneralizedCrossEntropy", "keras.categorical_generalized_cross_entropy"),
    ],
)
def test_aliases_resolve(name: str, qualified: str) -> None:
    assert get_loss(name).qualified_name == qualified


def test_no_keras_alias_is_a_torch_name() -> None:
    for loss in REGISTRY:
        if loss.family.name == "keras":
            clash = {loss.name, *loss.aliases} & TORCH_FUNCTIONS
            assert not clash, f"{loss.qualified_name} claims torch name(s) {clash}"


def test_huber_loss_is_not_a_keras_name() -> None:
    assert "huber_loss" not in get_loss("keras.huber").aliases


def test_every_keras_loss_documents_itself() -> None:
    for name in KERAS:
        loss = get_loss(f"keras.{name}")
        assert loss.summary
        assert "\n" not in loss.summary
        assert loss.formula
        doc = loss.value.__doc__ or ""
        assert "loss" in doc, name
        assert "(n" in doc, name
        value = evaluate(loss, loss.example, dict(loss.example_params), "none")
        assert np.all(np.isfinite(value)), name


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["sparse_categorical_crossentropy", "categorical_generalized_cross_entropy"]
)
@pytest.mark.parametrize(("bad", "row"), [(1.5, 2), (3.0, 1), (-1.0, 3)])
def test_bad_class_index_names_its_row(name: str, bad: float, row: int) -> None:
    y_true = np.array([[0.0], [2.0], [1.0], [0.0]])
    y_true[row, 0] = bad
    y_pred = np.full((4, 3), 1.0 / 3.0)
    with pytest.raises(InputValueError) as info:
        evaluate(get_loss(f"keras.{name}"), {"y_true": y_true, "y_pred": y_pred})
    assert (info.value.row, info.value.role, info.value.column) == (row, "y_true", 0)


def test_ignore_class_may_lie_outside_the_classes() -> None:
    loss = get_loss("keras.sparse_categorical_crossentropy")
    params = loss.resolve_params({"ignore_class": "255"})
    values = evaluate(loss, {"y_true": [[255.0], [1.0]], "y_pred": [[0.2, 0.8], [0.2, 0.8]]},
                      params, "none")
    assert values[0] == 0.0
    assert values[1] == pytest.approx(-np.log(0.8))


def test_circle_labels_must_be_integers() -> None:
    with pytest.raises(InputValueError) as info:
        evaluate(get_loss("keras.circle"), {"y_true": [[0.0], [0.5]], "y_pred": [[1.0, 0.0]] * 2})
    assert info.value.row == 1


@pytest.mark.parametrize(
    ("name", "axis"),
    [("binary_crossentropy", 0), ("cosine_similarity", 2), ("categorical_crossentropy", None),
     ("dice", 0), ("tversky", 2), ("sparse_categorical_crossentropy", 0), ("huber", None)],
)
def test_bad_axis_is_a_usage_error(name: str, axis: int | None) -> None:
    loss = get_loss(f"keras.{name}")
    rng = np.random.default_rng(0)
    inputs = _sparse(rng) if name.startswith("sparse") else _binary(rng)
    params = loss.resolve_params({}) | {"axis": axis}
    if name == "huber":  # huber has no axis: the CLI refuses it
        with pytest.raises(UsageError, match="no parameter 'axis'"):
            loss.resolve_params({"axis": "1"})
        return
    with pytest.raises(UsageError, match="axis"):
        evaluate(loss, inputs, params)
    with pytest.raises(UsageError, match="axis"):
        gradient(loss, inputs, params)


def test_axis_text_none_is_refused_where_keras_needs_an_integer() -> None:
    with pytest.raises(UsageError, match="axis"):
        get_loss("keras.binary_crossentropy").resolve_params({"axis": "none"})


def test_q_outside_the_open_unit_interval_is_a_usage_error() -> None:
    loss = get_loss("keras.categorical_generalized_cross_entropy")
    with pytest.raises(UsageError, match="q"):
        evaluate(loss, _sparse(np.random.default_rng(0)), loss.resolve_params({"q": "1"}))


def test_alpha_list_must_match_the_classes() -> None:
    loss = get_loss("keras.categorical_focal_crossentropy")
    with pytest.raises(UsageError, match="alpha"):
        evaluate(loss, _categorical(np.random.default_rng(0)), loss.resolve_params({"alpha": "1,2"}))


# --- properties -----------------------------------------------------------------------------

PER_SAMPLE = [
    (name, make) for name, typed, make in GRAD_CASES
    if not typed and not get_loss(f"keras.{name}").batchwise
]
rows = st.integers(min_value=1, max_value=6)


@pytest.mark.parametrize(("name", "make"), PER_SAMPLE, ids=[n for n, _ in PER_SAMPLE])
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_sum_is_mean_times_n(name: str, make: Maker, seed: int) -> None:
    loss = get_loss(f"keras.{name}")
    inputs = make(np.random.default_rng(seed))
    n = inputs["y_pred"].shape[0]
    total = evaluate(loss, inputs, reduction="sum")
    assert total == pytest.approx(evaluate(loss, inputs, reduction="mean") * n, rel=1e-12, abs=1e-12)
    assert evaluate(loss, inputs, reduction="sum_over_batch_size") == evaluate(loss, inputs)


@pytest.mark.parametrize(("name", "make"), PER_SAMPLE, ids=[n for n, _ in PER_SAMPLE])
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_values_follow_the_rows(name: str, make: Maker, seed: int, data) -> None:
    loss = get_loss(f"keras.{name}")
    inputs = make(np.random.default_rng(seed))
    order = data.draw(st.permutations(range(inputs["y_pred"].shape[0])))
    shuffled = {role: a[list(order)] for role, a in inputs.items()}
    np.testing.assert_allclose(
        evaluate(loss, shuffled, reduction="none"),
        evaluate(loss, inputs, reduction="none")[list(order)], rtol=1e-13, atol=0,
    )


finite = st.floats(-1e3, 1e3, allow_nan=False)


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "huber"])
@given(y=rows.flatmap(lambda n: arrays(np.float64, (n, 2), elements=finite)))
def test_perfect_prediction_scores_zero(name: str, y: np.ndarray) -> None:
    loss = get_loss(f"keras.{name}")
    assert np.all(evaluate(loss, {"y_true": y, "y_pred": y}, reduction="none") == 0.0)
    assert np.all(gradient(loss, {"y_true": y, "y_pred": y}, reduction="sum") == 0.0)


@given(y=rows.flatmap(lambda n: arrays(np.float64, (n, 2), elements=finite)))
def test_log_cosh_of_a_perfect_prediction_is_zero(y: np.ndarray) -> None:
    # log(2) in float64 (TensorFlow's float32 constant would leave -1.9e-9)
    values = evaluate(get_loss("keras.log_cosh"), {"y_true": y, "y_pred": y}, reduction="none")
    assert np.all(values == 0.0)


def test_focal_alpha_list_is_not_rounded_to_float32() -> None:
    loss = get_loss("keras.categorical_focal_crossentropy")
    inputs = {"y_true": [[0.0, 1.0]], "y_pred": [[0.5, 0.5]]}
    listed = evaluate(loss, inputs, loss.resolve_params({"alpha": "0.1,0.1", "gamma": "0"}), "none")
    single = evaluate(loss, inputs, loss.resolve_params({"alpha": "0.1", "gamma": "0"}), "none")
    assert listed[0] == single[0] == 0.1 * np.log(2.0)


@given(p=rows.flatmap(lambda n: arrays(np.float64, (n, 3), elements=st.floats(-50, 50))),
       t=st.integers(0, 2))
def test_crossentropy_from_logits_is_finite_and_non_negative(p: np.ndarray, t: int) -> None:
    y = np.full((p.shape[0], 1), float(t))
    loss = get_loss("keras.sparse_categorical_crossentropy")
    values = evaluate(loss, {"y_true": y, "y_pred": p}, {"from_logits": True}, "none")
    assert np.all(np.isfinite(values))
    assert np.all(values >= -1e-12)


def test_hinge_maps_01_labels_only_when_all_labels_are_binary() -> None:
    loss = get_loss("keras.hinge")
    pred = np.array([[0.5], [0.5]])
    mapped = evaluate(loss, {"y_true": [[0.0], [1.0]], "y_pred": pred}, reduction="none")
    kept = evaluate(loss, {"y_true": [[0.0], [-1.0]], "y_pred": pred}, reduction="none")
    np.testing.assert_allclose(mapped, [1.5, 0.5])  # 0 -> -1
    np.testing.assert_allclose(kept, [1.0, 1.5])  # 0 stays 0


def test_ctc_needs_its_layout() -> None:
    loss = get_loss("keras.ctc")
    inputs = _ctc(np.random.default_rng(0))
    with pytest.raises(UsageError, match="classes=C"):
        evaluate(loss, inputs)
    with pytest.raises(UsageError, match="whole number of frames"):
        evaluate(loss, inputs, {"classes": 5})


@pytest.mark.parametrize(
    ("labels", "message", "column"),
    [([[0.0, 1.0]], "follows a blank", 1), ([[3.0, 0.0]], "not a class index", 0),
     ([[1.5, 0.0]], "not a class index", 0)],
)
def test_ctc_labels_are_checked(labels, message: str, column: int) -> None:
    with pytest.raises(InputValueError, match=message) as info:
        evaluate(get_loss("keras.ctc"), {"y_true": labels, "y_pred": np.zeros((1, 6))}, {"classes": 3})
    assert (info.value.row, info.value.role, info.value.column) == (0, "y_true", column)


def test_dice_over_the_batch_is_one_number() -> None:
    loss = get_loss("keras.dice")
    inputs = _binary(np.random.default_rng(1))
    assert np.ndim(evaluate(loss, inputs, reduction="none")) == 0
    assert evaluate(loss, inputs, {"axis": 1}, "none").shape == (N,)
