"""How many threads lossctl's own parallel work uses (CSV chunks, loss blocks, training shards)."""

from __future__ import annotations

import os

from lossctl.errors import UsageError

MAX_WORKERS = 4
MAX_THREADS = 256  # what $LOSSCTL_THREADS may ask for: each thread holds a block of work in memory


def worker_count() -> int:
    """The cores this process may run on, at most `MAX_WORKERS`; $LOSSCTL_THREADS overrides."""
    given = os.environ.get("LOSSCTL_THREADS", "").strip()
    if given:
        if not (given.isascii() and given.isdigit() and 1 <= int(given) <= MAX_THREADS):
            raise UsageError(f"LOSSCTL_THREADS={given!r}: give a number of threads from 1 to "
                             f"{MAX_THREADS}")
        return int(given)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))
