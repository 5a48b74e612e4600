"""curve, descend, plot and train --plot: the points are the registry's, the pictures open and
read, the terminal plot's text, and every bad input is one line with its exit code."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from lossctl.cli import main
from lossctl.errors import UsageError
from lossctl.losses import REGISTRY, get_loss
from lossctl.losses.evaluate import evaluate, gradient
from lossctl.plot import valley

ROOT = Path(__file__).resolve().parent.parent
DRUG = str(ROOT / "sample_data" / "drug_trial.csv")
RTOL = 1e-12


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def points(capsys, *args: str) -> tuple[list[str], np.ndarray]:
    code, out, err = run(capsys, *args, "--format", "csv")
    assert (code, err) == (0, "")
    rows = list(csv.reader(io.StringIO(out)))
    return rows[0], np.array(rows[1:], dtype=np.float64)


def needs_matplotlib():
    return pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")


# -- curve: the registry's values and slopes ------------------------------------------------------


def test_curve_points_are_the_registrys_values_and_gradients(capsys) -> None:
    header, table = points(capsys, "curve", "--loss", "mse,mae,huber", "--true", "90", "--range",
                           "60,120", "--points", "7", "--grad")
    names = ["keras.mean_squared_error", "keras.mean_absolute_error", "keras.huber"]
    assert header == ["y_pred"] + [c for n in names for c in (n, f"grad_{n}")]
    x = table[:, 0]
    np.testing.assert_array_equal(x, np.linspace(60, 120, 7))
    arrays = {"y_true": np.full((7, 1), 90.0), "y_pred": x[:, None]}
    for j, name in enumerate(names):
        loss = get_loss(name)  # all rows at once, each row's value and its own gradient
        np.testing.assert_allclose(table[:, 1 + 2 * j], evaluate(loss, arrays, reduction="none"), rtol=RTOL)
        np.testing.assert_allclose(table[:, 2 + 2 * j], gradient(loss, arrays, reduction="sum")[:, 0],
                                   rtol=RTOL)
    assert table[0, 1] == 900.0  # (60 - 90)^2


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


@pytest.mark.parametrize(("name", "true", "pred"), [
    ("bce", 1, lambda p: p[:, None]),
    ("bce", 0, lambda p: 1 - p[:, None]),  # x is the probability of the true class, 0
    ("sparse_categorical_crossentropy", 1, lambda p: np.column_stack([1 - p, p])),
    ("torch.nll_loss", 0, lambda p: _log(np.column_stack([p, 1 - p]))),
])
def test_class_losses_are_drawn_against_the_probability_of_the_true_class(
    capsys, name: str, true: int, pred,
) -> None:
    header, table = points(capsys, "curve", "--loss", name, "--true", str(true), "--points", "9")
    assert header[0] == "p_true"
    p = table[:, 0]
    assert p[0] == 0.01
    assert p[-1] == 1.0
    loss = get_loss(name)
    arrays = {"y_true": np.full((9, 1), float(true)), "y_pred": pred(p)}
    np.testing.assert_allclose(table[:, 1], evaluate(loss, arrays, reduction="none"), rtol=RTOL)
    np.testing.assert_allclose(table[1:-1, 1], -np.log(p[1:-1]), rtol=1e-6)  # crossentropy: -log p


@pytest.mark.parametrize(("name", "column", "params"), [
    ("log_cosh", "y_pred", ()), ("huber", "y_pred", ("-p", "delta=0.5")), ("bce", "p_true", ()),
    ("torch.nll_loss", "p_true", ()), ("torch.cross_entropy", "logit_true", ()),
    ("bce", "logit_true", ("-p", "from_logits=true")), ("torch.soft_margin_loss", "logit_true", ()),
    ("categorical_focal_crossentropy", "p_true", ()), ("torch.gaussian_nll_loss", "y_pred", ("-p", "var=2")),
])
@pytest.mark.parametrize("true", ["0", "1"])
def test_the_slope_is_the_derivative_of_the_curve(capsys, name, column, params, true) -> None:
    """The chain rule through the registry's gradient, checked by central differences."""
    loss = get_loss(name)
    resolved = loss.resolve_params(dict(p.split("=") for p in params[1::2]))
    form = valley.form_of(loss, resolved)
    lo, hi = (0.2, 0.8) if form.kind in ("probability", "log_probability") else (-2.5, 2.5)
    header, table = points(capsys, "curve", "--loss", name, "--true", true, "--grad", *params,
                           "--range", f"{lo},{hi}", "--points", "6")
    assert header[0] == column
    h = 1e-6
    for x, slope in zip(table[:, 0], table[:, 2], strict=True):
        up = valley.point(loss, resolved, form, float(true), x + h)[0]
        down = valley.point(loss, resolved, form, float(true), x - h)[0]
        assert slope == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-7)


