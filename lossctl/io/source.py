"""Opening one input: a path or `-` for stdin, decompressed, with the checks every command shares.

Errors name the file: a missing file, a directory, an empty file, binary data (a NUL byte or text
that is not UTF-8 in the first block), a compression lossctl cannot read, or compressed data that
is cut short or corrupt. Compression (gzip, bzip2, xz, zstd) is told by the file's first bytes, on
stdin too; a name ending in .gz, .bz2, .xz or .zst must hold what it says. The data is decompressed
as it is read, never whole in memory. A Parquet file is told by its first bytes (`PAR1`).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from lossctl.errors import DataError

SNIFF_BYTES = 64 * 1024
PARQUET_MAGIC = b"PAR1"
READ_BYTES = 256 << 10  # of compressed data at a time

# Compressions by their first bytes, and the file name endings that promise them.
MAGIC = {"gzip": b"\x1f\x8b", "bzip2": b"BZh", "xz": b"\xfd7zXZ\x00", "zstd": b"\x28\xb5\x2f\xfd"}
ENDINGS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd", ".zstd": "zstd"}
# What lossctl cannot read: told by first bytes or by name, so the error says what it is.
UNREADABLE_MAGIC = {"zip": b"PK\x03\x04", "lz4": b"\x04\x22\x4d\x18", "compress (.Z)": b"\x1f\x9d",
                    "7z": b"7z\xbc\xaf\x27\x1c", "lzma": b"\x5d\x00\x00"}
UNREADABLE_ENDINGS = {".zip": "zip", ".lz4": "lz4", ".z": "compress (.Z)", ".7z": "7z", ".lzma": "lzma",
                      ".br": "brotli", ".tgz": "tar", ".tar": "tar", ".rar": "rar", ".snappy": "snappy"}
TAB_ENDINGS = (".tsv", ".tab")


@dataclass
class Source:
    """An opened input: a display name (`<stdin>` for `-`) and a binary stream of its (decompressed)
    bytes at their start. `delimiter`: tab for a .tsv or .tab name, else None (sniffed later)."""

    name: str
    stream: BinaryIO
    parquet: bool = False
    delimiter: str | None = None

    def close(self) -> None:
        if self.stream is not sys.stdin.buffer:
            self.stream.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(path: str) -> Source:
    """Open `path` (or stdin for `-`) for reading, decompressed, after checking that it is text or
    Parquet (the Source says which)."""
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
    try:
        stream = _buffered(raw)
        compression = _compression(name, path, _peek(stream, name))
        if compression:
            stream = io.BufferedReader(_Decompressed(stream, compression, name), buffer_size=1 << 20)
        head = _peek(stream, name)
    except BaseException:
        if raw is not sys.stdin.buffer:
            raw.close()
        raise
    inner = _strip_compression(path.lower()) if path != "-" else ""
    delimiter = "\t" if inner.endswith(TAB_ENDINGS) else None
    source = Source(name, stream, delimiter=delimiter)
    if not head.strip():
        source.close()
        raise DataError(f"{name}: is empty (no header, no rows)")
    if head.startswith(PARQUET_MAGIC):
        source.parquet = True
        return source
    if b"\x00" in head:
        source.close()
        raise DataError(f"{name}: is binary data, not a CSV file")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # not just a character cut at the block's end
            source.close()
            raise DataError(f"{name}: is not UTF-8 text (binary data?)") from None
    return source


def _buffered(raw: BinaryIO) -> BinaryIO:
    return raw if hasattr(raw, "peek") else io.BufferedReader(raw, buffer_size=1 << 20)


def _peek(stream: BinaryIO, name: str) -> bytes:
    try:
        return stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    except OSError as error:
        raise DataError(f"{name}: cannot read ({error.strerror or error})") from None


def _ending(path: str) -> str:
    return os.path.splitext(path.lower())[1]


def _strip_compression(path: str) -> str:
    """`path` without a compression ending ('a.tsv.gz' -> 'a.tsv')."""
    root, ending = os.path.splitext(path)
    return root if ending in ENDINGS else path


def _compression(name: str, path: str, head: bytes) -> str | None:
    """The compression of an input by its first bytes, checked against its name's ending."""
    found = next((kind for kind, magic in MAGIC.items() if head.startswith(magic)), None)
    promised = ENDINGS.get(_ending(path)) if path != "-" else None
    if promised and found != promised:
        raise DataError(f"{name}: is named {_ending(path)} but is not {promised} data")
    if found is None:
        unreadable = UNREADABLE_ENDINGS.get(_ending(path)) if path != "-" else None
        if head.startswith(PARQUET_MAGIC):
            return None
        unreadable = unreadable or next(
            (kind for kind, magic in UNREADABLE_MAGIC.items() if head.startswith(magic)), None
        )
        if unreadable:
            raise DataError(
                f"{name}: is {unreadable} compressed or archived, which lossctl cannot read "
                "(it reads gzip, bzip2, xz and zstd)"
            )
    return found


class _Decompressed(io.RawIOBase):
    """The decompressed bytes of a stream, a block at a time; an error names the file if the data
    is corrupt or ends early. Several compressed streams one after another (`cat a.gz b.gz`) read
    as one, as gzip does. zlib, bz2 and lzma release the GIL, so chunks are parsed on the other
    cores while the next block is decompressed."""

    def __init__(self, stream: BinaryIO, compression: str, name: str) -> None:
        self._stream, self._kind, self._name = stream, compression, name
        self._new, self._errors = _decompressor(compression)
        if compression == "zstd":  # pyarrow's codec, as a stream of its own
            import pyarrow as pa

            self._zstd = pa.CompressedInputStream(pa.PythonFile(stream, mode="r"), "zstd")
        else:
            self._worker = self._new()
        self._pending = memoryview(b"")  # decompressed bytes not yet handed out
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending and not self._done:
            try:
                self._pending = memoryview(self._inflate())
            except DataError:
                raise
            except (OSError, EOFError, ValueError, *self._errors) as error:
                raise DataError(f"{self._name}: is not valid {self._kind} data ({error})") from None
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def _inflate(self) -> bytes:
        if self._kind == "zstd":
            data = self._zstd.read(READ_BYTES)
            self._done = not data
            return data
        data = self._stream.read(READ_BYTES)
        worker = self._worker
        if data and worker.eof:  # the last stream ended at the end of the previous read
            if not data.strip(b"\x00"):
                return b""
            self._worker = worker = self._new()
        if not data:
            if not worker.eof:
                raise DataError(f"{self._name}: {self._kind} data ends early (a truncated file?)")
            self._done = True
            return b""
        out = [worker.decompress(data)]
        while worker.eof and worker.unused_data:  # another stream follows
            rest = worker.unused_data
            if not rest.strip(b"\x00"):
                break  # zero padding after the last stream, which gzip allows
            self._worker = worker = self._new()
            out.append(worker.decompress(rest))
        return b"".join(out)

    def close(self) -> None:
        if self._stream is not sys.stdin.buffer:
            self._stream.close()
        super().close()


def _decompressor(kind: str) -> tuple[Callable[[], Any], tuple[type[BaseException], ...]]:
    """A factory of decompressor objects for `kind` and the errors they raise on bad data."""
    if kind == "gzip":
        import zlib

        return (lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)), (zlib.error,)  # checks CRC, size
    if kind == "bzip2":
        import bz2

        return bz2.BZ2Decompressor, ()
    if kind == "xz":
        import lzma

        return lzma.LZMADecompressor, (lzma.LZMAError,)
    return (lambda: None), ()
