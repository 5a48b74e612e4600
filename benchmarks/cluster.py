"""The dask engine against the local one: `lossctl compute --loss mse` on 8 Parquet parts (extra `dask`).

* local engine: this process's threads (the reference);
* `--engine dask` with no scheduler: a LocalCluster of this machine's cores, started and stopped by
  the command (the whole overhead of a cluster on one machine);
* `--engine dask --scheduler ADDRESS` on running clusters of 1 worker and of one worker per core
  (`dask scheduler` and `dask worker` processes on loopback, started here): the throughput per worker.

Peak RSS is the lossctl process's; the workers' memory is not counted. Skipped with a note when dask
is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import Contender, run_interleaved
from inputs import Config, NoRoom, data_file, expected_value
from report import Table, mib, ratio, rounds, seconds, spread
from throughput import rows_label

HEADERS = ["rows", "engine", "workers", "wall median", "min – max", "M rows/s", "M rows/s per worker",
           "peak RSS (client)", "vs local", "value"]


def run(config: Config) -> list[Table]:
    rows = config.cluster_rows
    table = Table(f"Cluster: `lossctl compute --loss mse --engine dask` on {rows_label(rows)} rows in 8 "
                  "Parquet parts", HEADERS)
    dask = Path(config.python).parent / "dask"
    check = subprocess.run([config.python, "-c", "import distributed"], capture_output=True)
    if check.returncode != 0 or not dask.exists():
        table.notes.append("skipped: the dask extra is not installed (pip install 'lossctl[dask]').")
        return [table]
    try:
        folder = data_file(config, "parts", rows, suffix="")
    except NoRoom as error:
        table.notes.append(f"skipped: {error}.")
        return [table]
    cores = len(os.sched_getaffinity(0))
    compute = [*config.lossctl, "compute", "--loss", "mse", str(folder)]
    with tempfile.TemporaryDirectory() as where:
        one, many = _cluster(dask, Path(where) / "one", 1), _cluster(dask, Path(where) / "many", cores)
        try:
            contenders = [
                (Contender("local", compute, parse=_value), cores),
                (Contender("dask, LocalCluster", [*compute, "--engine", "dask"], parse=_value), cores),
                (Contender("dask, running", [*compute, "--engine", "dask", "--scheduler", one[0]],
                           parse=_value), 1),
                (Contender("dask, running", [*compute, "--engine", "dask", "--scheduler", many[0]],
                           parse=_value), cores),
            ]
            print(f"cluster: mse, {rows_label(rows)} rows in 8 parts", file=sys.stderr, flush=True)
            outcomes = run_interleaved([c for c, _ in contenders], config.repeats)
        finally:
            for proc in [*one[1], *many[1]]:
                proc.terminate()
            for proc in [*one[1], *many[1]]:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    expected = expected_value(folder)
    base = outcomes[0].stats()
    for outcome, (_, workers) in zip(outcomes, contenders, strict=True):
        label = outcome.contender.label
        if not outcome.ok:
            table.rows.append([rows_label(rows), label, str(workers), f"failed: {outcome.error}", *[""] * 6])
            continue
        wall = outcome.stats()
        value = outcome.samples[0].values["value"]
        error = abs(value - expected) / abs(expected)
        table.rows.append([
            rows_label(rows), label, str(workers), seconds(wall.median), spread(wall),
            f"{rows / wall.median / 1e6:.1f}", f"{rows / wall.median / 1e6 / workers:.1f}",
            mib(outcome.stats("rss_mib").high), ratio(wall.median / base.median if base else None),
            "exact" if error <= 1e-12 else f"rel. err {error:.0e}",
        ])
    table.notes.append(
        f"{rounds(config.repeats).capitalize()}, {cores} cores. Walls are whole lossctl processes: the "
        "LocalCluster row includes starting and stopping its worker processes; the running clusters "
        "(1 worker, and one per core, each one thread) were started once before timing. Rows per "
        "second per worker = rows / wall / workers, start-up included."
    )
    return [table]


def _value(stdout: str) -> dict[str, float]:
    return {"value": float(stdout.strip().splitlines()[-1])}


def _cluster(dask: Path, where: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    """A scheduler and `workers` one-thread workers on loopback; (address, their processes)."""
    where.mkdir()
    file = where / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "stdin": subprocess.DEVNULL}
    loopback = ["--host", "127.0.0.1", "--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
    scheduler = [str(dask), "scheduler", *loopback, "--port", "0", "--scheduler-file", str(file)]
    procs = [subprocess.Popen(scheduler, **quiet)]
    deadline = time.monotonic() + 60
    while not file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    worker = [str(dask), "worker", "--scheduler-file", str(file), *loopback, "--nthreads", "1", "--no-nanny",
              "--local-directory", str(where)]
    procs += [subprocess.Popen(worker, **quiet) for _ in range(workers)]
    time.sleep(3)  # the workers register with the scheduler
    return json.loads(file.read_text())["address"], procs
