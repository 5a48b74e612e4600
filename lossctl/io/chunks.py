"""Cutting a CSV byte stream into chunks of whole records, and parsing them on several cores.

A chunk ends after a newline that is outside quotes (an even number of quote characters before it,
as doubled quotes inside a quoted field count twice), so a parser can take each chunk on its own;
memory is a few chunks however long the input is.

`map_ahead` runs a function over chunks in worker threads (the fast parsers release the GIL) and
gives the results back in file order, so line numbers are assigned in order by the caller.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")


class Chunk:
    """Whole records: `data` ends with a newline and holds `newlines` file lines.

    Made from the pieces `record_chunks` read, in a worker thread: joining them is work too.
    """

    __slots__ = ("data", "newlines")

    def __init__(self, pieces: list[bytes]) -> None:
        data = b"".join(pieces)
        self.data = data if data.endswith(b"\n") else data + b"\n"
        self.newlines = count_byte(self.data, b"\n")

    def row_offsets(self, rows: int) -> np.ndarray | None:
        """The line of each of `rows` parsed rows, counted from 0 at the chunk's first line.

        Found when blank lines alone explain the count; None when it cannot tell cheaply (a quoted
        field may span lines): the caller reads the chunk slowly.
        """
        if rows == self.newlines:
            return np.arange(rows, dtype=np.int64)
        if b'"' in self.data:
            return None
        raw = np.frombuffer(self.data, dtype=np.uint8)
        ends = np.flatnonzero(raw == 10)
        starts = np.concatenate(([0], ends[:-1] + 1))
        length = ends - starts
        blank = (length == 0) | ((length == 1) & (raw[np.minimum(starts, len(raw) - 1)] == 13))
        kept = np.flatnonzero(~blank)
        return kept.astype(np.int64) if len(kept) == rows else None


# The longest line (record) lossctl reads, as DuckDB's max_line_size: past it, a CSV is an error
# naming the line, and an endless line (on stdin) takes no more memory than this.
MAX_LINE_BYTES = 16 << 20


class LineTooLong(Exception):
    """A line longer than MAX_LINE_BYTES; `newlines` complete lines precede it in its chunk."""

    def __init__(self, newlines: int) -> None:
        super().__init__(newlines)
        self.newlines = newlines
        self.table: Any = None  # the table reading it, set by the reader


def record_chunks(stream: BinaryIO, size: int) -> Iterator[list[bytes]]:
    """Pieces of about `size` bytes of whole records read from `stream`, which begins at a record.

    Each item is a list of byte strings that together end at the end of a record (or the input).
    A line that goes on past MAX_LINE_BYTES raises LineTooLong.
    """
    while True:
        data = stream.read(size)
        if not data:
            return
        tail = [_line(stream, data)]  # to the end of the line
        quotes = (count_byte(data, b'"') if b'"' in data else 0) + count_byte(tail[0], b'"')
        while quotes % 2 and tail[-1]:  # the newline was inside a quoted field: read on
            tail.append(_line(stream, data, *tail))
            quotes += count_byte(tail[-1], b'"')
        yield [data, *tail]


def _line(stream: BinaryIO, *before: bytes) -> bytes:
    """The rest of the line `before` ends in, at most MAX_LINE_BYTES of it."""
    line = stream.readline(MAX_LINE_BYTES + 1)
    started = len(before[-1]) - before[-1].rfind(b"\n") - 1  # the line's bytes already read
    if started + len(line) - line.endswith(b"\n") > MAX_LINE_BYTES:
        raise LineTooLong(sum(count_byte(piece, b"\n") for piece in before))
    return line


def count_byte(data: bytes, byte: bytes, step: int = 1 << 20) -> int:
    """How often `byte` occurs in `data` (numpy, a slice at a time: twice as fast as bytes.count)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    code = ord(byte)
    return sum(int(np.count_nonzero(raw[i : i + step] == code)) for i in range(0, len(raw), step))


def map_ahead(work: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`work(item)` for each item, in order, computed up to `workers + 1` items ahead in threads.

    An error from `items` itself surfaces only after the items before it are done (one of them
    may fail first), so errors come in input order. One worker runs everything in the calling
    thread. Closing the iterator early (an error in the caller, Ctrl-C) cancels what has not
    started.
    """
    if workers <= 1:
        yield from map(work, items)
        return
    from concurrent.futures import Future, ThreadPoolExecutor  # 5-10 ms: only when used

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lossctl")
    pending: deque[Future[R]] = deque()
    try:
        try:
            for item in items:
                pending.append(pool.submit(work, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
        except Exception:
            while pending:
                yield pending.popleft().result()
            raise
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
