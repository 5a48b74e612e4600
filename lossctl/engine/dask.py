"""The dask engine: each part file is read and reduced on a Dask worker, and only sums come back.

    parts -> one task per part on the workers: the part's table -> Computation.partials()
          -> a tree of `combine` tasks (FAN_IN partials each) -> the total, sent back -> finish()

A worker runs the same reader and loss code as the local engine (lossctl must be installed where
the workers run, at the same version: checked before any task is sent). Rows never leave the
workers, so `--reduction none`, `--grad` and losses of the whole batch (which need every row in one
place) are the local engine's. Needs the extra `lossctl[dask]`; nothing here is imported otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import lossctl
from lossctl.compute import Query, Result, combine
from lossctl.errors import DataError, UsageError
from lossctl.io.reader import open_part, open_table

EXTRA_HINT = "pip install 'lossctl[dask]'"
CONNECT_SECONDS = 10  # to reach a scheduler, then again for its first worker
FAN_IN = 4  # partials added by one task of the tree


def reduced(query: Query, inputs: Sequence[str], scheduler: str | None = None) -> list[Result]:
    """`query` computed over the parts `inputs` name (files, globs, folders, as the reader takes
    them; on storage the workers see at the same paths) on the Dask cluster at `scheduler`
    ($DASK_SCHEDULER_ADDRESS when None; a local cluster of this machine's cores if neither is set).
    Usage errors, and parts whose headers differ, are found here before any cluster is reached."""
    try:
        import distributed
    except ImportError:
        raise UsageError(f"--engine dask needs the dask extra: {EXTRA_HINT}") from None
    if "-" in inputs:
        raise UsageError("--engine dask reads files the workers can open, not standard input")
    with open_table(inputs, query.nan, query.delimiter) as table:  # every part's header, here
        plan = query.computation(table)
        parts = table.paths
    whole = [job.loss.qualified_name for job in plan.jobs if job.loss.batchwise]
    if whole:
        raise UsageError(
            f"{', '.join(whole)} needs every row at once; the dask engine adds partial sums "
            "(use --engine local)"
        )
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    _quiet()
    with _connect(distributed, address) as client:
        _check_workers(client, address)
        paths = [os.path.abspath(p) for p in parts]
        tasks = client.map(part_partials, [query] * len(parts), paths, list(parts), pure=False)
        every = list(tasks)
        try:
            while len(tasks) > 1:  # a tree, in part order: the same total every run
                tasks = [client.submit(combine, *tasks[i : i + FAN_IN], pure=False)
                         for i in range(0, len(tasks), FAN_IN)]
                every += tasks
            total = tasks[0].result()
        except distributed.KilledWorker as error:  # workers died running it, as many times as allowed
            client.cancel(every)
            reading = dict(zip([t.key for t in every], parts, strict=False))
            doing = reading.get(error.task, "their partial sums")
            last = getattr(error.last_worker, "address", error.last_worker)
            raise DataError(f"Dask workers died while reading {doing} (the last: {last})") from None
        except BaseException:  # Ctrl-C or an error: stop what still runs on the cluster
            client.cancel(every)
            raise
    return plan.finish(total)


def part_partials(query: Query, path: str, name: str) -> list:
    """On a worker: the partial sums of one part (at `path`), its errors naming it `name`, the
    path as the user's machine names it."""
    with open_part(path, query.nan, query.delimiter) as part:
        part.source.name = name
        return query.computation(part).partials()


@contextmanager
def _connect(distributed: Any, address: str | None) -> Iterator[Any]:
    """A client of the scheduler at `address`, or of a local cluster started (and stopped) here."""
    if address is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        with distributed.LocalCluster(  # its HTTP server on a free port: 8787 may be taken
            n_workers=cores or 1, threads_per_worker=1, dashboard_address="127.0.0.1:0", silence_logs=50
        ) as cluster, distributed.Client(cluster, set_as_default=False) as client:
            yield client
        return
    from distributed.comm import get_address_host_port

    try:
        get_address_host_port(address)
    except ValueError as error:  # not an address at all
        raise UsageError(f"--scheduler {address!r}: {error}") from None
    try:
        client = distributed.Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError):
        raise DataError(
            f"no Dask scheduler at {address} (nothing answered within {CONNECT_SECONDS} s)"
        ) from None
    with client:
        yield client


def _check_workers(client: Any, address: str | None) -> None:
    """At least one worker, and each with this lossctl version (tasks are unpickled there)."""
    try:
        client.wait_for_workers(1, timeout=CONNECT_SECONDS)
    except TimeoutError:
        raise DataError(
            f"the Dask scheduler at {address} has no workers (waited {CONNECT_SECONDS} s)"
        ) from None
    ours = lossctl.__version__
    for worker, theirs in sorted(client.run(_version_probe()).items()):
        if theirs != ours:
            found = f"lossctl {theirs}" if theirs else "no lossctl"
            raise DataError(
                f"Dask worker {worker} has {found}, this is lossctl {ours}: install lossctl {ours} "
                "where the workers run"
            )


def _version_probe() -> Callable[[], str | None]:
    """A function that is sent by value (a local one), so it runs on a worker without lossctl."""

    def version() -> str | None:
        try:
            import lossctl
        except ImportError:
            return None
        return getattr(lossctl, "__version__", "unknown")

    return version


def _quiet() -> None:
    """distributed logs to stderr; lossctl reports in one line of its own."""
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL)