NO_PICTURE = {  # besides the losses that compare predictions with each other (ranking losses)
    "keras.circle", "keras.ctc", "torch.ctc_loss",
    "sklearn.r2_score", "sklearn.explained_variance_score", "sklearn.d2_absolute_error_score",
    "sklearn.d2_pinball_score", "sklearn.d2_tweedie_score", "sklearn.d2_log_loss_score",
    "sklearn.zero_one_loss", "sklearn.hamming_loss", "sklearn.accuracy_score", "sklearn.hinge_loss",
}


@pytest.mark.parametrize("loss", list(REGISTRY), ids=lambda lo: lo.qualified_name)
def test_every_loss_draws_or_says_why_not(loss) -> None:
    params = loss.resolve_params({"var": "1"} if loss.name == "gaussian_nll_loss" else {})
    ranking = any(not i.optional and i.role not in ("y_true", "y_pred") for i in loss.inputs)
    if ranking or loss.qualified_name in NO_PICTURE or loss.tally is not None:
        with pytest.raises(UsageError, match="has no single-prediction form"):
            valley.curves([(loss, params)], None, None, 5)
        return
    result = valley.curves([(loss, params)], None, None, 5)
    assert len(result.values[0]) == 5
    assert np.isfinite(result.values[0]).sum() >= 3
    assert np.isfinite(result.slopes[0]).all() == (loss.grad is not None)


def test_scikit_learn_metrics_draw_their_values_where_they_are_defined(capsys) -> None:
    header, table = points(capsys, "curve", "--loss", "sklearn.mean_poisson_deviance", "--true", "2",
                           "--range", "-1,4", "--points", "6")
    assert header == ["y_pred", "sklearn.mean_poisson_deviance"]
    assert np.isnan(table[:2, 1]).all()  # y_pred <= 0: outside what the deviance takes
    arrays = {"y_true": np.full((4, 1), 2.0), "y_pred": table[2:, :1]}
    loss = get_loss("sklearn.mean_poisson_deviance")
    np.testing.assert_allclose(table[2:, 1], [evaluate(loss, {k: v[i:i + 1] for k, v in arrays.items()})
                                              for i in range(4)], rtol=RTOL)
    _, table = points(capsys, "curve", "--loss", "sklearn.log_loss,bce", "--points", "5")
    np.testing.assert_allclose(table[:-1, 1], table[:-1, 2], rtol=1e-6)  # the same -log p
    code, _, err = run(capsys, "curve", "--loss", "sklearn.mean_gamma_deviance", "--range", "-3,-1")
    assert code == 1
    assert "can only be used on strictly positive y and y_pred" in err


def test_json_points_name_their_columns(capsys) -> None:
    code, out, _ = run(capsys, "curve", "--loss", "mse", "--true", "90", "--points", "2", "--format", "json")
    assert code == 0
    assert json.loads(out) == [{"y_pred": 60.0, "keras.mean_squared_error": 900.0},
                               {"y_pred": 120.0, "keras.mean_squared_error": 900.0}]


# -- descend: p <- p - lr * dL/dp ------------------------------------------------------------------


