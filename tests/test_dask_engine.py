"""`compute --engine dask` on a real cluster: a `dask scheduler` and two `dask worker` processes on
loopback, started once for the module and stopped by their process ids.

The numbers equal the local engine's on the same rows in one file (to rtol 1e-12: only the order of
the additions differs), the workers do the reading and reducing, and the failures are one line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import pytest

from lossctl.cli import main

BIN = Path(sys.executable).parent
WORKERS = 2


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


def test_without_the_extra_dask_is_one_line_naming_it(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    path = tmp_path / "p.csv"
    path.write_text("y_true,y_pred\n1,2\n")
    code, out, err = run(capsys, "compute", "--engine", "dask", "-l", "mse", str(path))
    assert (code, out) == (2, "")
    assert err == "lossctl: error: --engine dask needs the dask extra: pip install 'lossctl[dask]'\n"


# -- a real cluster ---------------------------------------------------------------------------------

try:
    import distributed
except ImportError:
    distributed = None


@pytest.fixture(scope="module")
def dask_extra() -> None:
    if distributed is None:
        pytest.skip("the dask extra is not installed: pip install '.[dask]'")


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=5)  # they stop in about a second; a thread stuck in a read does not
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# Every port on loopback: the servers' own, and their HTTP servers' (without --dashboard-address the
# scheduler's listens on 0.0.0.0:8787 even with --no-dashboard).
LOOPBACK = ["--host", "127.0.0.1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
WORKER = ["--nthreads", "1", "--no-nanny", *LOOPBACK]


def _worker(scheduler_file: Path, log: Path) -> subprocess.Popen:
    return _start(
        [str(BIN / "dask"), "worker", "--scheduler-file", str(scheduler_file), *WORKER,
         "--local-directory", str(log.parent)], log,
    )


@pytest.fixture(scope="module")
def cluster(dask_extra, tmp_path_factory):
    """(scheduler address, a client of the test's own) of a scheduler and WORKERS workers."""
    where = tmp_path_factory.mktemp("cluster")
    file = where / "scheduler.json"
    procs = [_start([str(BIN / "dask"), "scheduler", *LOOPBACK, "--port", "0", "--scheduler-file", str(file)],
                    where / "scheduler.log")]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        procs += [_worker(file, where / f"worker{i}.log") for i in range(WORKERS)]
        client = distributed.Client(scheduler_file=str(file), timeout=60, set_as_default=False)
        client.wait_for_workers(WORKERS, timeout=60)
        yield json.loads(file.read_text())["address"], client, file
        client.close()
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> dict[str, Path]:
    """4,006 rows as 4 parts of CSV and of Parquet (and as one CSV)."""
    import pandas as pd

    where = tmp_path_factory.mktemp("parts")
    rng = np.random.default_rng(7)
    frames = []
    for i in range(4):
        n = 1000 + i
        prob = rng.uniform(0.01, 0.99, size=n)
        frames.append(pd.DataFrame({
            "y_true": rng.integers(0, 2, size=n).astype(float), "y_pred": prob,
            "w": rng.uniform(0, 2, size=n), "id": np.arange(n),
            "region": rng.choice(["north", "south", "east"], size=n),
        }))
    (where / "csv").mkdir()
    (where / "parquet").mkdir()
    for i, frame in enumerate(frames):
        frame.to_csv(where / "csv" / f"part-{i}.csv", index=False)
        frame.to_parquet(where / "parquet" / f"part-{i}.parquet", index=False)
    pd.concat(frames).to_csv(where / "all.csv", index=False)
    return {"csv": where / "csv", "parquet": where / "parquet", "all": where / "all.csv"}


def _executed(client) -> int:
    return sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())


CASES = [
    ("mse,mae,huber,bce,keras.log_cosh", "mean", ()),
    ("mse,bce", "sum", ()),
    ("mse,keras.poisson", "mean_with_sample_weight", ("--weights", "w")),
    ("mse,bce", "sum_over_batch_size", ("--weights", "w")),
    ("torch.mse_loss,torch.binary_cross_entropy,torch.l1_loss", "mean", ()),
    ("torch.kl_div", "batchmean", ()),
    ("mse,torch.mse_loss", None, ()),  # each family's default reduction
]


