"""Reading columns of a CSV (or TSV, or any one-character delimiter) in blocks of rows, with errors
that name line and column.

* Small inputs (under `SMALL_BYTES`) go through the standard `csv` module, which starts instantly
  (pyarrow is not imported).
* Larger ones are cut into chunks of whole records (`chunks.py`, about `BLOCK_BYTES` each), parsed
  by pyarrow on every core (`parsers.py`). Memory stays bounded however long the file is.
* A chunk pyarrow cannot take as it is (a cell that is not a number, a row of the wrong width, a
  missing cell under `--nan error`, a quoted field over several lines) is read again with the `csv`
  module, which decides and names the line and column. So both paths give the same numbers (both
  parse floats correctly rounded) and the same errors.

The delimiter is the caller's, else tab for a .tsv/.tab name, else sniffed from the header line.
Only the columns a command asks for are converted; other columns may hold anything.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from lossctl.errors import DataError
from lossctl.io.block import Block, Codes, NanPolicy, Request, Table, missing_message, shorten
from lossctl.io.cells import MISSING, cell_number
from lossctl.io.chunks import MAX_LINE_BYTES, Chunk, LineTooLong, map_ahead, record_chunks
from lossctl.io.records import decode_text, header_names, is_blank, sniff_delimiter, width_error
from lossctl.io.source import Source
from lossctl.threads import worker_count

if TYPE_CHECKING:
    from lossctl.io.parsers import Parsed

csv.field_size_limit(MAX_LINE_BYTES)  # one rule for both paths: a line, not a cell, is bounded
SMALL_BYTES = 1 << 20
BLOCK_ROWS = 1_000_000
BLOCK_BYTES = 2 << 20  # a chunk per core is parsed at a time: about 15 MiB of working memory each


class CsvTable(Table):
    """A CSV input with a header row, read block by block (the `Table` protocol)."""

    where = "line"  # how an error names a row

    def __init__(
        self,
        source: Source,
        nan: NanPolicy = "error",
        block_rows: int = BLOCK_ROWS,
        block_bytes: int | None = None,
        delimiter: str | None = None,
        small_bytes: int | None = None,
    ) -> None:
        self.source, self.nan, self.block_rows = source, nan, block_rows
        self.block_bytes = block_bytes or BLOCK_BYTES
        small = SMALL_BYTES if small_bytes is None else small_bytes
        head = source.stream.read(small + 1)
        self.large = len(head) > small  # read in chunks, a chunk per core: worth threads
        stream = source.stream
        if self.large and b"\n" not in head and b"\r" in head[:-1]:  # old Mac line ends: as \n
            stream = _CrAsLf(stream)
            head = head.replace(b"\r", b"\n")
        end = _header_end(head)
        while self.large and end is None:  # a header longer than the small limit
            more = stream.readline(MAX_LINE_BYTES)
            if len(head) > MAX_LINE_BYTES:
                raise DataError(f"{self.name}: line 1 (the header) is longer than "
                                f"{MAX_LINE_BYTES >> 20} MiB, the longest line lossctl reads")
            head += more
            end = _header_end(head) if more else len(head)
        end = len(head) if end is None else end
        first = head[:end].removesuffix(b"\n").removesuffix(b"\r")
        self.data_line = 2 + first.count(b"\n") + first.count(b"\r") - first.count(b"\r\n")
        first_text = decode_text(first, self.name, "utf-8-sig")
        self.delimiter = delimiter or source.delimiter or sniff_delimiter(first_text)
        if not self.large:
            text = decode_text(head, self.name, "utf-8-sig")
            self._rows = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
            self.header = header_names(self.name, next(self._rows, None))
        else:
            lines = io.StringIO(first_text, newline="")  # a quoted cell may hold a line break
            self.header = header_names(self.name, next(self._reader(lines), None))
            rest = _Prefixed(head[end:], stream)
            self._stream = io.BufferedReader(rest, buffer_size=1 << 20)

    @property
    def name(self) -> str:
        return self.source.name

    def _reader(self, lines) -> Iterator[list[str]]:
        return csv.reader(lines, delimiter=self.delimiter)

    def close(self) -> None:
        self.source.close()

    def read(self, request: Request) -> Iterator[Block]:
        """The blocks of a request, perhaps none (a part of a table may have no rows)."""
        return self._large_blocks(request) if self.large else self._small_blocks(request)

    # -- the standard-library reader: small inputs, and any chunk pyarrow declines ------------

    def _small_blocks(self, columns: Request) -> Iterator[Block]:
        yield self._csv_rows(self._rows, columns, 0)

    def _csv_rows(self, rows, columns: Request, offset: int) -> Block:
        """The requested cells of every row of a `csv.reader`, whose line 1 is file line offset+1."""
        width = len(self.header)
        numeric = [(self.header.index(c), c) for c in columns.numeric]
        words = [(self.header.index(c), c) for c in [*columns.text, *columns.guess, *columns.keys]]
        values: list[list[float]] = []
        texts: list[list[str]] = []
        lines: list[int] = []
        line = offset + 1
        drop = columns.nan == "drop"
        try:
            for cells in rows:
                line = rows.line_num + offset
                if is_blank(cells):
                    continue
                if len(cells) != width:
                    raise width_error(self.name, line, self.header, len(cells))
                row = [self._number(cells[i], line, name, columns.nan) for i, name in numeric]
                text = [self._text(cells[i], line, name, columns.nan) for i, name in words]
                if drop and (any(math.isnan(v) for v in row) or any(w is None for w in text)):
                    continue
                values.append(row)
                texts.append(text)
                lines.append(line)
        except csv.Error as error:
            raise DataError(f"{self.name}: line {line}: malformed CSV: {error}") from None
        data = np.array(values, dtype=np.float64).reshape(len(values), len(numeric))
        by_column = {
            name: np.array([w[j] for w in texts], dtype=object) for j, (_, name) in enumerate(words)
        }
        for name in columns.guess:
            by_column[name] = _numbers_or_text(by_column[name])
        for name in columns.keys:
            by_column[name] = Codes.of(by_column[name])
        return Block(data, np.array(lines, dtype=np.int64), by_column, self.name, self.where)

    def _number(self, cell: str, line: int, column: str, nan: NanPolicy) -> float:
        try:
            value = cell_number(cell)
        except ValueError:
            raise DataError(
                f"{self.name}: line {line}, column {column}: {shorten(cell)!r} is not a number"
            ) from None
        if nan == "error" and math.isnan(value):
            raise DataError(f"{self.name}: line {line}, column {column}: {missing_message(cell)}")
        return value

    def _text(self, cell: str, line: int, column: str, nan: NanPolicy) -> str | None:
        """A text cell stripped; None if it is missing and rows with one are dropped."""
        text = cell.strip()
        if text.lower() in MISSING and nan != "keep":
            if nan == "error":
                raise DataError(f"{self.name}: line {line}, column {column}: {missing_message(cell)}")
            return None
        return text

    # -- large inputs: chunks of records through pyarrow -------------------------------------

    def _large_blocks(self, request: Request) -> Iterator[Block]:
        return chunked_blocks([self], request)

    def _block(self, chunk: Chunk, parsed: Parsed | None, request: Request, first_line: int) -> Block:
        """The block of a chunk pyarrow parsed; or, where it could not (or a missing cell is an
        error), of the csv module, which names the first bad cell (or says it is not UTF-8)."""
        if parsed is not None and (parsed.missing is None or request.nan != "error"):
            block = Block(parsed.data, parsed.offsets + first_line, parsed.text, self.name, self.where)
            if parsed.missing is not None and request.nan == "drop":
                block = block.take(~parsed.missing)
            return block
        text = io.StringIO(decode_text(chunk.data, self.name, "utf-8-sig"), newline="")
        return self._csv_rows(self._reader(text), request, first_line - 1)

    def _cut(self, block: Block) -> Iterator[Block]:
        """`block` in blocks of at most `block_rows` rows."""
        if len(block) <= self.block_rows:
            yield block
            return
        for start in range(0, len(block), self.block_rows):
            yield block.take(slice(start, start + self.block_rows))


def chunked_blocks(tables: Iterable[CsvTable], request: Request) -> Iterator[Block]:
    """The blocks of large CSV tables read one after another (the parts of one table), cut into
    chunks of whole records that pyarrow parses on every core: up to a chunk per core ahead, across
    the end of one part and the start of the next. Blocks and errors come in file order."""
    from lossctl.io.parsers import ArrowParser

    def items() -> Iterator[tuple[CsvTable, ArrowParser, list[bytes]]]:
        for table in tables:
            parser = ArrowParser(table.header, request.numeric, request.text, table.delimiter, request.guess,
                                 request.keys)
            try:
                for pieces in record_chunks(table._stream, table.block_bytes):
                    yield table, parser, pieces
            except LineTooLong as long:
                long.table = table
                raise

    def parse(item: tuple[CsvTable, ArrowParser, list[bytes]]):
        table, parser, pieces = item
        chunk = Chunk(pieces)
        return table, chunk, (parser.parse(chunk) if _is_utf8(chunk.data) else None)

    current, first_line = None, 2  # of the chunk at hand; the header is line 1
    try:
        for table, chunk, parsed in map_ahead(parse, items(), worker_count()):
            if table is not current:
                current, first_line = table, table.data_line
            block = table._block(chunk, parsed, request, first_line)
            first_line += chunk.newlines
            yield from table._cut(block)
    except LineTooLong as long:
        line = (first_line if long.table is current else long.table.data_line) + long.newlines
        raise DataError(f"{long.table.name}: line {line} is longer than {MAX_LINE_BYTES >> 20} MiB, "
                        "the longest line lossctl reads") from None


def _numbers_or_text(cells: np.ndarray) -> np.ndarray:
    """A guessed column's stripped cells as float64 if every one is a number or missing, else as
    they are."""
    try:
        return np.array([cell_number(cell) for cell in cells], dtype=np.float64)
    except ValueError:
        return cells


def _header_end(head: bytes) -> int | None:
    """The offset just past the header record's line break (a quoted cell may hold line breaks),
    or None if `head` does not hold all of it."""
    quoted = False
    for i in range(len(head)):
        byte = head[i]
        if byte == 0x22:  # a doubled quote inside quotes toggles twice
            quoted = not quoted
        elif byte in (0x0A, 0x0D) and not quoted:
            if byte == 0x0D and i + 1 == len(head):
                return None  # a \r\n cut in two: read more
            return i + 2 if head[i : i + 2] == b"\r\n" else i + 1
    return None


class _CrAsLf(io.RawIOBase):
    """A stream whose carriage returns read as line feeds (a file with old Mac line ends)."""

    def __init__(self, raw: io.BufferedIOBase) -> None:
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        if n:
            view = memoryview(buffer)[:n]
            view[:] = bytes(view).replace(b"\r", b"\n")
        return n


class _Prefixed(io.RawIOBase):
    """A stream that gives `head` first, then the rest of `tail` (stdin cannot seek back)."""

    def __init__(self, head: bytes, tail: io.BufferedIOBase) -> None:
        self._head, self._tail = memoryview(head), tail

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        return self._tail.readinto(buffer)


def _is_utf8(data: bytes) -> bool:
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
