"""How many threads lossctl's own parallel work uses (CSV chunks, loss blocks, training shards)."""

from __future__ import annotations

import os

MAX_WORKERS = 4


def worker_count() -> int:
    """The cores this process may run on, at most `MAX_WORKERS`; $LOSSCTL_THREADS overrides."""
    given = os.environ.get("LOSSCTL_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores))
