"""lossctl train / predict / evaluate: in-process with CliRunner, errors through main(), one pipe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossctl.cli import app, main

ROOT = Path(__file__).resolve().parent.parent
DRUG = str(ROOT / "sample_data" / "drug_trial.csv")
DRUG_TEST = str(ROOT / "sample_data" / "drug_trial_test.csv")
HOUSING = str(ROOT / "sample_data" / "housing.csv")
runner = CliRunner()


@pytest.fixture(scope="module")
def drug_model(train_drug_model) -> str:
    return train_drug_model(8)


def test_train_piped_stdout_is_the_history_csv(tmp_path: Path) -> None:
    history = tmp_path / "h.csv"
    result = runner.invoke(app, ["train", DRUG, "--epochs", "3", "--history", str(history)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "epoch,loss,val_loss,accuracy,val_accuracy,lr,seconds"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"]
    assert "best epoch" in result.stderr
    assert "loss per epoch" in result.stderr
    assert "642 parameters" in result.stderr
    saved = history.read_text().splitlines()
    assert saved[0] == lines[0]
    assert len(saved) == 4
    # same seed, same numbers (all but the seconds column)
    again = runner.invoke(app, ["train", DRUG, "--epochs", "3"]).stdout.splitlines()
    assert [r.rsplit(",", 1)[0] for r in again] == [r.rsplit(",", 1)[0] for r in lines]


def test_predict_layout_and_pipe_into_compute(drug_model: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", drug_model, DRUG_TEST])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "y_pred,p_0,p_1,label_true,y_true"
    assert len(lines) == 401
    out = tmp_path / "pred.csv"
    assert runner.invoke(app, ["predict", drug_model, DRUG_TEST, "-o", str(out)]).exit_code == 0
    assert out.read_text() == result.stdout
    computed = runner.invoke(app, ["compute", "--loss", "sparse_categorical_crossentropy",
                                   "--format", "plain", str(out)])
    assert computed.exit_code == 0, computed.output
    evaluated = runner.invoke(app, ["evaluate", drug_model, DRUG_TEST])
    assert evaluated.exit_code == 0, evaluated.output
    rows = dict(line.split(",") for line in evaluated.stdout.splitlines())
    assert rows["keras.sparse_categorical_crossentropy"] == computed.stdout.strip()
    assert float(rows["accuracy"]) > 0.9


def test_regression_predict_pipes_into_compute_mse(tmp_path: Path) -> None:
    model = str(tmp_path / "h.npz")
    assert runner.invoke(app, ["train", HOUSING, "--epochs", "5", "--save", model, "-q"]).exit_code == 0
    out = tmp_path / "pred.csv"
    assert runner.invoke(app, ["predict", model, HOUSING, "-o", str(out)]).exit_code == 0
    assert out.read_text().splitlines()[0] == "y_pred,y_true"
    computed = runner.invoke(app, ["compute", "--loss", "mse", "--format", "plain", str(out)])
    evaluated = runner.invoke(app, ["evaluate", model, HOUSING, "--metrics", "mae"])
    rows = dict(line.split(",") for line in evaluated.stdout.splitlines())
    assert rows["keras.mean_squared_error"] == computed.stdout.strip()


def _fail(capsys, argv: list[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    return int(exit_info.value.code), err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--hidden", "a,b"], 2, "--hidden takes comma-separated layer widths such as 16,32, got 'a,b'"),
        (["--lr", "-1"], 2, "--lr must be > 0, got -1"),
        (["--epochs", "0"], 2, "--epochs must be at least 1, got 0"),
        (["--optimizer", "adamm"], 2, "--optimizer takes one of sgd, momentum, nesterov, rmsprop, adam, "
                                      "adamw, got 'adamm'"),
        (["--val-split", "1.5"], 2, "--val-split must be in [0, 1), got 1.5"),
        (["--loss", "nope_loss"], 2, "unknown loss 'nope_loss'"),
        (["--metrics", "accuracy,mae", "--target", "age", "--task", "regression"], 2,
         "metric accuracy needs a classification target, not regression"),
        (["--target", "weight"], 1, "has no target column 'weight' (columns: age, side_effects)"),
    ],
)
def test_train_errors(capsys, tmp_path: Path, argv, code, message) -> None:
    save = tmp_path / "m.npz"
    got, err = _fail(capsys, ["train", DRUG, "--epochs", "1", "--save", str(save), *argv])
    assert got == code
    assert err.startswith("lossctl: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert not save.exists()


def test_data_errors(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    assert _fail(capsys, ["train", str(missing)]) == (1, f"lossctl: error: {missing}: no such file\n")
    empty_cell = tmp_path / "e.csv"
    empty_cell.write_text("a,label\n1,x\n,y\n3,x\n4,y\n")
    code, err = _fail(capsys, ["train", str(empty_cell), "--val-split", "0"])
    assert (code, err) == (1, f"lossctl: error: {empty_cell}: line 3, column a: empty cell "
                              "(use --nan drop to skip rows with empty cells)\n")
    garbage = tmp_path / "g.csv"
    garbage.write_text("a,label\n1,x\n2,y\nzz,x\n4,y\n")
    code, err = _fail(capsys, ["train", str(garbage)])
    assert (code, err) == (1, f"lossctl: error: {garbage}: line 4, column a: 'zz' is not a number\n")


def test_divergence_leaves_no_files(capsys, tmp_path: Path) -> None:
    save, history = tmp_path / "m.npz", tmp_path / "h.csv"
    code, err = _fail(capsys, ["train", HOUSING, "--optimizer", "sgd", "--lr", "10", "--epochs", "20",
                               "--save", str(save), "--history", str(history)])
    assert code == 1
    assert "training diverged" in err
    assert "try a smaller learning rate" in err
    assert list(tmp_path.iterdir()) == []


def test_predict_errors(capsys, drug_model: str, tmp_path: Path) -> None:
    corrupt = tmp_path / "bad.npz"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    code, err = _fail(capsys, ["predict", str(corrupt), DRUG_TEST])
    assert code == 1
    assert err.startswith(f"lossctl: error: {corrupt}: not a lossctl model file")
    other = tmp_path / "other.csv"
    other.write_text("weight,side_effects\n1,0\n")
    code, err = _fail(capsys, ["predict", drug_model, str(other)])
    assert (code, err) == (1, f"lossctl: error: {other}: lacks the model's feature column(s) age "
                              "(columns: weight, side_effects)\n")


def test_help_is_fast_and_lists_defaults() -> None:
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    assert "16,32" in result.stdout
    assert "--lr-schedule" in result.stdout
    code = "import sys, lossctl.cli; print('pandas' in sys.modules, 'lossctl.nn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_subprocess_pipe_tail() -> None:
    command = f"{sys.executable} -m lossctl train {DRUG} --epochs 2 | tail -n 1"
    done = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=ROOT, check=True)
    fields = done.stdout.strip().split(",")
    assert fields[0] == "2"
    assert len(fields) == 7
    assert float(fields[4]) > 0.5
