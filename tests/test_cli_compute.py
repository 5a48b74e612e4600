"""`lossctl compute`, `list` and `explain` end to end: exact output, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lossctl.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process through main(), which maps errors to exit codes."""
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def write(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- the teaching examples ------------------------------------------------------------------------


def test_exam_score_mse_is_400(capsys, tmp_path):
    code, out, err = run(capsys, "compute", "--loss", "mse", write(tmp_path, "y_true,y_pred\n90,70\n"))
    assert (code, out, err) == (0, "400.0\n", "")


def test_cat_predicted_quarter(capsys, tmp_path):
    path = write(tmp_path, "animal,label,prob\ncat,0,0.25\n")
    assert run(capsys, "compute", "-l", "mae,mse", path)[1] == "0.25\n0.0625\n"


def test_regression_sample_plain(capsys):
    code, out, _ = run(capsys, "compute", "-l", "mse,mae", str(SAMPLES / "regression.csv"))
    # errors: -20, 3, 6, -4, 0, -6, 9, 1
    assert out == f"{579 / 8!r}\n{49 / 8!r}\n"


def test_sum_and_none(capsys):
    path = str(SAMPLES / "regression.csv")
    assert run(capsys, "compute", "-l", "mse", "-r", "sum", path)[1] == "579.0\n"
    out = run(capsys, "compute", "-l", "mse", "-r", "none", path)[1]
    assert out.splitlines() == ["400", "9", "36", "16", "0", "36", "81", "1"]  # per-row style


def test_keras_and_torch_sum_differ_on_multi_column(capsys):
    # Keras averages each row over its columns before summing rows; torch sums every element.
    path = str(SAMPLES / "onehot.csv")
    keras_sum = float(run(capsys, "compute", "-l", "keras.mse", "-r", "sum", path)[1])
    torch_sum = float(run(capsys, "compute", "-l", "torch.mse_loss", "-r", "sum", path)[1])
    assert torch_sum == pytest.approx(3 * keras_sum, rel=1e-12)


def test_formats(capsys):
    path = str(SAMPLES / "regression.csv")
    csv_out = run(capsys, "compute", "-l", "mse", "-f", "csv", path)[1]
    assert csv_out == "loss,reduction,value,rows\nkeras.mean_squared_error,mean,72.375,8\n"
    records = json.loads(run(capsys, "compute", "-l", "mse", "-f", "json", path)[1])
    assert records[0]["value"] == 72.375
    assert records[0]["loss"] == "keras.mean_squared_error"
    table = run(capsys, "compute", "-l", "mse", "-f", "table", path)[1]
    assert "72.375" in table
    assert "keras.mean_squared_error" in table


def test_multicolumn_families_found_by_name(capsys):
    out = run(capsys, "compute", "-l", "sparse_categorical_crossentropy",
              str(SAMPLES / "multiclass_probs.csv"))[1]
    assert float(out) > 0
    out = run(capsys, "compute", "-l", "categorical_crossentropy", str(SAMPLES / "onehot.csv"))[1]
    assert float(out) > 0


def test_explicit_columns_and_glob(capsys, tmp_path):
    path = write(tmp_path, "a,b,q_0,q_1\n1,0.5,0.2,0.8\n0,0.25,0.6,0.4\n")
    assert run(capsys, "compute", "-l", "mse", "--true", "a", "--pred", "b", path)[1] == "0.15625\n"
    out = run(capsys, "compute", "-l", "torch.cross_entropy", "--true", "a", "--pred", "q_*", path)[1]
    assert float(out) > 0


def test_stdin_and_labels_file(capsys, tmp_path, monkeypatch):
    labels = write(tmp_path, "y\n1\n2\n", "labels.csv")
    preds = write(tmp_path, "pred\n1.5\n4\n", "preds.csv")
    assert run(capsys, "compute", "-l", "mse", "--labels", labels, preds)[1] == "2.125\n"


def test_weights_are_keras_sample_weights(capsys, tmp_path):
    path = write(tmp_path, "y_true,y_pred,w\n0,1,1\n0,2,3\n")
    assert run(capsys, "compute", "-l", "mse", "--weights", "w", path)[1] == "6.5\n"  # (1 + 12) / 2
    out = run(capsys, "compute", "-l", "mse", "--weights", "w", "-r", "mean_with_sample_weight", path)[1]
    assert out == "3.25\n"


def test_grad(capsys, tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,3\n2,2\n")
    assert run(capsys, "compute", "-l", "mse", "--grad", path)[1] == "2\n0\n"  # 2 * (p - t) / n


def test_nan_drop(capsys, tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,3\n2,\n")
    code, _, err = run(capsys, "compute", "-l", "mse", path)
    assert code == 1
    assert err == f"lossctl: error: {path}: line 3, column y_pred: empty cell " \
                  "(use --nan drop to skip rows with empty cells)\n"
    assert run(capsys, "compute", "-l", "mse", "--nan", "drop", path)[1] == "4.0\n"


# -- errors: one line, documented exit codes -------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-l", "msee"], "unknown loss 'msee'; did you mean"),
        (["-l", "mse", "-r", "batchmean"],
         "reduction 'batchmean' is not defined for keras.mean_squared_error"),
        (["-l", "huber", "-p", "deltaa=2"], "unknown parameter 'deltaa'"),
        (["-l", "huber", "-p", "delta=abc"], "parameter delta: 'abc' is not a number"),
        (["-l", "mse", "--pred", "nope"], "y_pred: no column 'nope'"),
        (["-l", "mse", "-f", "xml"], "unknown format 'xml'"),
        (["-l", "torch.mse_loss", "--weights", "y_true"],
         "--weights gives sample weights; torch.mse_loss has none"),
    ],
)
def test_usage_errors_exit_2(capsys, args, message):
    code, out, err = run(capsys, "compute", *args, str(SAMPLES / "regression.csv"))
    assert code == 2
    assert out == ""
    assert err.startswith("lossctl: error: ")
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("y_true,y_pred\n1,abc\n", "line 2, column y_pred: 'abc' is not a number"),
        ("y_true,y_pred\n1,2\n3\n",
         "line 3, column y_pred: missing (the row has 1 of the header's 2 fields)"),
        ("y_true,y_pred\n", "has a header but no data rows"),
        ("", "is empty"),
        ("y_true,y_pred\n0.5,0.2\n", "line 2, column y_true: y_true value 0.5 is not a class index"),
        ("y_true,p_0,p_1\n0,0.5,0.5\n2,0.1,0.9\n",
         "line 3, column y_true: y_true class index 2 is out of range"),
    ],
)
def test_data_errors_exit_1(capsys, tmp_path, text, message):
    path = write(tmp_path, text)
    loss = "sparse_categorical_crossentropy" if "class" in message else "mse"
    code, out, err = run(capsys, "compute", "-l", loss, path)
    assert code == 1
    assert out == ""
    assert message in err
    assert err.count("\n") == 1