def test_descend_steps_follow_the_registrys_gradient(capsys) -> None:
    header, table = points(capsys, "descend", "--loss", "mse", "--true", "90", "--start", "70",
                           "--lr", "0.1", "--steps", "20")
    assert header == ["step", "y_pred", "loss", "gradient"]
    assert table[:, 0].tolist() == list(range(21))
    p, value, grad = table[:, 1], table[:, 2], table[:, 3]
    np.testing.assert_allclose(p[1:], p[:-1] - 0.1 * grad[:-1], rtol=RTOL)
    arrays = {"y_true": np.full((21, 1), 90.0), "y_pred": p[:, None]}
    mse = get_loss("mse")
    np.testing.assert_allclose(value, evaluate(mse, arrays, reduction="none"), rtol=RTOL)
    np.testing.assert_allclose(grad, gradient(mse, arrays, reduction="sum")[:, 0], rtol=RTOL)
    assert (p[0], value[0], grad[0]) == (70.0, 400.0, -40.0)
    assert np.all(np.diff(p) > 0)
    assert 89 < p[-1] < 90


def test_descend_on_a_probability_and_with_momentum(capsys) -> None:
    _, table = points(capsys, "descend", "--loss", "bce", "--start", "0.2", "--lr", "0.05", "--steps", "5")
    p, grad = table[:, 1], table[:, 3]
    np.testing.assert_allclose(p[1:], p[:-1] - 0.05 * grad[:-1], rtol=RTOL)
    np.testing.assert_allclose(grad, -1 / p, rtol=1e-6)  # d(-log p)/dp
    _, table = points(capsys, "descend", "--loss", "mse", "--true", "90", "--start", "70",
                      "--steps", "20", "--optimizer", "momentum")
    assert table[:, 1].max() > 90  # momentum overshoots the bottom of the valley


# -- the terminal plot ------------------------------------------------------------------------------

MAE_PLOT = """\
loss vs y_pred (y_true = 0)
┌──────────────────────────┐
│+            │           +│ 2
│ +           │          + │
│ ++          │         ++ │
│  ++         │        ++  │
│   +         │        +   │
│    +        │       +    │
│    ++       │      ++    │
│     ++      │     ++     │
│      +      │     +      │ 1
│       +     │    +       │
│        +    │   +        │
│         +   │  +         │
│         +   │  +         │
│          +  │ +          │
│           + │+           │
│            ++            │
│            +│            │ 0
└──────────────────────────┘
-2            0           2
++ keras.mean_absolute_error
x: y_pred; y: loss
"""


def test_terminal_plot_text_at_a_fixed_width() -> None:
    from lossctl.plot.terminal import render

    mae = get_loss("mae")
    figure = valley.curve_figure(valley.curves([(mae, {})], 0.0, (-2.0, 2.0), 41), grad=False)
    text = render(figure, width=40)
    assert all(len(line) <= 40 for line in text.splitlines())
    assert text.replace("\x1b", "") == text  # no colour off a terminal
    assert text == MAE_PLOT, text


def test_curve_draws_on_a_terminal_width(capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    code, out, _ = run(capsys, "curve", "--loss", "mse,mae,huber", "--true", "90", "--format", "plot")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].strip() == "loss vs y_pred (y_true = 90)"
    assert all(len(line) <= 72 for line in lines)
    assert "++ keras.mean_squared_error" in out
    assert "oo keras.huber" in out
    assert lines[-1] == "x: y_pred; y: loss"


