"""Write tests/fixtures/torch_losses.json: reference values and gradients from the real torch.

Needs torch (the test suite does not). Run from the repository root with the reference env:

    python tools/make_fixtures_torch.py

Every case calls a `torch.nn.functional` loss in float64 with one reduction and records the value
and the autograd gradient of that value with respect to torch's `input` (`input1`, `x1`, `anchor`),
which lossctl calls y_pred; for reduction `none` the gradient is that of the sum. Parameters are
stored as the text a user types after `-p`, and parsed here the same way (numbers, true/false,
comma-separated lists), so a fixture checks the command-line spelling too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "torch_losses.json"
DT = torch.float64
RNG = np.random.default_rng(20240613)
REDUCTIONS = ("none", "sum", "mean")


# --- inputs -------------------------------------------------------------------------------------


def normal(n: int, k: int, scale: float = 1.0) -> list[list[float]]:
    return np.round(RNG.normal(0.0, scale, (n, k)), 4).tolist()


def uniform(n: int, k: int, low: float = 0.0, high: float = 1.0) -> list[list[float]]:
    return np.round(RNG.uniform(low, high, (n, k)), 4).tolist()


def binary(n: int, k: int) -> list[list[float]]:
    return RNG.integers(0, 2, (n, k)).astype(float).tolist()


def signs(n: int, k: int) -> list[list[float]]:
    return (RNG.integers(0, 2, (n, k)) * 2 - 1).astype(float).tolist()


def labels(values: list[int]) -> list[list[float]]:
    return [[float(v)] for v in values]


def distribution(n: int, k: int) -> list[list[float]]:
    raw = RNG.uniform(0.05, 1.0, (n, k))
    return (raw / raw.sum(axis=1, keepdims=True)).tolist()


def log_distribution(n: int, k: int) -> list[list[float]]:
    return np.log(np.asarray(distribution(n, k))).tolist()


# --- parameters as typed by a user --------------------------------------------------------------


def parse(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if "," in text:
        return [float(part) for part in text.split(",")]
    try:
        number = float(text)
    except ValueError:
        return text  # a name: triplet_margin_with_distance_loss's distance
    return int(number) if number.is_integer() and "." not in text and "e" not in lowered else number


def tensor(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=DT)


def index_tensor(rows) -> torch.Tensor:
    return torch.tensor([int(r[0]) for r in rows], dtype=torch.long)


# --- how each lossctl loss calls torch ----------------------------------------------------------


def _elementwise(fn, weight_ok: bool):
    def call(x, inputs, params, reduction):
        kwargs = dict(params)
        if "weight" in inputs:
            assert weight_ok
            kwargs["weight"] = tensor(inputs["weight"])
        return fn(x, tensor(inputs["y_true"]), reduction=reduction, **kwargs)

    return call


def _bce(x, inputs, params, reduction):
    kwargs = {}
    if "weight" in inputs:
        kwargs["weight"] = tensor(inputs["weight"])
    if "weight" in params:  # a list broadcast over the rows (or one number)
        kwargs["weight"] = tensor(params["weight"])
    return F.binary_cross_entropy(x, tensor(inputs["y_true"]), reduction=reduction, **kwargs)


def _bce_logits(x, inputs, params, reduction):
    kwargs = {}
    if "weight" in inputs:
        kwargs["weight"] = tensor(inputs["weight"])
    if "weight" in params:
        kwargs["weight"] = tensor(params["weight"])
    if "pos_weight" in params:
        kwargs["pos_weight"] = tensor(params["pos_weight"])
    return F.binary_cross_entropy_with_logits(
        x, tensor(inputs["y_true"]), reduction=reduction, **kwargs
    )


def _class_weight(params) -> dict:
    out = dict(params)
    if "weight" in out:
        out["weight"] = tensor(out["weight"])
    return out


def _cross_entropy(x, inputs, params, reduction):
    y = inputs["y_true"]
    target = index_tensor(y) if len(y[0]) == 1 and x.shape[1] != 1 else tensor(y)
    return F.cross_entropy(x, target, reduction=reduction, **_class_weight(params))


def _nll(x, inputs, params, reduction):
    return F.nll_loss(
        x, index_tensor(inputs["y_true"]), reduction=reduction, **_class_weight(params)
    )


def _multi_margin(x, inputs, params, reduction):
    return F.multi_margin_loss(
        x, index_tensor(inputs["y_true"]), reduction=reduction, **_class_weight(params)
    )


def _multilabel_soft_margin(x, inputs, params, reduction):
    return F.multilabel_soft_margin_loss(
        x, tensor(inputs["y_true"]), reduction=reduction, **_class_weight(params)
    )


def _multilabel_margin(x, inputs, params, reduction):
    target = torch.tensor(inputs["y_true"], dtype=torch.long)
    return F.multilabel_margin_loss(x, target, reduction=reduction)


def _gaussian(x, inputs, params, reduction):
    kwargs = dict(params)
    var = kwargs.pop("var") if "var" in kwargs else tensor(inputs["var"])
    return F.gaussian_nll_loss(
        x,
        tensor(inputs["y_true"]),
        float(var) if isinstance(var, int) else var,
        reduction=reduction,
        **kwargs,
    )


def _margin_ranking(x, inputs, params, reduction):
    return F.margin_ranking_loss(
        x, tensor(inputs["input2"]), tensor(inputs["y_true"]), reduction=reduction, **params
    )


def _cosine(x, inputs, params, reduction):
    target = tensor([r[0] for r in inputs["y_true"]])
    return F.cosine_embedding_loss(
        x, tensor(inputs["input2"]), target, reduction=reduction, **params
    )


def _triplet(x, inputs, params, reduction):
    return F.triplet_margin_loss(
        x, tensor(inputs["positive"]), tensor(inputs["negative"]), reduction=reduction, **params
    )


def _triplet_distance(x, inputs, params, reduction):
    kwargs = dict(params)
    distance = kwargs.pop("distance", "euclidean")
    if distance == "cosine":
        kwargs["distance_function"] = lambda u, v: 1.0 - F.cosine_similarity(u, v)
    return F.triplet_margin_with_distance_loss(
        x, tensor(inputs["positive"]), tensor(inputs["negative"]), reduction=reduction, **kwargs
    )


def _ctc(x, inputs, params, reduction):
    """y_pred (N, T*C) -> torch's (T, N, C); lengths from the columns, the parameters, or else T
    frames and the labels before the blank padding."""
    kwargs = dict(params)
    classes = kwargs.pop("classes")
    blank = kwargs.get("blank", 0)
    n = x.shape[0]
    log_probs = x.reshape(n, -1, classes).transpose(0, 1)
    targets = torch.tensor(inputs["y_true"], dtype=torch.long)

    def lengths(role, default):
        if role in inputs:
            return torch.tensor([int(r[0]) for r in inputs[role]], dtype=torch.long)
        if role in kwargs:
            return torch.full((n,), kwargs.pop(role), dtype=torch.long)
        return default

    input_lengths = lengths("input_length", torch.full((n,), log_probs.shape[0], dtype=torch.long))
    target_lengths = lengths("target_length", (targets != blank).sum(dim=1))
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction=reduction, **kwargs)


def _kl(x, inputs, params, reduction):
    return F.kl_div(x, tensor(inputs["y_true"]), reduction=reduction, **params)


CALLS = {
    "l1_loss": _elementwise(F.l1_loss, True),
    "mse_loss": _elementwise(F.mse_loss, True),
    "huber_loss": _elementwise(F.huber_loss, True),
    "smooth_l1_loss": _elementwise(F.smooth_l1_loss, False),
    "binary_cross_entropy": _bce,
    "binary_cross_entropy_with_logits": _bce_logits,
    "poisson_nll_loss": _elementwise(F.poisson_nll_loss, False),
    "soft_margin_loss": _elementwise(F.soft_margin_loss, False),
    "hinge_embedding_loss": _elementwise(F.hinge_embedding_loss, False),
    "kl_div": _kl,
    "gaussian_nll_loss": _gaussian,
    "cross_entropy": _cross_entropy,
    "nll_loss": _nll,
    "multi_margin_loss": _multi_margin,
    "multilabel_soft_margin_loss": _multilabel_soft_margin,
    "multilabel_margin_loss": _multilabel_margin,
    "margin_ranking_loss": _margin_ranking,
    "cosine_embedding_loss": _cosine,
    "triplet_margin_loss": _triplet,
    "triplet_margin_with_distance_loss": _triplet_distance,
    "ctc_loss": _ctc,
}


# --- the cases ----------------------------------------------------------------------------------


def specs():
    """(id, loss, params as typed, inputs, reductions)."""
    r = REDUCTIONS
    yield "l1", "l1_loss", {}, {"y_true": normal(4, 1), "y_pred": normal(4, 1)}, r
    yield (
        "l1-3col-ties",
        "l1_loss",
        {},
        {
            "y_true": [[0.0, 1.0, 2.0], [1.0, -1.0, 0.5]],
            "y_pred": [[0.0, 1.5, 2.0], [0.0, -1.0, 0.25]],
        },
        r,
    )
    yield (
        "l1-weight",
        "l1_loss",
        {},
        {
            "y_true": normal(3, 2),
            "y_pred": normal(3, 2),
            "weight": uniform(3, 2, 0.1, 2.0),
        },
        r,
    )
    yield "mse", "mse_loss", {}, {"y_true": normal(4, 1), "y_pred": normal(4, 1)}, r
    yield "mse-3col", "mse_loss", {}, {"y_true": normal(3, 3), "y_pred": normal(3, 3)}, r
    yield (
        "mse-weight",
        "mse_loss",
        {},
        {
            "y_true": normal(3, 2),
            "y_pred": normal(3, 2),
            "weight": uniform(3, 2, 0.0, 2.0),
        },
        r,
    )
    yield "huber", "huber_loss", {}, {"y_true": normal(3, 2), "y_pred": normal(3, 2, 2.0)}, r
    yield (
        "huber-delta-kink",
        "huber_loss",
        {"delta": "0.5"},
        {
            "y_true": [[0.0, 0.0, 1.0, 0.0]],
            "y_pred": [[0.5, -0.5, 1.0, 2.0]],
        },
        r,
    )
    yield (
        "huber-weight",
        "huber_loss",
        {"delta": "1.5"},
        {
            "y_true": normal(3, 2),
            "y_pred": normal(3, 2, 2.0),
            "weight": uniform(3, 2, 0.1, 2.0),
        },
        r,
    )
    yield "smoothl1", "smooth_l1_loss", {}, {"y_true": normal(3, 2), "y_pred": normal(3, 2, 2.0)}, r
    yield (
        "smoothl1-beta",
        "smooth_l1_loss",
        {"beta": "0.25"},
        {
            "y_true": [[0.0, 0.0, 1.0], [0.0, 3.0, 0.0]],
            "y_pred": [[0.25, -0.1, 1.0], [-0.25, 2.0, 0.0]],
        },
        r,
    )
    yield (
        "smoothl1-beta0",
        "smooth_l1_loss",
        {"beta": "0"},
        {
            "y_true": [[0.0, 1.0], [2.0, 0.5]],
            "y_pred": [[0.5, 1.0], [1.0, -0.5]],
        },
        r,
    )
    yield (
        "bce",
        "binary_cross_entropy",
        {},
        {"y_true": binary(4, 1), "y_pred": uniform(4, 1, 0.05, 0.95)},
        r,
    )
    yield (
        "bce-soft-2col",
        "binary_cross_entropy",
        {},
        {
            "y_true": uniform(3, 2),
            "y_pred": uniform(3, 2, 0.05, 0.95),
        },
        r,
    )
    yield (
        "bce-edges",
        "binary_cross_entropy",
        {},
        {
            "y_true": [[1.0, 0.0, 0.0, 1.0, 1.0, 0.5]],
            "y_pred": [[0.0, 1.0, 0.0, 1.0, 1e-15, 0.0]],
        },
        r,
    )
    yield (
        "bce-weight",
        "binary_cross_entropy",
        {},
        {
            "y_true": binary(3, 2),
            "y_pred": uniform(3, 2, 0.05, 0.95),
            "weight": uniform(3, 2, 0.1, 2.0),
        },
        r,
    )
    yield (
        "bcelogits",
        "binary_cross_entropy_with_logits",
        {},
        {
            "y_true": binary(4, 1),
            "y_pred": normal(4, 1, 2.0),
        },
        r,
    )
    yield (
        "bcelogits-extreme",
        "binary_cross_entropy_with_logits",
        {},
        {
            "y_true": [[1.0, 0.0, 1.0, 0.0, 0.5]],
            "y_pred": [[1000.0, 1000.0, -1000.0, -1000.0, 0.0]],
        },
        r,
    )
    yield (
        "bcelogits-posw",
        "binary_cross_entropy_with_logits",
        {"pos_weight": "2,0.5,1"},
        {
            "y_true": binary(3, 3),
            "y_pred": normal(3, 3, 2.0),
        },
        r,
    )
    yield (
        "bcelogits-posw-weight",
        "binary_cross_entropy_with_logits",
        {"pos_weight": "3,0.25"},
        {
            "y_true": uniform(3, 2),
            "y_pred": normal(3, 2, 2.0),
            "weight": uniform(3, 2, 0.1, 2.0),
        },
        r,
    )
    yield (
        "poisson",
        "poisson_nll_loss",
        {},
        {
            "y_true": RNG.poisson(2.0, (4, 1)).astype(float).tolist(),
            "y_pred": normal(4, 1),
        },
        r,
    )
    yield (
        "poisson-full",
        "poisson_nll_loss",
        {"full": "true"},
        {
            "y_true": [[0.0, 1.0], [2.0, 5.0]],
            "y_pred": [[0.1, -0.3], [0.7, 1.5]],
        },
        r,
    )
    yield (
        "poisson-rate",
        "poisson_nll_loss",
        {"log_input": "false", "eps": "1e-3"},
        {
            "y_true": [[0.0, 1.0], [2.0, 5.0]],
            "y_pred": [[0.0, 0.5], [2.5, 4.0]],
        },
        r,
    )
    yield (
        "poisson-rate-full",
        "poisson_nll_loss",
        {"log_input": "false", "full": "true"},
        {
            "y_true": [[3.0], [1.5]],
            "y_pred": [[2.0], [1.0]],
        },
        r,
    )
    yield (
        "gauss-varcol",
        "gaussian_nll_loss",
        {},
        {
            "y_true": normal(3, 2),
            "y_pred": normal(3, 2),
            "var": uniform(3, 2, 0.1, 2.0),
        },
        r,
    )
    yield (
        "gauss-var1col",
        "gaussian_nll_loss",
        {"full": "true"},
        {
            "y_true": normal(3, 2),
            "y_pred": normal(3, 2),
            "var": [[0.5], [2.0], [0.0]],
        },
        r,
    )
    yield (
        "gauss-varparam",
        "gaussian_nll_loss",
        {"var": "0.5", "eps": "1e-3"},
        {
            "y_true": normal(3, 1),
            "y_pred": normal(3, 1),
        },
        r,
    )
    yield (
        "softmargin",
        "soft_margin_loss",
        {},
        {"y_true": signs(3, 2), "y_pred": normal(3, 2, 2.0)},
        r,
    )
    yield (
        "softmargin-large",
        "soft_margin_loss",
        {},
        {
            "y_true": [[1.0, -1.0, 1.0]],
            "y_pred": [[50.0, 30.0, 0.0]],
        },
        r,
    )
    yield (
        "mlsoftmargin",
        "multilabel_soft_margin_loss",
        {},
        {
            "y_true": binary(3, 4),
            "y_pred": normal(3, 4, 2.0),
        },
        r,
    )
    yield (
        "mlsoftmargin-weight",
        "multilabel_soft_margin_loss",
        {"weight": "1,2,0.5"},
        {
            "y_true": binary(3, 3),
            "y_pred": normal(3, 3, 2.0),
        },
        r,
    )
    yield (
        "ce",
        "cross_entropy",
        {},
        {"y_true": labels([2, 0, 1, 2]), "y_pred": normal(4, 3, 2.0)},
        r,
    )
    yield (
        "ce-weight",
        "cross_entropy",
        {"weight": "1,2,0.5"},
        {
            "y_true": labels([2, 0, 1, 1]),
            "y_pred": normal(4, 3, 2.0),
        },
        r,
    )
    yield (
        "ce-ignore",
        "cross_entropy",
        {"ignore_index": "1"},
        {
            "y_true": labels([2, 1, 0, 1]),
            "y_pred": normal(4, 3, 2.0),
        },
        r,
    )
    yield (
        "ce-ignore-default",
        "cross_entropy",
        {"weight": "0.5,1,3"},
        {
            "y_true": labels([2, -100, 0]),
            "y_pred": normal(3, 3, 2.0),
        },
        r,
    )
    yield (
        "ce-smooth",
        "cross_entropy",
        {"label_smoothing": "0.1"},
        {
            "y_true": labels([2, 0, 1]),
            "y_pred": normal(3, 3, 2.0),
        },
        r,
    )
    yield (
        "ce-smooth-weight-ignore",
        "cross_entropy",
        {
            "label_smoothing": "0.2",
            "weight": "1,2,0.5,1.5",
            "ignore_index": "3",
        },
        {"y_true": labels([2, 3, 1, 0]), "y_pred": normal(4, 4, 2.0)},
        r,
    )
    yield (
        "ce-all-ignored",
        "cross_entropy",
        {"label_smoothing": "0.1"},
        {"y_true": labels([-100, -100]), "y_pred": normal(2, 3)},
        r,
    )
    yield (
        "ce-extreme",
        "cross_entropy",
        {},
        {
            "y_true": labels([0, 1, 2]),
            "y_pred": [[1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0]],
        },
        r,
    )
    yield (
        "ce-prob",
        "cross_entropy",
        {},
        {"y_true": distribution(3, 3), "y_pred": normal(3, 3, 2.0)},
        r,
    )
    yield (
        "ce-prob-weight-smooth",
        "cross_entropy",
        {"weight": "1,2,0.5", "label_smoothing": "0.3"},
        {
            "y_true": distribution(3, 3),
            "y_pred": normal(3, 3, 2.0),
        },
        r,
    )
    yield "nll", "nll_loss", {}, {"y_true": labels([1, 0, 2]), "y_pred": log_distribution(3, 3)}, r
    yield (
        "nll-weight-ignore",
        "nll_loss",
        {"weight": "2,1,0.5", "ignore_index": "0"},
        {
            "y_true": labels([1, 0, 2, 2]),
            "y_pred": log_distribution(4, 3),
        },
        r,
    )
    yield (
        "nll-all-ignored",
        "nll_loss",
        {},
        {
            "y_true": labels([-100, -100]),
            "y_pred": log_distribution(2, 3),
        },
        r,
    )
    yield (
        "kl",
        "kl_div",
        {},
        {"y_true": distribution(3, 3), "y_pred": log_distribution(3, 3)},
        (*r, "batchmean"),
    )
    yield (
        "kl-zero-target",
        "kl_div",
        {},
        {
            "y_true": [[0.0, 1.0], [0.25, 0.75]],
            "y_pred": [[-0.5, -0.1], [-1.2, -0.4]],
        },
        (*r, "batchmean"),
    )
    yield (
        "kl-logtarget",
        "kl_div",
        {"log_target": "true"},
        {
            "y_true": log_distribution(3, 2),
            "y_pred": log_distribution(3, 2),
        },
        (*r, "batchmean"),
    )
    yield (
        "multimargin",
        "multi_margin_loss",
        {},
        {
            "y_true": labels([0, 2, 1]),
            "y_pred": normal(3, 3),
        },
        r,
    )
    yield (
        "multimargin-p2-margin-weight",
        "multi_margin_loss",
        {"p": "2", "margin": "0.5", "weight": "1,2,3"},
        {
            "y_true": labels([0, 2, 1]),
            "y_pred": normal(3, 3),
        },
        r,
    )
    yield (
        "multimargin-kink",
        "multi_margin_loss",
        {},
        {
            "y_true": labels([0]),
            "y_pred": [[1.0, 0.0, 0.5]],
        },
        r,
    )
    yield (
        "mlmargin",
        "multilabel_margin_loss",
        {},
        {
            "y_true": [[3.0, 0.0, -1.0, 1.0], [1.0, -1.0, -1.0, -1.0], [0.0, 1.0, 2.0, 3.0]],
            "y_pred": normal(3, 4),
        },
        r,
    )
    yield (
        "mlmargin-dup-kink",
        "multilabel_margin_loss",
        {},
        {
            "y_true": [[1.0, 1.0, -1.0], [-1.0, 0.0, 0.0]],
            "y_pred": [[0.1, 0.2, 0.4], [1.0, 0.0, 0.0]],
        },
        r,
    )
    yield (
        "hingeemb",
        "hinge_embedding_loss",
        {},
        {
            "y_true": signs(4, 1),
            "y_pred": uniform(4, 1, 0.0, 2.0),
        },
        r,
    )
    yield (
        "hingeemb-margin-kink",
        "hinge_embedding_loss",
        {"margin": "2"},
        {
            "y_true": [[1.0, -1.0, -1.0], [0.0, -1.0, 1.0]],
            "y_pred": [[0.5, 2.0, 1.0], [0.5, 3.0, 0.0]],
        },
        r,
    )
    yield (
        "hingeemb-1col-target",
        "hinge_embedding_loss",
        {},
        {
            "y_true": [[1.0], [-1.0]],
            "y_pred": [[0.3, 0.6], [0.2, 1.4]],
        },
        r,
    )
    yield (
        "ranking",
        "margin_ranking_loss",
        {},
        {
            "y_true": signs(4, 1),
            "y_pred": normal(4, 1),
            "input2": normal(4, 1),
        },
        r,
    )
    yield (
        "ranking-margin-kink",
        "margin_ranking_loss",
        {"margin": "1"},
        {
            "y_true": [[-1.0], [1.0], [1.0]],
            "y_pred": [[1.0], [2.0], [0.0]],
            "input2": [[2.0], [1.0], [0.3]],
        },
        r,
    )
    yield (
        "ranking-2col",
        "margin_ranking_loss",
        {"margin": "0.5"},
        {
            "y_true": signs(3, 2),
            "y_pred": normal(3, 2),
            "input2": normal(3, 2),
        },
        r,
    )
    yield (
        "cosemb",
        "cosine_embedding_loss",
        {},
        {
            "y_true": [[1.0], [-1.0], [1.0], [-1.0]],
            "y_pred": normal(4, 3),
            "input2": normal(4, 3),
        },
        r,
    )
    yield (
        "cosemb-margin-zeros",
        "cosine_embedding_loss",
        {"margin": "0.2"},
        {
            "y_true": [[1.0], [-1.0], [-1.0], [0.0]],
            "y_pred": [[0.0, 0.0], [0.0, 0.0], [1.0, 2.0], [1.0, 1.0]],
            "input2": [[1.0, 1.0], [1.0, 1.0], [2.0, 1.0], [1.0, 0.0]],
        },
        r,
    )
    triplet = {"y_pred": normal(3, 3), "positive": normal(3, 3), "negative": normal(3, 3)}
    yield "triplet", "triplet_margin_loss", {}, triplet, r
    yield "triplet-p1-margin", "triplet_margin_loss", {"p": "1", "margin": "2"}, triplet, r
    yield "triplet-p3", "triplet_margin_loss", {"p": "3", "margin": "1.5"}, triplet, r
    yield "triplet-p1.5", "triplet_margin_loss", {"p": "1.5", "margin": "2"}, triplet, r
    yield "triplet-pinf", "triplet_margin_loss", {"p": "inf", "margin": "2"}, triplet, r
    yield (
        "triplet-swap",
        "triplet_margin_loss",
        {"swap": "true", "margin": "2", "eps": "1e-4"},
        {
            # last row: anchor == positive, so d(a, n) == d(p, n) and min() splits the gradient
            "y_pred": [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.5, 0.5]],
            "positive": [[1.0, 0.0], [3.0, 0.0], [1.0, 1.5], [0.5, 0.5]],
            "negative": [[2.0, 0.0], [2.5, 0.0], [0.0, 1.0], [1.0, 0.0]],
        },
        r,
    )
    yield (
        "triplet-ytrue",
        "triplet_margin_loss",
        {},
        {
            "y_true": [[1.0], [0.0]],
            "y_pred": normal(2, 2),
            "positive": normal(2, 2),
            "negative": normal(2, 2),
        },
        r,
    )


def ctc_inputs(n: int, steps: int, classes: int) -> list[list[float]]:
    """n rows of T x C log-probabilities (log_softmax of normal logits), frame by frame."""
    logits = RNG.normal(0.0, 1.5, (n, steps, classes))
    shifted = logits - logits.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    return log_probs.reshape(n, steps * classes).tolist()


def more_specs():
    """The cases added with issue 12: BCE's weight list, CTC, the distance triplet loss."""
    r = REDUCTIONS
    y3, p3 = binary(3, 3), uniform(3, 3, 0.05, 0.95)
    yield "bce-weight-list", "binary_cross_entropy", {"weight": "0.5,2,1"}, {"y_true": y3, "y_pred": p3}, r
    yield "bce-weight-one", "binary_cross_entropy", {"weight": "1.5"}, {"y_true": y3, "y_pred": p3}, r
    yield (
        "bce-weight-list-edges",
        "binary_cross_entropy",
        {"weight": "2,0.25"},
        {"y_true": [[1.0, 0.0], [0.0, 1.0]], "y_pred": [[0.0, 1.0], [1e-15, 1.0]]},
        r,
    )
    yield (
        "bcelogits-weight-list",
        "binary_cross_entropy_with_logits",
        {"weight": "0.5,2,1"},
        {"y_true": y3, "y_pred": normal(3, 3, 2.0)},
        r,
    )
    yield (
        "bcelogits-weight-list-posw",
        "binary_cross_entropy_with_logits",
        {"weight": "3,0.5", "pos_weight": "2,0.25"},
        {"y_true": uniform(3, 2), "y_pred": [[1000.0, -2.0], [0.5, -1000.0], [0.0, 3.0]]},
        r,
    )

    # CTC: 4 rows of T = 5 frames x C = 4 classes; a repeated label needs a blank between.
    steps, classes = 5, 4
    targets = [[1.0, 2.0, 0.0], [3.0, 3.0, 0.0], [2.0, 0.0, 0.0], [1.0, 2.0, 3.0]]
    yield "ctc", "ctc_loss", {"classes": "4"}, {"y_true": targets, "y_pred": ctc_inputs(4, steps, classes)}, r
    yield (
        "ctc-length-columns",
        "ctc_loss",
        {"classes": "4"},
        {
            "y_true": [[1.0, 2.0, 2.0], [3.0, 1.0, 9.0], [2.0, 2.0, 2.0]],
            "y_pred": ctc_inputs(3, steps, classes),
            "input_length": [[5.0], [3.0], [4.0]],
            "target_length": [[3.0], [2.0], [0.0]],
        },
        r,
    )
    yield (
        "ctc-length-params-blank",
        "ctc_loss",
        {"classes": "3", "blank": "2", "input_length": "4", "target_length": "1"},
        {"y_true": [[0.0, 1.0], [1.0, 0.0]], "y_pred": ctc_inputs(2, 6, 3)},
        r,
    )
    # Row 1 cannot fit: 3, 3 needs 3 frames, and it has 2. zero_infinity makes it 0.
    impossible = {
        "y_true": [[1.0, 0.0], [3.0, 3.0]],
        "y_pred": ctc_inputs(2, 2, classes),
    }
    yield "ctc-impossible-zero-inf", "ctc_loss", {"classes": "4", "zero_infinity": "true"}, impossible, r
    yield "ctc-impossible", "ctc_loss", {"classes": "4"}, impossible, ("none", "sum")

    triplet = {"y_pred": normal(4, 3), "positive": normal(4, 3), "negative": normal(4, 3)}
    name = "triplet_margin_with_distance_loss"
    yield "tripletdist", name, {}, triplet, r
    yield "tripletdist-cosine", name, {"distance": "cosine", "margin": "0.5"}, triplet, r
    yield "tripletdist-cosine-swap", name, {"distance": "cosine", "swap": "true"}, triplet, r
    swap = {"distance": "euclidean", "swap": "true", "margin": "2"}
    yield "tripletdist-euclid-swap", name, swap, triplet, r
    yield (
        "tripletdist-cosine-zeros",
        name,
        {"distance": "cosine", "margin": "2"},
        {
            # a zero anchor, a tiny anchor (norm below 1e-8), an anchor equal to its positive
            "y_pred": [[0.0, 0.0], [1e-9, 0.0], [1.0, 2.0]],
            "positive": [[1.0, 2.0], [1.0, 1.0], [1.0, 2.0]],
            "negative": [[2.0, -1.0], [0.0, 3.0], [-1.0, 0.5]],
        },
        r,
    )