def test_probability_outside_unit_interval_for_torch_bce(capsys, tmp_path):
    path = write(tmp_path, "y_true,y_pred\n1,0.5\n0,1.5\n")
    code, _, err = run(capsys, "compute", "-l", "torch.binary_cross_entropy", path)
    assert code == 1
    assert "line 3, column y_pred" in err


def test_missing_file_directory_binary(capsys, tmp_path):
    assert "no such file" in run(capsys, "compute", "-l", "mse", str(tmp_path / "nope.csv"))[2]
    assert "is an empty folder" in run(capsys, "compute", "-l", "mse", str(tmp_path))[2]  # else: parts
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    code, _, err = run(capsys, "compute", "-l", "mse", str(binary))
    assert code == 1
    assert "binary data" in err


def test_ambiguous_columns_listed(capsys, tmp_path):
    path = write(tmp_path, "label,target,y_pred\n1,1,2\n")
    code, _, err = run(capsys, "compute", "-l", "mse", path)
    assert code == 2
    assert "y_true is ambiguous: columns label, target" in err


# -- list and explain -------------------------------------------------------------------------------


def test_list_plain_has_every_loss(capsys):
    from lossctl.losses import REGISTRY

    out = run(capsys, "list", "-f", "plain")[1]
    names = {line.split("\t")[0] for line in out.splitlines()[1:]}
    assert names == {loss.qualified_name for loss in REGISTRY}


def test_explain_shows_formula_and_example(capsys):
    code, out, _ = run(capsys, "explain", "huber")
    assert code == 0
    assert out.startswith("keras.huber")
    assert "Formula" in out
    assert "delta = 1.0" in out
    assert "Example:" in out


# -- real processes: pipes and stdin ---------------------------------------------------------------


def _lossctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lossctl", *args], input=stdin,
                          capture_output=True, text=True, check=False)


def test_stdin_pipe_and_plain_output():
    done = _lossctl("compute", "--loss", "mse", "-", stdin="y_true,y_pred\n90,70\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, "400.0\n", "")


def test_closed_pipe_ends_quietly(tmp_path):
    rows = "y_true,y_pred\n" + "1,2\n" * 200_000
    path = write(tmp_path, rows)
    shell = f"{sys.executable} -m lossctl compute -l mse -r none {path} | head -n 1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True,
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "1\n", "")


