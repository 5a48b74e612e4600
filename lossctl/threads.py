"""How many threads lossctl's own parallel work uses (CSV chunks, loss blocks, training shards)."""

from __future__ import annotations

import os

from lossctl.errors import UsageError

MAX_THREADS = 256  # what $LOSSCTL_THREADS may ask for: each thread holds a block of work in memory

def worker_count(at_most: int | None = None) -> int:
    """The cores this process may run on (all of them: reading keeps its memory bounded per
    thread), at most `at_most` if given; $LOSSCTL_THREADS overrides both."""
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
    return max(1, min(at_most or cores, cores))
