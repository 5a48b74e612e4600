"""Hostile output paths and signals: a device, FIFO or standard stream is written where it is,
never replaced; a symlink keeps pointing at the file it names, which gets the new contents; a
place that takes no files fails before the work; SIGTERM and SIGHUP remove temporary files."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lossctl.nn import modelfile

ROOT = Path(__file__).resolve().parent.parent
DRUG = str(ROOT / "sample_data" / "drug_trial.csv")
DRUG_TEST = str(ROOT / "sample_data" / "drug_trial_test.csv")
LOSSCTL = [sys.executable, "-m", "lossctl"]


@pytest.fixture(scope="module")
def model(train_drug_model: Callable[[int], str]) -> str:
    return train_drug_model(1)


@pytest.fixture(scope="module")
def predictions(model: str) -> str:
    """What `predict` writes to stdout."""
    return subprocess.run([*LOSSCTL, "predict", model, DRUG_TEST], capture_output=True, text=True,
                          check=True).stdout


def _device(path: Path, minor: int) -> Path:
    """A character device like /dev/null (minor 3) or /dev/full (minor 7), made with mknod."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (AttributeError, PermissionError, OSError) as error:
        pytest.skip(f"cannot make a device node here (needs root and mknod): {error}")
    return path


def _leftovers(*folders: Path) -> list[str]:
    return [p.name for folder in folders for p in folder.iterdir() if p.name.startswith(".lossctl-")]


def test_a_character_device_is_written_not_replaced(model: str, tmp_path: Path, cli) -> None:
    null = _device(tmp_path / "null", 3)
    code, out, err = cli("predict", model, DRUG_TEST, "-o", str(null))
    assert (code, out, err) == (0, "", "")
    code, _, err = cli("train", DRUG, "--epochs", "1", "--quiet", "--save", str(null),
                        "--history", str(null))
    assert (code, err) == (0, "")
    assert stat.S_ISCHR(null.stat().st_mode)
    assert _leftovers(tmp_path) == []


