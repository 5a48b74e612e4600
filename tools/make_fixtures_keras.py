"""Write tests/fixtures/keras_losses.json: reference values and gradients from the real Keras 3.

Run it (it needs keras and tensorflow, which lossctl itself does not), from the repository root:

    KERAS_BACKEND=tensorflow python tools/make_fixtures_keras.py

Why the TensorFlow backend: on the torch and JAX backends Keras silently computes in float32
whatever the inputs are, which would make the references useless at rtol 1e-9. On TensorFlow,
with `keras.config.set_floatx("float64")` and float64 tensors, every loss computes in float64
(this script checks the dtype of every result). A few Keras constants are still built in float32
under floatx float64 (log(2) in log_cosh, eps in mean_squared_logarithmic_error, a list of alphas):
that rounding is no part of the formula, and lossctl computes them in float64. So does this
script: the losses module sees `keras.ops` through `Float64Constants`, which makes a Python float
given without a dtype a float64 tensor, and list parameters are given as float64 arrays.

Each case runs the Keras loss *class* with the case's reduction and sample weights, so the
reduction is Keras's own; the gradient is tf.GradientTape's d(reduced)/d(y_pred) (for `none`,
of the sum of the values).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras_losses.json"
ALL = ("none", "sum", "mean", "sum_over_batch_size", "mean_with_sample_weight")

CLASSES = {
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "cosine_similarity": "CosineSimilarity",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "hinge": "Hinge",
    "squared_hinge": "SquaredHinge",
    "categorical_hinge": "CategoricalHinge",
    "kl_divergence": "KLDivergence",
    "poisson": "Poisson",
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_focal_crossentropy": "CategoricalFocalCrossentropy",
    "categorical_generalized_cross_entropy": "CategoricalGeneralizedCrossEntropy",
    "dice": "Dice",
    "tversky": "Tversky",
    "circle": "Circle",
    "ctc": "CTC",
}

SW3 = [1.0, 0.0, 2.5]
SW2 = [0.5, 2.0]
SW4 = [1.0, 2.0, 0.5, 3.0]


def _text(value) -> str:
    """A parameter as a user would type it after -p."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(repr(float(v)) for v in value)
    return repr(value)


def ctc_loss_float64(target, output, target_length, output_length, mask_index=0):
    """Keras's TensorFlow ctc_loss, with its CTC kernel computing in float64.

    Keras casts float64 logits to float32 there, because tf.nn.ctc_loss fails in float64 on dense
    labels; TensorFlow's float64 CTCLoss kernel (sparse labels) runs, but agrees with itself
    only to about 6e-9 relative. So the kernel is torch's F.ctc_loss in float64 on
    log_softmax(logits), the same formula, with Keras's arguments (its label lengths, all T
    frames, blank = mask_index); its gradient reaches the logits through torch's autograd.
    Everything around the kernel (label lengths, reductions, sample weights) stays Keras's.
    """
    import torch
    import torch.nn.functional as F

    targets = torch.tensor(target.numpy(), dtype=torch.long)
    label_lengths = torch.tensor(target_length.numpy(), dtype=torch.long)
    frame_lengths = torch.tensor(output_length.numpy(), dtype=torch.long)

    @tf.custom_gradient
    def kernel(logits):
        x = torch.tensor(logits.numpy(), dtype=torch.float64, requires_grad=True)
        log_probs = torch.log_softmax(x, dim=-1).transpose(0, 1)
        loss = F.ctc_loss(log_probs, targets, frame_lengths, label_lengths, blank=mask_index,
                          reduction="none")

        def grad(upstream):
            (d,) = torch.autograd.grad(loss, x, torch.tensor(upstream.numpy()), retain_graph=True)
            return tf.constant(d.numpy())

        return tf.constant(loss.detach().numpy()), grad

    return kernel(tf.cast(output, tf.float64))


class Float64Constants:
    """`keras.ops` for keras/src/losses/losses.py, with its dtype-less float constants in float64
    (`ops.log(2.0)`, `ops.convert_to_tensor(backend.epsilon())`); everything else is keras.ops."""

    def __init__(self, ops) -> None:
        self._ops = ops

    def __getattr__(self, name: str):
        return getattr(self._ops, name)

    def log(self, x):
        return self._ops.log(np.float64(x) if isinstance(x, float) else x)

    def convert_to_tensor(self, x, dtype=None, **kwargs):
        if dtype is None and isinstance(x, float):
            dtype = "float64"
        return self._ops.convert_to_tensor(x, dtype=dtype, **kwargs)


