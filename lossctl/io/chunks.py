"""Cutting a CSV byte stream into chunks of whole records, each knowing the file line it starts on.

A chunk ends after a newline that is outside quotes, so a parser can take each chunk on its own;
memory is a chunk or two however long the input is.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np


@dataclass
class Chunk:
    """Whole records: `data` ends with a newline, its first byte begins file line `first_line`."""

    data: bytes
    first_line: int
    newlines: int

    def row_lines(self, rows: int) -> np.ndarray | None:
        """The file line of each of `rows` parsed rows, when blank lines alone explain the count.

        None when it cannot tell cheaply (a quoted field may span lines): read the chunk slowly.
        """
        if rows == self.newlines:
            return np.arange(self.first_line, self.first_line + rows, dtype=np.int64)
        if b'"' in self.data:
            return None
        raw = np.frombuffer(self.data, dtype=np.uint8)
        ends = np.flatnonzero(raw == 10)
        starts = np.concatenate(([0], ends[:-1] + 1))
        length = ends - starts
        blank = (length == 0) | ((length == 1) & (raw[np.minimum(starts, len(raw) - 1)] == 13))
        kept = np.flatnonzero(~blank)
        if len(kept) != rows:
            return None
        return kept.astype(np.int64) + self.first_line


def record_chunks(stream: BinaryIO, size: int, first_line: int = 2) -> Iterator[Chunk]:
    """Chunks of about `size` bytes (more if one record is longer) read from `stream`."""
    rest = b""
    line = first_line
    while True:
        data = stream.read(size)
        if not data:
            if rest:
                if not rest.endswith(b"\n"):
                    rest += b"\n"
                yield Chunk(rest, line, rest.count(b"\n"))
            return
        buffer = rest + data if rest else data
        cut = _last_record_end(buffer)
        if not cut:
            rest = buffer
            continue
        chunk = Chunk(buffer[:cut], line, buffer.count(b"\n", 0, cut))
        rest = buffer[cut:]
        line += chunk.newlines
        yield chunk


def _last_record_end(buffer: bytes) -> int:
    """The offset after the last newline outside quotes (0 if none); `buffer` starts a record.

    Doubled quotes inside a quoted field count twice, so an even number of quotes before a newline
    means it ends a record.
    """
    end = len(buffer)
    quoted = b'"' in buffer
    while True:
        at = buffer.rfind(b"\n", 0, end)
        if at < 0:
            return 0
        if not quoted or buffer.count(b'"', 0, at) % 2 == 0:
            return at + 1
        end = at
