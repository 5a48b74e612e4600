"""The one way into an input: `open_table` turns what the user named into a `Table`.

What can be named: a file (CSV, TSV or any delimited text, Parquet; compressed or not), `-` for
stdin, a glob (`'preds/*.csv'`, quoted so that lossctl expands it), a folder of part files, or
several of these. Several files are read as one table, in sorted file order within each glob or
folder; their headers must be the same, and they must be all CSV or all Parquet. Errors name the
part file and its line.
"""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterator, Sequence

from lossctl.errors import DataError, UsageError
from lossctl.io.block import Block, NanPolicy, Request, Table
from lossctl.io.records import decode_text, header_names, sniff_delimiter
from lossctl.io.source import open_source

GLOB_CHARS = "*?["


def open_table(inputs: str | Sequence[str], nan: NanPolicy = "error", delimiter: str | None = None) -> Table:
    """A Table of `inputs` (one argument or several); `delimiter` (None: by name, else sniffed)
    applies to every CSV part. Close it when done (it is a context manager)."""
    args = [inputs] if isinstance(inputs, str) else list(inputs)
    if not args:
        raise UsageError("no input file given")
    if "-" in args and len(args) > 1:
        raise UsageError("- (standard input) cannot be read together with other files")
    paths = [path for arg in args for path in _expand(arg)]
    if len(args) == 1 and paths == args:  # one file, as named
        return open_part(args[0], nan, delimiter)
    return PartsTable(_display(args), paths, nan, delimiter)


def open_part(path: str, nan: NanPolicy = "error", delimiter: str | None = None,
              small_bytes: int | None = None) -> Table:
    """One file (or `-`): a CsvTable, or a ParquetTable when its content is Parquet."""
    source = open_source(path)
    try:
        if source.parquet:
            from lossctl.io.parquet import ParquetTable

            return ParquetTable(source, nan=nan)
        from lossctl.io.table import CsvTable

        return CsvTable(source, nan=nan, delimiter=delimiter, small_bytes=small_bytes)
    except BaseException:
        source.close()
        raise


def _expand(arg: str) -> list[str]:
    """The files an argument names: itself, a folder's parts, or a glob's matches (sorted)."""
    if arg == "-" or os.path.isfile(arg):
        return [arg]
    if os.path.isdir(arg):
        parts = sorted(
            os.path.join(arg, entry) for entry in os.listdir(arg)
            if not entry.startswith((".", "_")) and os.path.isfile(os.path.join(arg, entry))
        )  # hidden files and Spark's _SUCCESS markers are not parts
        if not parts:
            raise DataError(f"{arg}: is an empty folder (no CSV or Parquet files in it)")
        return parts
    if any(char in arg for char in GLOB_CHARS):
        matches = sorted(path for path in glob.glob(arg, recursive=True) if os.path.isfile(path))
        if not matches:
            raise DataError(f"{arg}: no file matches")
        return matches
    return [arg]  # open_source names what is wrong with it


def _display(args: list[str]) -> str:
    return ", ".join(args) if len(args) <= 3 else f"{args[0]}, ... ({len(args)} inputs)"


class PartsTable(Table):
    """Several files read as one table, one after another (the `Table` protocol).

    Every part's header is read first (a line of a CSV, the schema of a Parquet file), so a part
    that does not fit fails before any row is read.
    """

    def __init__(self, name: str, paths: list[str], nan: NanPolicy = "error",
                 delimiter: str | None = None) -> None:
        from lossctl.io.table import SMALL_BYTES

        self.name, self.paths, self.nan, self.delimiter = name, paths, nan, delimiter
        kinds, headers = zip(*(_header(path, delimiter) for path in paths), strict=True)
        if len(set(kinds)) > 1:
            csv_part = paths[kinds.index("csv")]
            parquet_part = paths[kinds.index("parquet")]
            raise DataError(f"{name}: mixes CSV and Parquet files ({csv_part}, {parquet_part})")
        self.header = list(headers[0])
        for path, header in zip(paths, headers, strict=True):
            if list(header) != self.header:
                raise DataError(
                    f"{path}: its columns ({_listing(header)}) differ from those of {paths[0]} "
                    f"({_listing(self.header)})"
                )
        self.where = "row" if kinds[0] == "parquet" else "line"
        sizes = sum(os.path.getsize(p) for p in paths if p != "-")
        self.large = sizes > SMALL_BYTES
        self._small_bytes = 0 if self.large else None  # a large table reads every part in chunks

    def no_rows(self) -> str:
        return f"{self.name}: has a header but no data rows (in {len(self.paths)} files)"

    def read(self, request: Request) -> Iterator[Block]:
        if self.large and self.where == "line":  # CSV parts: chunks on every core, across parts
            from lossctl.io.table import chunked_blocks

            yield from chunked_blocks(self._parts(), request)
            return
        for part in self._parts():
            yield from part.read(request)

    def _parts(self) -> Iterator[Table]:
        """Each part opened in turn, and closed when the next is asked for (chunks already read
        from it stay in memory)."""
        for path in self.paths:
            with open_part(path, self.nan, self.delimiter, self._small_bytes) as part:
                yield part


def _header(path: str, delimiter: str | None) -> tuple[str, list[str]]:
    """('csv' or 'parquet', the column names) of a file, reading no more than its header."""
    if os.path.exists(path) and not os.path.isfile(path):  # a pipe, such as <(zcat a.gz)
        raise UsageError(f"{path}: is not a regular file; of several inputs each is read twice "
                         "(its header first), so each must be a file")
    with open_source(path) as source:
        if source.parquet:
            import pyarrow.parquet as pq

            from lossctl.io.parquet import ParquetTable

            if not source.stream.seekable():
                return "parquet", ParquetTable(source).header
            try:
                return "parquet", list(pq.read_schema(source.stream).names)
            except Exception as error:  # pyarrow raises ArrowInvalid, OSError, ...
                raise DataError(f"{path}: not a readable Parquet file ({error})") from None
        lines = [source.stream.readline()]
        while lines[-1] and b"".join(lines).count(b'"') % 2:  # a quoted name over several lines
            lines.append(source.stream.readline())
        text = decode_text(b"".join(lines), source.name, "utf-8-sig")
        sep = delimiter or source.delimiter or sniff_delimiter(text.split("\n", 1)[0])
        return "csv", header_names(source.name, next(csv.reader(text.splitlines(True), delimiter=sep), None))


def _listing(header: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(header[:limit])
    return shown + (f", ... ({len(header)} in all)" if len(header) > limit else "")