def _number(x):
    return [_number(v) for v in x] if isinstance(x, list) else float(x)


def run(loss: str, inputs: dict, params: dict, reduction: str, sample_weight):
    cls = getattr(keras.losses, CLASSES[loss])
    # A list parameter (alpha) as a float64 array: Keras would make a list a float32 tensor.
    params = {k: np.asarray(v, np.float64) if isinstance(v, list) else v for k, v in params.items()}
    classes = params.pop("classes", None)  # lossctl's layout of ctc's y_pred, not a Keras argument
    obj = cls(reduction=reduction, **params)
    y_true = tf.constant(np.asarray(inputs["y_true"], dtype=np.float64))
    if loss == "categorical_generalized_cross_entropy":
        # Keras documents y_true as (n,) or (n, 1), but one-hot encodes an (n, 1) column to
        # (n, 1, k), which broadcasts against y_pred into an (n, n) matrix. Give it (n,).
        y_true = tf.reshape(y_true, [-1])
    y_pred = tf.constant(np.asarray(inputs["y_pred"], dtype=np.float64))
    flat_pred = y_pred
    if classes is not None:  # ctc: one sequence per row, T x C logits frame by frame
        y_pred = tf.reshape(y_pred, (y_pred.shape[0], -1, classes))
    sw = None if sample_weight is None else tf.constant(np.asarray(sample_weight, np.float64))
    with tf.GradientTape() as tape:
        tape.watch(y_pred)
        value = obj(y_true, y_pred, sample_weight=sw)
        total = tf.reduce_sum(value)
    if value.dtype != tf.float64:
        sys.exit(f"{loss}: Keras computed in {value.dtype.name}, not float64")
    grad = tape.gradient(total, y_pred)
    grad = None if grad is None else tf.reshape(tf.convert_to_tensor(grad), flat_pred.shape)
    if grad is not None and grad.dtype != tf.float64:
        sys.exit(f"{loss}: gradient in {grad.dtype.name}, not float64")
    return value.numpy().tolist(), (None if grad is None else grad.numpy().tolist())


CASES: list[dict] = []


def case(
    tag: str, loss: str, y_true, y_pred, params: dict | None = None,
    reductions=ALL, sample_weight=None, grad: bool = True,
) -> None:
    """Add one case per reduction; `tag` names the layout or variant in the id."""
    params = params or {}
    inputs = {"y_true": y_true, "y_pred": y_pred}
    for reduction in reductions:
        sw = sample_weight if sample_weight is not None else None
        value, g = run(loss, inputs, params, reduction, sw)
        cid = f"keras-{loss}-{tag}-{reduction}" + ("-sw" if sw is not None else "")
        CASES.append({
            "id": cid,
            "loss": f"keras.{loss}",
            "params": {k: _text(v) for k, v in params.items()},
            "inputs": {k: _number(np.asarray(v, dtype=np.float64).tolist()) for k, v in inputs.items()},
            "sample_weight": sw,
            "reduction": reduction,
            "value": value,
            "grad": g if grad else None,
        })


def both(tag, loss, y_true, y_pred, params=None, sample_weight=None, reductions=ALL):
    """Every reduction without weights, and every reduction with `sample_weight`."""
    case(tag, loss, y_true, y_pred, params, reductions)
    if sample_weight is not None:
        case(tag, loss, y_true, y_pred, params, reductions, sample_weight)


