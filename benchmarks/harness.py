"""Running contenders as child processes: wall time, peak RSS, interleaved repeats, statistics.

Peak RSS comes from `os.wait4`'s rusage. On Linux a child's `ru_maxrss` starts at its parent's
high-water mark (vfork + exec carry it over), so the process running this harness must stay small:
it imports only the standard library and generates data in child processes.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Parser = Callable[[str], dict[str, float]]


@dataclass(frozen=True)
class Contender:
    """One command to time; `parse` turns its stdout into named values (the loss, accuracies...)."""

    label: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    parse: Parser | None = None


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    rss_mib: float  # peak resident set size
    values: dict[str, float]


@dataclass(frozen=True)
class Stats:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, numbers: Sequence[float]) -> Stats:
        return cls(statistics.median(numbers), min(numbers), max(numbers))


@dataclass
class Outcome:
    """Every sample of one contender, or the error that stopped it."""

    contender: Contender
    samples: list[Sample] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.samples)

    def stats(self, key: str = "wall") -> Stats | None:
        """Statistics of `wall`, `rss_mib` or a parsed value over the samples that have it."""
        if not self.ok:
            return None
        if key in ("wall", "rss_mib"):
            numbers = [getattr(s, key) for s in self.samples]
        else:
            numbers = [s.values[key] for s in self.samples if key in s.values]
        return Stats.of(numbers) if numbers else None


class ChildFailed(Exception):
    pass


def run_once(contender: Contender, timeout: float | None = None) -> Sample:
    """Run the command once; stdout and stderr go to temporary files, so no pipe can fill up."""
    env = {**os.environ, **contender.env}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(contender.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
        _, status, usage = _wait4(proc, timeout)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if proc.returncode != 0:
        lines = stderr.strip().splitlines() or [f"exit code {proc.returncode}"]
        raise ChildFailed(f"exit {proc.returncode}: {lines[-1][:160]}")
    try:
        values = contender.parse(stdout) if contender.parse else {}
    except (ValueError, KeyError, IndexError) as error:
        raise ChildFailed(f"unexpected output ({error}): {stdout[:120]!r}") from None
    return Sample(wall, usage.ru_maxrss / 1024, values)  # ru_maxrss is in KiB on Linux


def _wait4(proc: subprocess.Popen, timeout: float | None) -> tuple[int, int, os.struct_rusage]:
    if timeout is None:
        return os.wait4(proc.pid, 0)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return pid, status, usage
        if time.monotonic() > deadline:
            proc.kill()
            os.wait4(proc.pid, 0)
            proc.returncode = -9
            raise ChildFailed(f"timed out after {timeout:.0f} s")
        time.sleep(0.01)


def run_interleaved(
    contenders: Sequence[Contender], repeats: int, warmup: bool = False, timeout: float | None = None
) -> list[Outcome]:
    """Each repeat runs every contender once, the order rotated by one each time.

    A contender that fails is recorded with its error and left out of later repeats.
    """
    outcomes = [Outcome(c) for c in contenders]
    rounds = ([-1] if warmup else []) + list(range(repeats))
    for round_ in rounds:
        shift = max(round_, 0) % len(outcomes)
        for outcome in outcomes[shift:] + outcomes[:shift]:
            if outcome.error is not None:
                continue
            try:
                sample = run_once(outcome.contender, timeout)
            except (ChildFailed, OSError) as error:
                outcome.error = str(error)
                continue
            if round_ >= 0:
                outcome.samples.append(sample)
    return outcomes
