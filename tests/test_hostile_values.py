"""Non-finite and extreme numbers in training data: an infinite feature or target is an error
naming its line and column (dropped with --nan drop), numbers near the float64 limit train, and
no numpy RuntimeWarning reaches the user."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRUG_TEST = str(ROOT / "sample_data" / "drug_trial_test.csv")


def _csv(tmp_path: Path, text: str, name: str = "data.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


ROWS = "".join(f"{i},{i % 3},{'ab'[i % 2]}\n" for i in range(1, 21))


@pytest.mark.parametrize("cell", ["inf", "-inf", "Infinity", "-INF", "1e999"])
def test_an_infinite_feature_names_line_and_column(tmp_path: Path, cli, cell: str) -> None:
    path = _csv(tmp_path, "f,g,label\n" + ROWS + f"21,{cell},a\n" + ROWS)
    code, _, err = cli("train", path, "--epochs", "1", "--quiet")
    assert code == 1
    assert err == (f"lossctl: error: {path}: line 22, column g: {str(float(cell))!r} is not a "
                   "finite number (use --nan drop to skip such rows)\n")


def test_an_infinite_regression_target_names_line_and_column(tmp_path: Path, cli) -> None:
    path = _csv(tmp_path, "f,y\n1,1.5\n2,2.5\n3,-inf\n4,2\n5,3\n6,4\n")
    code, _, err = cli("train", path, "--epochs", "1", "--quiet", "--val-split", "0")
    assert code == 1
    assert "line 4, column y: '-inf' is not a finite number" in err


def test_nan_drop_skips_rows_with_infinite_numbers(tmp_path: Path, cli) -> None:
    path = _csv(tmp_path, "f,g,label\n" + ROWS + "21,inf,a\n22,,b\n" + ROWS)
    code, out, err = cli("train", path, "--epochs", "1", "--quiet", "--nan", "drop",
                          "--val-split", "0")
    assert (code, err) == (0, "")
    clean = _csv(tmp_path, "f,g,label\n" + ROWS + ROWS, "clean.csv")
    code, same, _ = cli("train", clean, "--epochs", "1", "--quiet", "--val-split", "0")
    assert code == 0
    assert [line.split(",")[:2] for line in out.splitlines()] == \
        [line.split(",")[:2] for line in same.splitlines()]  # the same loss: the same rows


def test_a_category_spelled_inf_stays_a_category(tmp_path: Path, cli) -> None:
    rows = "".join(f"{i},{['inf', 'low', 'high'][i % 3]},{'ab'[i % 2]}\n" for i in range(30))
    path = _csv(tmp_path, "f,level,label\n" + rows)
    code, _, err = cli("train", path, "--epochs", "1", "--quiet")
    assert (code, err) == (0, "")


def test_numbers_near_the_float64_limit_train_without_overflow(tmp_path: Path, cli) -> None:
    rows = "".join(f"{i},{(-1) ** i * 1.5e308},{i * 0.5}\n" for i in range(1, 31))
    path = _csv(tmp_path, "f,g,y\n" + rows)
    code, out, err = cli("train", path, "--epochs", "2", "--quiet", "--val-split", "0")
    assert (code, err) == (0, "")
    assert "inf" not in out
    assert "nan" not in out


def test_predict_refuses_an_infinite_feature_or_drops_it(
    tmp_path: Path, cli, train_drug_model: Callable[[int], str]
) -> None:
    model = train_drug_model(1)
    lines = Path(DRUG_TEST).read_text().splitlines()
    lines[2] = "inf," + lines[2].split(",", 1)[1]
    path = _csv(tmp_path, "\n".join(lines) + "\n")
    code, _, err = cli("predict", model, path)
    assert code == 1
    assert err.startswith(f"lossctl: error: {path}: line 3, column age: 'inf' is not a finite number")
    code, out, err = cli("predict", model, path, "--nan", "drop")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == len(lines) - 1  # the header, and every row but one


def test_no_runtime_warning_reaches_the_user() -> None:
    """A command whose numpy operation warns: nothing on stderr (unless -W makes warnings errors)."""
    script = ("import numpy as np, lossctl.cli as cli\n"
              "@cli.app.command('warn')\n"
              "def warn() -> None:\n"
              "    print(np.log(np.zeros(1))[0])\n"
              "cli.main(['warn'])\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, "-inf\n", "")
    done = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stderr) == (0, "")
