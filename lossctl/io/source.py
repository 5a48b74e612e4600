"""Opening an input: a path or `-` for stdin, with the checks every command shares.

Errors name the file: a missing file, a directory, an empty file, or binary data (a NUL byte or
text that is not UTF-8 in the first block). A Parquet file (it starts with `PAR1`) is binary data
too, unless the caller reads Parquet (`parquet=True`).
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass
from typing import BinaryIO

from lossctl.errors import DataError

SNIFF_BYTES = 64 * 1024
PARQUET_MAGIC = b"PAR1"


@dataclass
class Source:
    """An opened input: a display name (`<stdin>` for `-`) and a binary stream positioned at 0."""

    name: str
    stream: BinaryIO
    parquet: bool = False

    def close(self) -> None:
        if self.stream is not sys.stdin.buffer:
            self.stream.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(path: str, parquet: bool = False) -> Source:
    """Open `path` (or stdin for `-`) for reading, after checking that it is a text file.

    With `parquet`, a Parquet file is accepted too, and the Source says so.
    """
    if path == "-":
        raw: BinaryIO = sys.stdin.buffer
        name = "<stdin>"
    else:
        name = path
        if os.path.isdir(path):
            raise DataError(f"{path}: is a directory, not a CSV file")
        try:
            raw = open(path, "rb")  # noqa: SIM115  (closed by Source)
        except FileNotFoundError:
            raise DataError(f"{path}: no such file") from None
        except PermissionError:
            raise DataError(f"{path}: permission denied") from None
        except OSError as error:
            raise DataError(f"{path}: cannot open ({error.strerror})") from None
    stream = io.BufferedReader(raw, buffer_size=1 << 20) if not hasattr(raw, "peek") else raw
    try:
        head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    except OSError as error:
        raise DataError(f"{name}: cannot read ({error.strerror or error})") from None
    if not head.strip():
        raise DataError(f"{name}: is empty (no header, no rows)")
    if head.startswith(PARQUET_MAGIC):
        if parquet:
            return Source(name, stream, parquet=True)
        raise DataError(f"{name}: is a Parquet file; this command reads CSV")
    if b"\x00" in head:
        raise DataError(f"{name}: is binary data, not a CSV file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the block's end
            raise DataError(f"{name}: is not UTF-8 text (binary data?)") from None
    return Source(name, stream)
