"""System errors (a full disk, an input that fails to read) are one line and exit 1, never a traceback."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lossctl.cli import main
from lossctl.errors import OutputError
from lossctl.io.atomic import open_atomic

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def _no_space(*_: object) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    return done.value.code, capsys.readouterr().err


def test_a_failed_atomic_write_names_the_file_and_leaves_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    monkeypatch.setattr(os, "fsync", _no_space)
    with pytest.raises(OutputError, match=r"model\.npz: cannot write: No space left on device"), \
            open_atomic(str(target)) as handle:
        handle.write(b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary file left


def test_a_folder_that_takes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "mkstemp", lambda **_: _no_space())
    with pytest.raises(OutputError, match=r"out\.csv: cannot write"), open_atomic(str(tmp_path / "out.csv")):
        pass


def test_train_save_on_a_full_disk_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", _no_space)
    saved = tmp_path / "m.npz"
    code, err = _run(capsys, "train", str(SAMPLES / "drug_trial.csv"), "--epochs", "1", "--quiet",
                     "--save", str(saved))
    assert code == 1
    assert err == f"lossctl: error: {saved}: cannot write: No space left on device\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_stdout_on_a_full_disk_is_one_line_exit_1(reduction: str) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "lossctl", "compute", "--loss", "mse", "--reduction", reduction,
             str(SAMPLES / "regression.csv")],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False,
        )
    assert done.returncode == 1
    assert done.stderr == "lossctl: error: standard output: No space left on device\n"


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs Linux's /proc")
def test_an_input_that_fails_to_read_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "compute", "--loss", "mse", "/proc/self/mem")  # reading it: EIO
    assert code == 1
    assert err == "lossctl: error: /proc/self/mem: cannot read (Input/output error)\n"