@pytest.mark.parametrize("shape", ["csv", "parquet"])
@pytest.mark.parametrize(("losses", "reduction", "extra"), CASES)
def test_same_numbers_as_the_local_engine(capsys, cluster, parts, shape, losses, reduction, extra):
    address, client, _ = cluster
    common = ["compute", "-l", losses, *(["-r", reduction] if reduction else []), "--format", "json", *extra]
    glob = str(parts[shape] / f"*.{shape}")
    code, local, err = run(capsys, *common, glob)
    assert (code, err) == (0, "")
    before = _executed(client)
    code, remote, err = run(capsys, *common, "--engine", "dask", "--scheduler", address, glob)
    assert (code, err) == (0, "")
    # 4 parts, then one task adding them (FAN_IN 4), all on the workers
    assert _executed(client) - before == 5
    local, remote = json.loads(local), json.loads(remote)
    assert [r["rows"] for r in local] == [4006] * len(local)
    _same_records(remote, local)


def _same_records(remote: list[dict], local: list[dict]) -> None:
    """The same records, numbers to rtol 1e-12 (only the order of the additions differs)."""
    assert len(remote) == len(local)
    for r, lo in zip(remote, local, strict=True):
        assert r.keys() == lo.keys()
        for key, value in lo.items():
            if isinstance(value, float):
                np.testing.assert_allclose(r[key], value, rtol=1e-12, err_msg=key)
            else:
                assert r[key] == value


@pytest.mark.parametrize("evaluation", [
    ("--by", "region"),
    ("--ci", "0.9", "--bootstrap", "200", "--seed", "3"),
    ("--by", "region", "--ci", "0.8", "--bootstrap", "100", "-r", "sum"),
    ("--by", "region", "--weights", "w", "-r", "mean_with_sample_weight"),
])
def test_groups_and_bootstrap_intervals_as_locally(capsys, cluster, parts, evaluation):
    """--by: partial sums per group; --ci: per bootstrap bucket (a row's bucket follows from its part
    and line, so the workers draw the same replicates as the local engine)."""
    address, _, _ = cluster
    common = ["compute", "-l", "mse,bce", "--format", "json", *evaluation, str(parts["parquet"])]
    code, local, err = run(capsys, *common)
    assert (code, err) == (0, "")
    code, remote, err = run(capsys, *common, "--engine", "dask", "--scheduler", address)
    assert (code, err) == (0, "")
    local, remote = json.loads(local), json.loads(remote)
    assert len(local) == (4 if "--by" in evaluation else 1) * 2
    _same_records(remote, local)


def test_the_workers_did_the_work(capsys, cluster, parts):
    """The scheduler counts one reading task per part and one adding them, all run by the workers."""
    address, client, _ = cluster

    def counts(dask_scheduler) -> dict[str, int]:  # tasks of each kind that reached memory, ever
        return {name: prefix.state_counts["memory"] for name, prefix in dask_scheduler.task_prefixes.items()}

    before, ran_before = client.run_on_scheduler(counts), _executed(client)
    code, out, _ = run(capsys, "compute", "-l", "mse", "--engine", "dask", "--scheduler", address,
                       str(parts["parquet"] / "*.parquet"))
    assert code == 0
    after = client.run_on_scheduler(counts)
    assert after["part_partials"] - before.get("part_partials", 0) == 4
    assert after["combine"] - before.get("combine", 0) == 1
    assert _executed(client) - ran_before == 5


def test_environment_variable_names_the_scheduler(capsys, cluster, parts, monkeypatch):
    address, _, _ = cluster
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    code, out, err = run(capsys, "compute", "-l", "mse", "--engine", "dask", str(parts["csv"]))  # a folder
    assert (code, err) == (0, "")
    local = run(capsys, "compute", "-l", "mse", str(parts["all"]))[1]
    np.testing.assert_allclose(float(out), float(local), rtol=1e-12)