def test_plot_history_in_the_terminal_and_its_errors(capsys, tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    history.write_text("epoch,loss,val_loss,accuracy,val_accuracy,lr,seconds\n"
                       "1,0.9,1.0,0.5,0.4,0.001,0.1\n2,0.5,0.6,0.7,0.6,0.001,0.1\n3,0.4,0.7,0.8,0.65,0.001,0.1\n")
    code, out, _ = run(capsys, "plot", str(history))
    assert code == 0
    assert "loss per epoch" in out
    assert "accuracy per epoch" in out
    assert "best epoch 2 (val_loss 0.6)" in out  # the lowest val_loss
    bad = tmp_path / "bad.csv"
    bad.write_text("step,value\n1,2\n")
    code, out, err = run(capsys, "plot", str(bad))
    assert (code, out) == (1, "")
    assert err == (f"lossctl: error: {bad}: not a training history: no epoch and no loss column "
                   "(columns: step, value)\n")


def test_a_keras_csvlogger_history(capsys, tmp_path: Path) -> None:
    history = tmp_path / "keras.csv"  # 0-based epochs, columns sorted, learning_rate logged
    history.write_text("epoch,accuracy,learning_rate,loss,val_accuracy,val_loss\n"
                       "0,0.6,0.001,1.2,0.55,1.3\n1,0.7,0.001,0.9,0.65,1.0\n2,0.8,0.001,0.7,0.7,0.95\n")
    code, out, _ = run(capsys, "plot", str(history))
    assert code == 0
    assert [line.strip() for line in out.splitlines() if line.strip().endswith("per epoch")] == [
        "loss per epoch", "accuracy per epoch"]
    assert "best epoch 2 (val_loss 0.95)" in out


# -- pictures: PNG and SVG -------------------------------------------------------------------------

KINDS = {
    "curve": ["curve", "--loss", "mse,mae,huber,log_cosh", "--range", "-3,3"],
    "curve_grad": ["curve", "--loss", "bce,torch.nll_loss", "--grad"],
    "descend": ["descend", "--loss", "mse", "--true", "90", "--start", "70", "--optimizer", "momentum"],
}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ext", ["png", "svg"])
def test_pictures_are_written_and_open(capsys, tmp_path: Path, kind: str, ext: str) -> None:
    needs_matplotlib()
    out = tmp_path / f"{kind}.{ext}"
    code, stdout, err = run(capsys, *KINDS[kind], "--out", str(out))
    assert (code, stdout, err) == (0, "", "")
    check_picture(out, panels=2 if kind == "curve_grad" else 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]


def check_picture(path: Path, panels: int) -> None:
    data = path.read_bytes()
    if path.suffix == ".png":
        from PIL import Image

        assert png_size(data) == (800, 450 * panels + (40 if panels > 1 else 0))
        with Image.open(path) as image:
            image.verify()
    else:
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        text = data.decode()
        assert "y_pred" in text or "epoch" in text or "probability" in text


@pytest.mark.parametrize("ext", ["png", "svg"])
def test_training_curves_from_train_and_from_a_history(capsys, tmp_path: Path, ext: str) -> None:
    needs_matplotlib()
    picture, history = tmp_path / f"train.{ext}", tmp_path / "h.csv"
    code, _, _ = run(capsys, "train", DRUG, "--epochs", "3", "--quiet", "--history", str(history),
                     "--plot", str(picture))
    assert code == 0
    check_picture(picture, panels=2)  # loss, accuracy
    again = tmp_path / f"again.{ext}"
    assert run(capsys, "plot", str(history), "--out", str(again))[0] == 0
    check_picture(again, panels=2)


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["curve", "--loss", "mse", "--range", "5,5"], "--range needs LOW < HIGH, got '5,5'"),
    (["curve", "--loss", "mse", "--range", "9,1"], "--range needs LOW < HIGH, got '9,1'"),
    (["curve", "--loss", "mse", "--range", "1"], "--range takes two numbers LOW,HIGH, got '1'"),
    (["curve", "--loss", "mse", "--range", "a,b"], "--range takes two numbers LOW,HIGH, got 'a,b'"),
    (["curve", "--loss", "mse", "--points", "1"], "--points must be at least 2 and at most 10000, got 1"),
    (["curve", "--loss", "mse", "--points", "10001"], "--points must be at least 2 and at most 10000"),
    (["curve", "--loss", "circle"], "keras.circle has no single-prediction form to draw: "
                                    "it compares the embeddings of a whole batch with each other"),
    (["curve", "--loss", "margin_ranking_loss"], "torch.margin_ranking_loss has no single-prediction "
     "form to draw: it compares predictions with each other (inputs: y_true, y_pred, input2)"),
    (["descend", "--loss", "triplet_margin_loss", "--start", "1"], "torch.triplet_margin_loss has no "
     "single-prediction form to draw: it compares predictions with each other "
     "(inputs: y_true, y_pred, positive, negative)"),
    (["curve", "--loss", "mse,bce"], "these losses are drawn against different x axes"),
    (["curve", "--loss", "bce", "--true", "2"], "--true is the true class for a class loss: 0 or 1"),
    (["curve", "--loss", "mse", "-p", "delta=2"], "unknown parameter 'delta'"),
    (["curve", "--loss", "mse", "--format", "table"], "unknown format 'table'"),
    (["curve", "--loss", "mse", "--out", "x.jpg"], "--out x.jpg: the file name must end in .png or .svg"),
    (["descend", "--loss", "mse", "--start", "1", "--steps", "0"], "--steps must be at least 1, got 0"),
    (["descend", "--loss", "mse", "--start", "1", "--lr", "-1"], "--lr must be > 0, got -1"),
    (["descend", "--loss", "mse", "--start", "1", "--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
    (["descend", "--loss", "mse,mae", "--start", "1"], "descend takes one loss"),
    (["descend", "--loss", "sklearn.log_loss", "--start", "0.5"], "sklearn.log_loss has no gradient"),
    (["curve", "--loss", "sklearn.max_error", "--grad"], "sklearn.max_error has no gradient"),
    (["curve", "--loss", "sklearn.r2_score"], "sklearn.r2_score has no single-prediction form to draw"),
    (["train", DRUG, "--plot", "curves.pdf"], "--plot curves.pdf: the file name must end in .png or .svg"),
])
def test_bad_input_is_one_line_exit_2(capsys, args: list[str], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"lossctl: error: {message}")
    assert err.count("\n") == 1