def run_case(case_id, name, params_text, inputs, reduction):
    params = {key: parse(text) for key, text in params_text.items()}
    if name in ("binary_cross_entropy", "binary_cross_entropy_with_logits") and "weight" in params:
        params["weight"] = [float(v) for v in np.atleast_1d(params["weight"])]
    if name == "triplet_margin_loss" and "p" in params:
        params["p"] = float(params["p"])
    if name == "cross_entropy" and "label_smoothing" in params:
        params["label_smoothing"] = float(params["label_smoothing"])
    x = tensor(inputs["y_pred"]).requires_grad_(True)
    out = CALLS[name](x, inputs, params, reduction)
    (out if out.dim() == 0 else out.sum()).backward()
    return {
        "id": f"torch-{case_id}-{reduction}",
        "loss": f"torch.{name}",
        "params": params_text,
        "inputs": inputs,
        "sample_weight": None,
        "reduction": reduction,
        "value": out.detach().tolist(),
        "grad": x.grad.tolist(),
    }


def main() -> None:
    torch.set_default_dtype(DT)
    cases = []
    for spec in (*specs(), *more_specs()):
        case_id, name, params_text, inputs, reductions = spec
        for reduction in reductions:
            cases.append(run_case(case_id, name, params_text, inputs, reduction))
    ids = [c["id"] for c in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    document = {
        "generator": "tools/make_fixtures_torch.py",
        "torch": torch.__version__,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(document, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