def test_without_a_scheduler_a_local_cluster_is_started_and_stopped(capsys, dask_extra, parts, monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    code, out, err = run(capsys, "compute", "-l", "mse,mae", "--engine", "dask", str(parts["parquet"]))
    assert (code, err) == (0, "")
    local = run(capsys, "compute", "-l", "mse,mae", str(parts["parquet"]))[1]
    np.testing.assert_allclose([float(v) for v in out.split()], [float(v) for v in local.split()], rtol=1e-12)


def test_a_bad_cell_on_a_worker_is_the_local_error(capsys, cluster, tmp_path):
    address, _, _ = cluster
    (tmp_path / "a.csv").write_text("y_true,y_pred\n1,2\n3,4\n")
    (tmp_path / "b.csv").write_text("y_true,y_pred\n1,2\n3,abc\n")
    local = run(capsys, "compute", "-l", "mse", str(tmp_path / "b.csv"))
    remote = run(capsys, "compute", "-l", "mse", "--engine", "dask", "--scheduler", address,
                 str(tmp_path / "*.csv"))
    assert remote == local
    assert local[2] == f"lossctl: error: {tmp_path / 'b.csv'}: line 3, column y_pred: 'abc' is not a number\n"
    assert local[0] == 1


def test_no_scheduler_at_the_address_is_one_line(capsys, dask_extra, parts, monkeypatch):
    from lossctl.engine import dask as engine

    assert 2 * engine.CONNECT_SECONDS < 30  # connecting, then waiting for a worker: within 30 s
    monkeypatch.setattr(engine, "CONNECT_SECONDS", 1)
    import socket

    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    start = time.monotonic()
    code, out, err = run(capsys, "compute", "-l", "mse", "--engine", "dask", "--scheduler",
                         f"tcp://127.0.0.1:{port}", str(parts["csv"] / "*.csv"))
    assert time.monotonic() - start < 10
    assert (code, out) == (1, "")
    assert err == (f"lossctl: error: no Dask scheduler at tcp://127.0.0.1:{port} "
                   "(nothing answered within 1 s)\n")


def test_usage_errors_before_the_cluster(capsys, dask_extra, parts):
    glob = str(parts["csv"] / "*.csv")
    code, _, err = run(capsys, "compute", "-l", "mse", "--engine", "dask", "--scheduler", "nohost", glob)
    assert (code, err) == (2, "lossctl: error: --scheduler 'nohost': missing port number in address "
                              "'nohost'\n")
    code, _, err = run(capsys, "compute", "-l", "mse", "-r", "none", "--engine", "dask", glob)
    assert code == 2
    assert "gives a value per row; the dask engine returns reduced values only" in err
    code, _, err = run(capsys, "compute", "-l", "mse", "--grad", "--engine", "dask", glob)
    assert (code, err.count("\n")) == (2, 1)
    code, _, err = run(capsys, "compute", "-l", "mse", "--pred", "nope", "--engine", "dask", glob)
    assert code == 2
    code, _, err = run(capsys, "compute", "-l", "mse", "--engine", "dask", "-")
    assert (code, err) == (2, "lossctl: error: --engine dask reads files the workers can open, not standard "
                              "input\n")
    code, _, err = run(capsys, "compute", "-l", "mse", "--labels", glob, "--engine", "dask", glob)
    assert (code, err.count("\n")) == (2, 1)
    code, _, err = run(capsys, "compute", "-l", "circle", "--engine", "dask", glob)
    assert (code, err) == (2, "lossctl: error: keras.circle needs every row at once; the dask engine "
                              "adds partial sums (use --engine local)\n")


def _fake_lossctl(where: Path, version: str | None) -> dict[str, str]:
    """The environment of a worker whose Python has no lossctl (or a lossctl of `version`):
    `python -S` skips the .pth files, so the editable install of this lossctl is not seen."""
    path = [sysconfig.get_paths()["purelib"]]
    if version:
        (where / "lossctl").mkdir()
        (where / "lossctl" / "__init__.py").write_text(f"__version__ = {version!r}\n")
        path.insert(0, str(where))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}