def test_without_the_extra_out_fails_naming_it_and_the_terminal_plot_works(capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    code, out, err = run(capsys, "curve", "--loss", "mse", "--out", "valley.png")
    assert (code, out) == (2, "")
    assert err == ("lossctl: error: --out needs matplotlib, which is not installed: "
                   "pip install 'lossctl[plot]'\n")
    code, out, err = run(capsys, "curve", "--loss", "mse", "--format", "plot")
    assert (code, err) == (0, "")
    assert "keras.mean_squared_error" in out


def test_an_unwritable_out_is_exit_1_and_leaves_nothing(capsys, tmp_path: Path, monkeypatch) -> None:
    needs_matplotlib()
    missing = tmp_path / "no" / "such" / "dir" / "v.png"
    code, out, err = run(capsys, "curve", "--loss", "mse", "--out", str(missing))
    assert (code, out) == (1, "")
    assert err == f"lossctl: error: {missing}: cannot write: folder {missing.parent} does not exist\n"
    # a disk that fills up half-way: the old picture stays, no temporary file is left
    target = tmp_path / "v.svg"
    target.write_bytes(b"old")

    def no_space(*_: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    code, out, err = run(capsys, "descend", "--loss", "mse", "--start", "3", "--out", str(target))
    assert (code, out) == (1, "")
    assert err == f"lossctl: error: {target}: cannot write: No space left on device\n"
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.svg"]


# -- --version and shell completion ----------------------------------------------------------------


def test_version_and_completion(capsys) -> None:
    from lossctl import __version__

    assert run(capsys, "--version")[:2] == (0, f"lossctl {__version__}\n")
    code, out, _ = run(capsys, "--show-completion", "bash")
    assert code == 0
    assert "_LOSSCTL_COMPLETE" in out
    assert "complete " in out


# -- start-up: plotting libraries only where something is drawn ------------------------------------


def test_plotting_libraries_are_imported_only_to_draw() -> None:
    from test_startup import SAMPLE, imported_by

    def plotting(args: list[str]) -> set[str]:
        return {m.split(".")[0] for m in imported_by(args)} & {"uniplot", "matplotlib"}

    assert plotting(["compute", "--loss", "mse", str(SAMPLE)]) == set()
    assert plotting(["curve", "--loss", "mse", "--format", "csv"]) == set()
    assert plotting(["curve", "--loss", "mse", "--format", "plot"]) == {"uniplot"}