def build() -> None:
    # Regression: a 3x2 layout, a single-column layout, and edges.
    t32 = [[0.0, 1.0], [2.0, -1.0], [0.5, 0.25]]
    p32 = [[0.3, 1.0], [1.2, -2.5], [0.5, 4.0]]
    t31 = [[1.0], [-2.0], [3.0]]
    p31 = [[1.5], [-2.0], [0.0]]
    # All-zero weights: Keras divides with divide_no_nan, so the weighted mean is 0.
    case("zero-weights", "mean_squared_error", t32, p32, reductions=("mean_with_sample_weight",),
         sample_weight=[0.0, 0.0, 0.0])
    for loss in ("mean_squared_error", "mean_absolute_error", "huber", "log_cosh"):
        both("3x2", loss, t32, p32, sample_weight=SW3)
        case("3x1", loss, t31, p31, reductions=("none", "mean"))
    both("3x2", "mean_absolute_percentage_error", [[1.0, 2.0], [-4.0, 0.5], [3.0, 0.1]], p32,
         sample_weight=SW3)
    case("ytrue0", "mean_absolute_percentage_error", [[0.0, 1.0], [0.0, 0.0]],
         [[0.5, 1.0], [-1e-3, 0.0]], reductions=("none", "mean"))
    both("3x2", "mean_squared_logarithmic_error", [[0.0, 1.0], [2.0, 3.0], [0.5, 0.25]],
         [[0.3, 1.0], [1.2, 2.5], [0.5, 4.0]], sample_weight=SW3)
    case("negative", "mean_squared_logarithmic_error", [[-1.0, 2.0], [0.0, -3.0]],
         [[-0.5, -1.0], [0.0, 5e-8]], reductions=("none", "mean"))
    case("1e6", "log_cosh", [[0.0, 1e6], [-1e6, 0.0]], [[1e6, 0.0], [1e6, 0.001]],
         reductions=("none", "mean"))
    case("zero", "log_cosh", [[0.5, -1.0]], [[0.5, -1.0]], reductions=("none",))
    for delta in (0.5, 2.0):
        case(f"delta{delta}", "huber", [[0.0, 1.0], [0.0, 0.0]], [[0.5, 4.0], [-2.0, 0.1]],
             {"delta": delta}, reductions=("none", "mean"))

    # Cosine similarity, including all-zero rows and rows of norm below eps.
    tcos = [[0.0, 1.0, 2.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [3.0, -1.0, 0.5]]
    pcos = [[1.0, 0.0, 0.5], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [1e-9, 2e-9, -1e-9]]
    both("4x3", "cosine_similarity", tcos, pcos, sample_weight=SW4)
    case("axis1", "cosine_similarity", tcos, pcos, {"axis": 1}, reductions=("none",))
    case("3x2", "cosine_similarity", t32, p32, reductions=("none", "mean"))

    # Margins: 0/1 labels (mapped to -1/+1), -1/+1 labels, other labels, ties at the margin.
    for loss in ("hinge", "squared_hinge"):
        both("01", loss, [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]],
             [[0.3, 1.0], [-0.5, 2.0], [-1.0, 0.25]], sample_weight=SW3)
        case("pm1", loss, [[-1.0, 1.0], [1.0, -1.0]], [[0.3, 1.0], [-0.5, 2.0]],
             reductions=("none", "mean"))
        case("mixed", loss, [[-1.0, 0.0], [1.0, 0.5]], [[0.3, 1.0], [-0.5, 2.0]],
             reductions=("none", "mean"))
        case("1col", loss, [[1.0], [0.0], [1.0]], [[0.2], [0.1], [3.0]], reductions=("none",))
    both("3x3", "categorical_hinge", [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
         [[0.2, 0.5, 0.3], [0.1, 0.7, 0.7], [2.0, -1.0, 0.0]], sample_weight=SW3)
    case("inactive", "categorical_hinge", [[0.0, 1.0, 0.0]], [[0.2, 3.0, 0.3]],
         reductions=("none",))

    # Distributions and counts.
    both("3x3", "kl_divergence", [[0.2, 0.3, 0.5], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]],
         [[0.3, 0.3, 0.4], [0.1, 0.0, 0.9], [1.0, 0.0, 0.0]], sample_weight=SW3)
    both("3x2", "poisson", [[0.0, 1.0], [2.0, 3.0], [5.0, 0.0]],
         [[0.5, 1.0], [1.5, 4.0], [0.0, 0.2]], sample_weight=SW3)

    # Binary crossentropy family.
    tb = [[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
    pb = [[0.2, 0.9], [0.6, 0.35], [0.01, 0.7]]
    pb_edge = [[0.0, 1.0], [1.0, 0.0], [1e-8, 1.0 - 1e-8]]
    logits = [[-2.0, 0.5], [1000.0, -1000.0], [3.0, 0.0]]
    both("3x2", "binary_crossentropy", tb, pb, sample_weight=SW3)
    case("edges01", "binary_crossentropy", tb, pb_edge, reductions=("none", "mean"))
    case("logits", "binary_crossentropy", tb, logits, {"from_logits": True},
         reductions=("none", "mean", "sum"))
    case("smooth", "binary_crossentropy", tb, pb, {"label_smoothing": 0.1},
         reductions=("none", "mean"))
    case("logits-smooth", "binary_crossentropy", tb, logits,
         {"from_logits": True, "label_smoothing": 0.2}, reductions=("none",))
    case("1col", "binary_crossentropy", [[1.0], [0.0], [1.0]], [[0.9], [0.3], [0.0]],
         reductions=("none", "mean"))
    case("axis1", "binary_crossentropy", tb, pb, {"axis": 1}, reductions=("none",))
    both("3x2", "binary_focal_crossentropy", tb, pb, sample_weight=SW3)
    case("balanced", "binary_focal_crossentropy", tb, pb,
         {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5}, reductions=("none", "mean"))
    case("logits", "binary_focal_crossentropy", tb, logits, {"from_logits": True},
         reductions=("none", "mean"))
    case("logits-smooth-balanced", "binary_focal_crossentropy", tb, logits,
         {"from_logits": True, "label_smoothing": 0.1, "apply_class_balancing": True},
         reductions=("none",))
    case("edges01", "binary_focal_crossentropy", tb, pb_edge, reductions=("none",))
    case("gamma0", "binary_focal_crossentropy", tb, pb, {"gamma": 0.0}, reductions=("none",))

    # Categorical crossentropy family (targets sum to 1: on unnormalised targets TensorFlow's
    # softmax-crossentropy gradient is softmax - y_true, not the derivative of the value).
    tc = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    pc = [[0.1, 0.7, 0.2], [0.3, 0.3, 0.6], [0.05, 0.15, 0.8]]  # row 2 does not sum to 1
    pc_edge = [[0.0, 1.0, 0.0], [0.0, 0.5, 0.5], [1e-9, 0.5, 0.5]]
    lc = [[1000.0, -1000.0, 0.0], [2.0, 1.0, -1.0], [0.0, 0.0, 1000.0]]
    both("3x3", "categorical_crossentropy", tc, pc, sample_weight=SW3)
    case("edges01", "categorical_crossentropy", tc, pc_edge, reductions=("none", "mean"))
    case("logits", "categorical_crossentropy", tc, lc, {"from_logits": True},
         reductions=("none", "mean"))
    case("smooth", "categorical_crossentropy", tc, pc, {"label_smoothing": 0.1},
         reductions=("none", "mean"))
    case("soft-logits-smooth", "categorical_crossentropy", [[0.2, 0.3, 0.5], [0.0, 0.5, 0.5]],
         [[0.5, -1.0, 2.0], [3.0, 0.0, 1.0]], {"from_logits": True, "label_smoothing": 0.3},
         reductions=("none",))
    both("3x3", "categorical_focal_crossentropy", tc, pc, sample_weight=SW3)
    case("alpha-list", "categorical_focal_crossentropy", tc, pc,
         {"alpha": [0.2, 0.3, 0.5], "gamma": 1.0}, reductions=("none", "mean"))
    case("logits", "categorical_focal_crossentropy", tc, lc, {"from_logits": True},
         reductions=("none", "mean"))
    case("logits-smooth", "categorical_focal_crossentropy", tc, [[0.5, -1.0, 2.0],
         [3.0, 0.0, 1.0], [0.0, 0.1, -0.2]], {"from_logits": True, "label_smoothing": 0.1},
         reductions=("none",))
    case("edges01", "categorical_focal_crossentropy", tc, pc_edge, reductions=("none",))

    ys = [[1.0], [0.0], [2.0]]
    both("3x3", "sparse_categorical_crossentropy", ys, pc, sample_weight=SW3)
    case("edges01", "sparse_categorical_crossentropy", ys, pc_edge, reductions=("none", "mean"))
    case("logits", "sparse_categorical_crossentropy", ys, lc, {"from_logits": True},
         reductions=("none", "mean"))
    case("axis1", "sparse_categorical_crossentropy", ys, pc, {"axis": 1}, reductions=("none",))
    # ignore_class: Keras masks the ignored rows, and its mean then divides by the number of
    # kept rows (mean_with_sample_weight by the summed weights of the kept rows).
    both("ignore", "sparse_categorical_crossentropy", [[1.0], [-1.0], [2.0]], pc,
         {"ignore_class": -1}, sample_weight=SW3)
    both("ignore-logits", "sparse_categorical_crossentropy", [[255.0], [0.0], [2.0]], lc,
         {"ignore_class": 255, "from_logits": True}, sample_weight=SW3)
    case("ignore-all", "sparse_categorical_crossentropy", [[1.0], [1.0], [1.0]], pc,
         {"ignore_class": 1}, reductions=ALL)
    both("ignore-unused", "sparse_categorical_crossentropy", ys, pc, {"ignore_class": 1},
         reductions=("none",))
    case("ignore-none-hit", "sparse_categorical_crossentropy", [[0.0], [0.0], [2.0]], pc,
         {"ignore_class": 1}, reductions=ALL)

    ps = [[0.1, 0.7, 0.2], [0.3, 0.1, 0.6], [0.05, 0.15, 0.8]]
    both("3x3", "categorical_generalized_cross_entropy", ys, ps, sample_weight=SW3)
    case("q0.8", "categorical_generalized_cross_entropy", ys, ps, {"q": 0.8},
         reductions=("none", "mean"))

    # Overlap losses: axis=None gives one number for the batch.
    td = [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    pd = [[0.9, 0.2, 0.6], [0.1, 0.0, 0.7], [0.4, 0.8, 0.3]]
    both("batch", "dice", td, pd, sample_weight=SW3)
    both("rows", "dice", td, pd, {"axis": 1}, sample_weight=SW3)
    # Keras's own test (losses_test.py): two rows with axis=1 give [0.5, 0.75757575].
    case("keras-test", "dice", [[1.0, 1.0, 0.0, 0.0]] * 2, [[0.0, 1.0, 0.0, 1.0], [0.4, 0.0, 0.0, 0.9]],
         {"axis": 1}, reductions=("none", "mean"))
    case("rows-empty", "dice", [[0.0, 0.0], [1.0, 0.0]], [[0.0, 0.0], [1.0, 0.0]],
         {"axis": -1}, reductions=("none",))
    both("batch", "tversky", td, pd, sample_weight=SW3)
    case("batch-ab", "tversky", td, pd, {"alpha": 0.7, "beta": 0.3}, reductions=("none", "mean"))
    both("rows", "tversky", td, pd, {"axis": 1, "alpha": 0.2, "beta": 0.8}, sample_weight=SW3)

    # Circle: unit-norm embeddings; every row has a positive and a negative partner.
    angles = np.array([0.1, 0.4, 1.5, 1.9, 3.0, 2.6])
    emb = np.stack([np.cos(angles), np.sin(angles)], axis=1).tolist()
    labels = [[0.0], [0.0], [1.0], [1.0], [2.0], [2.0]]
    sw6 = [1.0, 0.5, 2.0, 0.0, 1.0, 1.5]
    both("6x2", "circle", labels, emb, sample_weight=sw6)
    case("params", "circle", labels, emb, {"gamma": 4.0, "margin": 0.25},
         reductions=("none", "mean"))
    case("keep-diagonal", "circle", labels, emb, {"gamma": 2.0, "remove_diagonal": False},
         reductions=("none", "mean"))
    # A singleton label has no positive pair: that row scores 0 and Keras masks it out of the mean.
    both("singleton", "circle", [[0.0], [0.0], [1.0]], emb[:3], {"gamma": 2.0},
         sample_weight=[1.0, 0.5, 2.0])


def ctc_logits(rng: np.random.Generator, n: int, steps: int, classes: int) -> list[list[float]]:
    return np.round(rng.normal(0.0, 1.5, (n, steps * classes)), 4).tolist()


def build_ctc() -> None:
    rng = np.random.default_rng(12)
    labels = [[1.0, 2.0, 0.0], [3.0, 3.0, 0.0], [2.0, 0.0, 0.0], [1.0, 2.0, 3.0]]
    both("4x5x4", "ctc", labels, ctc_logits(rng, 4, 5, 4), {"classes": 4},
         sample_weight=[1.0, 0.5, 2.0, 0.0])
    case("no-labels", "ctc", [[0.0, 0.0], [2.0, 0.0]], ctc_logits(rng, 2, 3, 3), {"classes": 3},
         reductions=("none", "mean"))
    case("large-logits", "ctc", [[1.0], [2.0]], [[50.0, -50.0, 0.0, 0.0, 50.0, -50.0],
                                                 [0.0, 0.0, 40.0, 10.0, -30.0, 30.0]],
         {"classes": 3}, reductions=("none",))


def main() -> None:
    keras.config.set_floatx("float64")
    from keras.src.losses import losses as keras_losses

    keras_losses.ops = Float64Constants(keras_losses.ops)
    from keras.src.backend.tensorflow import nn as tensorflow_nn

    tensorflow_nn.ctc_loss = ctc_loss_float64
    build()
    build_ctc()
    ids = [c["id"] for c in CASES]
    if len(ids) != len(set(ids)):
        sys.exit("duplicate case ids")
    missing = set(CLASSES) - {c["loss"].split(".", 1)[1] for c in CASES}
    if missing:
        sys.exit(f"no case for {sorted(missing)}")
    doc = {
        "generator": "tools/make_fixtures_keras.py",
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "cases": CASES,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {len(CASES)} cases to {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