@pytest.mark.parametrize("version", [None, "0.0.1"])
def test_a_worker_with_another_lossctl_is_named(capsys, cluster, parts, tmp_path, version):
    import lossctl

    address, client, file = cluster
    env = _fake_lossctl(tmp_path, version)
    worker = subprocess.Popen(
        [sys.executable, "-S", "-m", "distributed.cli.dask_worker", "--scheduler-file", str(file), *WORKER,
         "--local-directory", str(tmp_path)],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        client.wait_for_workers(WORKERS + 1, timeout=60)
        code, out, err = run(capsys, "compute", "-l", "mse", "--engine", "dask", "--scheduler", address,
                             str(parts["csv"] / "*.csv"))
        found = f"lossctl {version}" if version else "no lossctl"
        assert (code, out) == (1, "")
        assert err.startswith("lossctl: error: Dask worker tcp://127.0.0.1:")
        assert err.endswith(f" has {found}, this is lossctl {lossctl.__version__}: install lossctl "
                            f"{lossctl.__version__} where the workers run\n")
    finally:
        _stop([worker])
        deadline = time.monotonic() + 30
        while len(client.scheduler_info(n_workers=-1)["workers"]) > WORKERS and time.monotonic() < deadline:
            time.sleep(0.1)


def test_ctrl_c_cancels_the_cluster_tasks(cluster, tmp_path):
    """A part that never ends (a FIFO: its header for lossctl's check of the parts, then nothing
    for the worker) keeps a task running; Ctrl-C cancels it."""
    import threading

    address, client, _ = cluster
    fifo = tmp_path / "part.csv"
    os.mkfifo(fifo)
    header = threading.Thread(target=fifo.write_bytes, args=(b"y_true,y_pred\n",), daemon=True)
    header.start()
    proc = subprocess.Popen(
        [str(BIN / "lossctl"), "compute", "-l", "mse", "--engine", "dask", "--scheduler", address,
         str(fifo)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )

    def processing(dask_scheduler) -> int:
        return sum(len(ws.processing) for ws in dask_scheduler.workers.values())

    try:
        deadline = time.monotonic() + 60
        while client.run_on_scheduler(processing) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.run_on_scheduler(processing) >= 1
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert (proc.returncode, out) == (130, b"")
        assert err in (b"", b"lossctl: error: interrupted\n")  # (the CLI's wording of Ctrl-C)
        deadline = time.monotonic() + 10
        while client.run_on_scheduler(processing) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.run_on_scheduler(processing) == 0  # nothing left running for us
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        # A writer that closes at once ends the worker's read (blocked, or still to come) of nothing.
        release = threading.Thread(target=fifo.write_bytes, args=(b"",), daemon=True)
        release.start()
        release.join(timeout=10)
        time.sleep(0.5)  # the worker's thread ends (an error nobody waits for)


def test_a_worker_dying_on_a_part_is_one_line(dask_extra, tmp_path):
    """A cluster of its own (a task may fail once: allowed-failures 0), whose one worker is killed
    while it reads a part that never ends."""
    import threading

    file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", *LOOPBACK, "--port", "0", "--scheduler-file", str(file)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    procs = [scheduler]
    try:
        deadline = time.monotonic() + 60
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = _worker(file, tmp_path / "worker.log")
        procs.append(worker)
        client = distributed.Client(scheduler_file=str(file), timeout=60, set_as_default=False)
        client.wait_for_workers(1, timeout=60)
        fifo = tmp_path / "part.csv"
        os.mkfifo(fifo)
        threading.Thread(target=fifo.write_bytes, args=(b"y_true,y_pred\n",), daemon=True).start()
        address = json.loads(file.read_text())["address"]
        proc = subprocess.Popen(
            [str(BIN / "lossctl"), "compute", "-l", "mse", "--engine", "dask", "--scheduler", address,
             str(fifo)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        procs.append(proc)

        def processing(dask_scheduler) -> int:
            return sum(len(ws.processing) for ws in dask_scheduler.workers.values())

        while client.run_on_scheduler(processing) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.kill()
        out, err = proc.communicate(timeout=60)
        client.close()
        assert (proc.returncode, out) == (1, b"")
        said = err.decode()
        assert said.startswith(f"lossctl: error: Dask workers died while reading {fifo} (the last: tcp://")
        assert err.count(b"\n") == 1
    finally:
        _stop(procs)


@pytest.mark.parametrize("evaluation", [
    ("-l", "roc_auc_score,average_precision_score"),
    ("-l", "roc_auc_score,average_precision_score", "--by", "region", "--ci", "0.9", "--bootstrap", "100"),
    ("-l", "auc", "--ci", "0.95", "--ci-method", "bootstrap", "--bootstrap", "100", "--weights", "w"),
    ("-l", "mcc,f1", "--true", "region", "--pred", "region", "-p", "average=macro", "--by", "y_true"),
])
def test_tallied_metrics_as_locally(capsys, cluster, parts, evaluation):
    """Metrics of tallies (the weights at each distinct score, confusion matrices) are added on the
    workers like partial sums: the same values, DeLong's and the bootstrap's intervals."""
    address, _, _ = cluster
    common = ["compute", "--format", "json", *evaluation, str(parts["csv"])]
    code, local, err = run(capsys, *common)
    assert (code, err) == (0, "")
    code, remote, err = run(capsys, *common, "--engine", "dask", "--scheduler", address)
    assert (code, err) == (0, "")
    _same_records(json.loads(remote), json.loads(local))