# -- reduction none for batch-wise losses ---------------------------------------------------------

DICE = ("y_true_0,y_true_1,y_true_2,y_true_3,y_pred_0,y_pred_1,y_pred_2,y_pred_3\n"
        "1,1,0,0,0,1,0,1\n1,1,0,0,0.4,0,0,0.9\n")  # Keras's own dice test, flattened to rows


def test_dice_rows_with_axis_1_are_keras_values(capsys, tmp_path):
    code, out, _ = run(capsys, "compute", "-l", "dice", "-r", "none", "-p", "axis=1", write(tmp_path, DICE))
    assert code == 0
    assert [float(v) for v in out.split()] == pytest.approx([0.5, 0.75757575], rel=1e-7)
    mean = run(capsys, "compute", "-l", "dice", "-p", "axis=1", write(tmp_path, DICE))[1]
    assert float(mean) == pytest.approx(sum(float(v) for v in out.split()) / 2, rel=1e-15)


def test_dice_over_the_batch_prints_one_value(capsys, tmp_path):
    path = write(tmp_path, DICE)
    code, out, _ = run(capsys, "compute", "-l", "dice", "-r", "none", path)
    assert code == 0
    assert out == run(capsys, "compute", "-l", "dice", path)[1]  # one number, as Keras returns
    assert float(out) == pytest.approx(0.6164384, rel=1e-7)
    csv = run(capsys, "compute", "-l", "dice,tversky", "-r", "none", "-f", "csv", path)[1]
    assert csv.splitlines()[0] == "loss,reduction,value,rows"
    assert csv.splitlines()[1].startswith("keras.dice,none,0.616438")


def test_circle_rows(capsys, tmp_path):
    path = write(tmp_path, "label,e0,e1\n0,1,0\n0,0.8,0.6\n1,0,1\n1,0.6,0.8\n")
    args = ("compute", "-l", "circle", "--true", "label", "--pred", "e*", "-p", "gamma=2", path)
    code, out, _ = run(capsys, *args, "-r", "none", "-f", "csv")
    rows = out.splitlines()
    assert (code, rows[0], len(rows)) == (0, "line,keras.circle", 5)
    values = [float(r.split(",")[1]) for r in rows[1:]]
    assert float(run(capsys, *args)[1]) == pytest.approx(sum(values) / 4, rel=1e-15)


def test_one_value_and_rows_together_is_a_usage_error(capsys, tmp_path):
    code, out, err = run(capsys, "compute", "-l", "dice,mse", "-r", "none", write(tmp_path, DICE))
    assert (code, out) == (2, "")
    assert "keras.dice gives one value for the whole batch" in err


# -- losses added with issue 12 -------------------------------------------------------------------


def test_a_parameter_and_a_column_for_one_input_is_a_usage_error(capsys):
    path = str(SAMPLES / "multilabel.csv")
    code, _, err = run(capsys, "compute", "-l", "BCELoss", "-p", "weight=2,1,1,1",
                       "--col", "weight=y_true_*", path)
    assert code == 2
    assert "give weight as a column (--col) or as -p weight=..., not both" in err


def test_bce_weight_list_from_the_command_line(capsys):
    path = str(SAMPLES / "multilabel.csv")
    plain = float(run(capsys, "compute", "-l", "BCELoss", "-r", "sum", path)[1])
    doubled = float(run(capsys, "compute", "-l", "BCELoss", "-r", "sum", "-p", "weight=2", path)[1])
    assert doubled == pytest.approx(2 * plain, rel=1e-15)


def test_ctc_label_error_names_line_and_column(capsys, tmp_path):
    header = "y_true_0,y_true_1," + ",".join(f"y_pred_{j}" for j in range(6))
    frames = ",".join(["-1"] * 6)
    path = write(tmp_path, f"{header}\n1,2,{frames}\n0,2,{frames}\n")
    code, _, err = run(capsys, "compute", "-l", "torch.ctc_loss", "-p", "classes=3", path)
    assert code == 1
    assert "line 3, column y_true_1: label 2 follows a blank" in err


def test_paper_family_is_listed_and_cited(capsys):
    code, out, _ = run(capsys, "list", "--family", "paper", "--format", "plain")
    assert code == 0
    assert [line.split("\t")[0] for line in out.splitlines()[1:]] == [
        "paper.smape", "paper.wmape", "paper.jensen_shannon", "paper.crps_gaussian", "paper.quantile_loss"]
    out = run(capsys, "explain", "crps")[1]
    assert "Reference:" in out
    assert "Gneiting and Raftery" in out
