"""How many threads lossctl's own parallel work uses (CSV chunks, loss blocks, training shards)."""

from __future__ import annotations

import os


def worker_count(at_most: int | None = None) -> int:
    """The cores this process may run on (all of them: reading keeps its memory bounded per
    thread), at most `at_most` if given; $LOSSCTL_THREADS overrides both."""
    given = os.environ.get("LOSSCTL_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(at_most or cores, cores))