def test_a_full_device_is_one_line_and_stays_a_device(model: str, tmp_path: Path, cli) -> None:
    full = _device(tmp_path / "full", 7)
    code, out, err = cli("predict", model, DRUG_TEST, "-o", str(full))
    assert (code, out) == (1, "")
    assert err == f"lossctl: error: {full}: cannot write: No space left on device\n"
    assert stat.S_ISCHR(full.stat().st_mode)
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")
@pytest.mark.parametrize("command", ["predict", "train"])
def test_a_fifo_is_written_not_replaced(model: str, predictions: str, tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    args = (["predict", model, DRUG_TEST, "-o", str(fifo)] if command == "predict"
            else ["train", DRUG, "--epochs", "1", "--quiet", "--save", str(fifo)])
    done = subprocess.run([*LOSSCTL, *args], capture_output=True, text=True, timeout=120, check=False)
    reader.join(timeout=10)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    if command == "predict":
        assert got == [predictions.encode()]
    else:
        assert got[0].startswith(b"PK\x03\x04")  # the model, through the FIFO
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "link"])
def test_a_standard_stream_is_written_in_place(model: str, predictions: str, tmp_path: Path,
                                               name: str) -> None:
    if not os.path.exists(name if name != "link" else "/proc/self/fd/1"):
        pytest.skip(f"this system has no {name}")
    if name == "link":
        (tmp_path / "link").symlink_to("/proc/self/fd/1")
        name = str(tmp_path / "link")
    done = subprocess.run([*LOSSCTL, "predict", model, DRUG_TEST, "-o", name], capture_output=True,
                          text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == predictions
    if name.endswith("link"):
        assert os.readlink(name) == "/proc/self/fd/1"
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="needs /dev/stdout")
def test_dev_stdout_appends_under_an_append_redirection(model: str, predictions: str, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("kept\n")
    with open(log, "a") as appending:
        done = subprocess.run([*LOSSCTL, "predict", model, DRUG_TEST, "-o", "/dev/stdout"],
                              stdout=appending, stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "kept\n" + predictions


def test_a_symlink_to_a_file_is_kept_and_the_file_replaced(model: str, predictions: str, tmp_path: Path,
                                                           cli) -> None:
    real, links = tmp_path / "real", tmp_path / "links"
    real.mkdir()
    links.mkdir()
    target = real / "pred.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    (links / "two").symlink_to("../real/pred.csv")  # relative, from another folder
    (links / "one").symlink_to("two")  # a chain of links
    code, _, err = cli("predict", model, DRUG_TEST, "-o", str(links / "one"))
    assert (code, err) == (0, "")
    assert (links / "one").is_symlink()
    assert os.readlink(links / "one") == "two"
    assert os.readlink(links / "two") == "../real/pred.csv"
    assert target.read_text() == predictions
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file keeps its permissions
    assert _leftovers(real, links) == []


def test_a_dangling_symlink_creates_the_file_it_names(model: str, predictions: str, tmp_path: Path,
                                                      cli) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to("made.csv")
    code, _, err = cli("predict", model, DRUG_TEST, "-o", str(link))
    assert (code, err) == (0, "")
    assert link.is_symlink()
    assert (tmp_path / "made.csv").read_text() == predictions


def test_train_outputs_follow_symlinks(tmp_path: Path, cli) -> None:
    (tmp_path / "m.npz").write_bytes(b"old")
    (tmp_path / "model-link").symlink_to("m.npz")
    (tmp_path / "history-link").symlink_to("h.csv")
    code, _, err = cli("train", DRUG, "--epochs", "2", "--quiet", "--save",
                        str(tmp_path / "model-link"), "--history", str(tmp_path / "history-link"))
    assert (code, err) == (0, "")
    assert (tmp_path / "model-link").is_symlink()
    assert (tmp_path / "history-link").is_symlink()
    assert modelfile.load(str(tmp_path / "m.npz")).meta["trained"]["epochs"] == 2
    assert (tmp_path / "h.csv").read_text().count("\n") == 3
    assert _leftovers(tmp_path) == []


def test_a_directory_is_not_an_output(model: str, tmp_path: Path, cli) -> None:
    code, _, err = cli("predict", model, DRUG_TEST, "-o", str(tmp_path))
    assert (code, err) == (1, f"lossctl: error: {tmp_path}: is a directory (give a file name)\n")


@pytest.mark.parametrize("flag", ["--save", "--history"])
def test_a_place_that_takes_no_files_fails_before_training(tmp_path: Path, cli, flag: str) -> None:
    """The output is opened first: the data file is never read (it does not even exist)."""
    missing_data = str(tmp_path / "no-such-data.csv")
    code, _, err = cli("train", missing_data, flag, str(tmp_path / "nodir" / "m.npz"))
    assert (code, err) == (1, f"lossctl: error: {tmp_path}/nodir/m.npz: cannot write: "
                              f"folder {tmp_path}/nodir does not exist\n")
    if os.path.isdir("/proc/self"):
        code, _, err = cli("train", missing_data, flag, "/proc/model.npz")
        assert code == 1
        assert err.startswith("lossctl: error: /proc/model.npz: cannot write: "
                              "cannot create a file in /proc (")


def test_predict_opens_its_output_before_reading(model: str, tmp_path: Path, cli) -> None:
    code, _, err = cli("predict", model, str(tmp_path / "no-such-data.csv"), "-o",
                        str(tmp_path / "nodir" / "p.csv"))
    assert (code, err) == (1, f"lossctl: error: {tmp_path}/nodir/p.csv: cannot write: "
                              f"folder {tmp_path}/nodir does not exist\n")


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


SIGNALS = [(signal.SIGTERM, 143), (signal.SIGHUP, 129)] if hasattr(signal, "SIGHUP") else []


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not SIGNALS, reason="needs POSIX signals and FIFOs")
@pytest.mark.parametrize(("signum", "code"), SIGNALS, ids=["SIGTERM", "SIGHUP"])
def test_a_signal_during_predict_removes_the_temporary_file(model: str, tmp_path: Path, signum: int,
                                                            code: int) -> None:
    """predict -o waits on a FIFO that never gets data, its temporary file open, when the signal comes."""
    data = tmp_path / "data.fifo"
    os.mkfifo(data)
    out = tmp_path / "out"
    out.mkdir()
    (out / "pred.csv").write_text("old\n")
    process = subprocess.Popen([*LOSSCTL, "predict", model, str(data), "-o", str(out / "pred.csv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: bool(_leftovers(out)), process)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code
    assert (stdout, stderr) == ("", f"lossctl: error: terminated ({signal.Signals(signum).name})\n")
    assert [p.name for p in out.iterdir()] == ["pred.csv"]
    assert (out / "pred.csv").read_text() == "old\n"


@pytest.mark.skipif(not SIGNALS, reason="needs POSIX signals")
@pytest.mark.parametrize(("signum", "code"), SIGNALS, ids=["SIGTERM", "SIGHUP"])
def test_a_signal_during_training_removes_both_temporary_files(tmp_path: Path, signum: int,
                                                               code: int) -> None:
    process = subprocess.Popen([*LOSSCTL, "train", DRUG, "--epochs", "100000", "--quiet", "--save",
                                str(tmp_path / "m.npz"), "--history", str(tmp_path / "h.csv")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: len(_leftovers(tmp_path)) == 2, process)
    time.sleep(0.5)  # into the epochs
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code
    assert stderr == f"lossctl: error: terminated ({signal.Signals(signum).name})\n"
    assert list(tmp_path.iterdir()) == []



@pytest.mark.skipif(not SIGNALS, reason="needs POSIX signals and FIFOs")
@pytest.mark.parametrize("command", ["predict", "train"])
def test_ctrl_c_says_interrupted_and_removes_temporary_files(model: str, tmp_path: Path,
                                                             command: str) -> None:
    """Ctrl-C (SIGINT) ends like SIGTERM: one line, exit 130, no temporary file left behind."""
    if command == "predict":
        data = tmp_path / "data.fifo"
        os.mkfifo(data)
        args = ["predict", model, str(data), "-o", str(tmp_path / "pred.csv")]
    else:
        args = ["train", DRUG, "--epochs", "100000", "--quiet", "--save", str(tmp_path / "m.npz")]
    process = subprocess.Popen([*LOSSCTL, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    _wait_for(lambda: len(_leftovers(tmp_path)) == 1, process)  # its output file is open
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.endswith("lossctl: error: interrupted\n")
    assert _leftovers(tmp_path) == []

STUBBORN = """
import sys, time
from lossctl.cli import _Signals
from lossctl.io.atomic import Output

signals = _Signals()
output = Output(sys.argv[1])
ready = False
while True:
    try:
        if not ready:
            print("ready", flush=True)
            ready = True
        time.sleep(60)
    except BaseException:  # swallows the exception the signal raised, as some library code does
        pass
"""


@pytest.mark.skipif(not SIGNALS, reason="needs POSIX signals")
@pytest.mark.parametrize("twice", [False, True], ids=["grace_runs_out", "second_signal"])
def test_a_swallowed_signal_still_ends_lossctl(tmp_path: Path, twice: bool) -> None:
    """Code that swallows the exception a signal raised cannot keep lossctl running: after the
    grace period (or at once on a second signal) it removes its temporary files and exits."""
    process = subprocess.Popen([sys.executable, "-c", STUBBORN, str(tmp_path / "out.csv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout.readline() == "ready\n"
    assert len(_leftovers(tmp_path)) == 1
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    if twice:
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    elapsed = time.monotonic() - started
    assert process.returncode == 143
    assert stderr == "lossctl: error: terminated (SIGTERM)\n"
    assert list(tmp_path.iterdir()) == []
    assert elapsed < 2.5 if twice else elapsed >= 2.9
