"""Started with a standard stream closed (`<&-`, `>&-`, `2>&-`): one line and exit 1 where the
stream is needed, never a traceback, and no file lands on the closed descriptor."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REGRESSION = str(ROOT / "sample_data" / "regression.csv")
DRUG = str(ROOT / "sample_data" / "drug_trial.csv")
DRUG_TEST = str(ROOT / "sample_data" / "drug_trial_test.csv")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="closes file descriptors the POSIX way")


def _closed(fd: int, *args: str) -> subprocess.CompletedProcess[str]:
    """lossctl with descriptor `fd` closed, the other two piped."""
    pipes = {0: subprocess.PIPE, 1: subprocess.PIPE, 2: subprocess.PIPE}
    return subprocess.run([sys.executable, "-m", "lossctl", *args], stdin=pipes[0],
                          stdout=pipes[1], stderr=pipes[2], text=True, timeout=120, check=False,
                          preexec_fn=lambda: os.close(fd), cwd=ROOT)


@pytest.fixture(scope="module")
def model(train_drug_model: Callable[[int], str]) -> str:
    return train_drug_model(1)


def test_stdin_closed_is_fine_for_a_file(model: str) -> None:
    done = _closed(0, "compute", "--loss", "mse", REGRESSION)
    assert (done.returncode, done.stdout, done.stderr) == (0, "72.375\n", "")
    done = _closed(0, "evaluate", model, DRUG_TEST)
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("command", [["compute", "--loss", "mse", "-"], ["train", "-"],
                                     ["predict", "MODEL", "-"], ["evaluate", "MODEL", "-"]],
                         ids=["compute", "train", "predict", "evaluate"])
def test_stdin_closed_and_read_is_one_line(model: str, command: list[str]) -> None:
    done = _closed(0, *[model if arg == "MODEL" else arg for arg in command])
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "lossctl: error: <stdin>: cannot read (standard input is closed)\n"


@pytest.mark.parametrize("command", [["compute", "--loss", "mse", REGRESSION],
                                     ["train", DRUG, "--epochs", "1"], ["list"]],
                         ids=["compute", "train", "list"])
def test_stdout_closed_is_one_line(command: list[str]) -> None:
    done = _closed(1, *command)
    assert (done.returncode, done.stderr) == (1, "lossctl: error: standard output is closed\n")


def test_stderr_closed_keeps_the_exit_code(tmp_path: Path) -> None:
    done = _closed(2, "compute", "--loss", "mse", str(tmp_path / "missing.csv"))
    assert (done.returncode, done.stdout) == (1, "")
    done = _closed(2, "compute", "--loss", "mse", REGRESSION)
    assert (done.returncode, done.stdout) == (0, "72.375\n")


def test_no_file_lands_on_a_closed_descriptor(tmp_path: Path) -> None:
    """With stdout closed, an output file opened later must not become descriptor 1 (whatever
    is printed would go into it): lossctl stops before opening anything."""
    target = tmp_path / "m.npz"
    done = _closed(1, "train", DRUG, "--epochs", "1", "--quiet", "--save", str(target))
    assert done.returncode == 1
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
