"""Fixtures shared by the test modules."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossctl.cli import app

DRUG = str(Path(__file__).resolve().parent.parent / "sample_data" / "drug_trial.csv")


# Runs lossctl (its arguments after the script's) from a small Python process and prints the exit
# code and lossctl's peak resident memory in KiB: measured from the test process itself, the peak
# would include the test process's own size (Linux carries it over through vfork and exec).
MEASURED = ("import os, subprocess, sys\n"
            "p = subprocess.Popen([sys.executable, '-m', 'lossctl', *sys.argv[1:]],\n"
            "                     stdout=subprocess.DEVNULL)\n"
            "_, status, usage = os.wait4(p.pid, 0)\n"
            "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n")


@pytest.fixture
def lossctl_peak() -> Callable[..., tuple[int, str, float]]:
    """`lossctl_peak(*args, feed=None)`: run lossctl in a subprocess (`feed(stdin)` writes its
    input from a thread); (exit code, stderr, peak resident memory in MiB)."""
    import threading

    def run(*args: str, feed: Callable | None = None) -> tuple[int, str, float]:
        process = subprocess.Popen([sys.executable, "-c", MEASURED, *args],
                                   stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   cwd=Path(__file__).resolve().parent.parent)
        if feed:  # communicate() would close stdin under the feeding thread
            threading.Thread(target=feed, args=(process.stdin,), daemon=True).start()
        err = process.stderr.read()  # lossctl's few lines; then the exit code and the peak
        code, kib = process.stdout.read().split()
        process.wait(timeout=300)
        for stream in (process.stdin, process.stdout, process.stderr):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        return int(code), err.decode(), int(kib) / 1024

    return run


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """`cli(*args)`: lossctl run in-process through main(), which maps errors to exit codes;
    returns (exit code, stdout, stderr)."""
    from lossctl.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as done:
            main(list(args))
        out, err = capsys.readouterr()
        return done.value.code, out, err

    return run


@pytest.fixture(scope="session")
def train_drug_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], str]:
    """`train_drug_model(epochs)`: the path of a model trained on sample_data/drug_trial.csv for
    that many epochs (trained once per session and number of epochs)."""
    made: dict[int, str] = {}

    def train(epochs: int) -> str:
        if epochs not in made:
            path = str(tmp_path_factory.mktemp("model") / "drug.npz")
            result = CliRunner().invoke(app, ["train", DRUG, "--epochs", str(epochs), "--save", path, "-q"])
            assert result.exit_code == 0, result.output
            made[epochs] = path
        return made[epochs]

    return train


@pytest.fixture(params=["stdlib", "arrow"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on both paths of the CSV reader: the csv module (small inputs), and pyarrow,
    forced by a tiny small-file limit, with tiny chunks that make every few records a chunk."""
    if request.param == "arrow":
        from lossctl.io import table as table_module

        monkeypatch.setattr(table_module, "SMALL_BYTES", 8)
        monkeypatch.setattr(table_module, "BLOCK_BYTES", 16)
    return request.param
