"""Writing an output file whole or not at all, without replacing what is not a regular file.

An output path is one of three things, decided when it is opened (before any work is done, so a
folder that takes no files is found out at once):

- a regular file, or a name not taken yet: written to a temporary file in the same folder and
  renamed over it when complete. A crash, Ctrl-C, SIGTERM or SIGHUP leaves the old file or the new
  one, never half of one. A symlink to a regular file is followed: the file it points to is
  replaced (keeping its permissions) and the link stays, as `sed -i --follow-symlinks` does;
- a standard stream (`/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`, or a symlink to
  one): written to that file descriptor, where it stands (a `>>` redirection keeps appending);
- anything else that is not a regular file (a character device such as `/dev/null`, a FIFO, a
  socket): written directly, never replaced.

A system error on the way (a full disk, a folder that takes no files) is raised as OutputError
naming the path.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, NoReturn, TextIO

from lossctl.errors import OutputError

_STREAM = re.compile(r"/dev/(?:std(in|out|err)|fd/(\d+))|/proc/(?:self|thread-self|(\d+))/fd/(\d+)")
_STREAM_FDS = {"in": 0, "out": 1, "err": 2}
_TEMPORARY: set[str] = set()  # the temporary files of the Outputs open now


def remove_temporary_files() -> None:
    """Remove every Output's temporary file, for an exit that cannot unwind (a signal the
    program did not end on in time)."""
    for tmp in list(_TEMPORARY):
        try:
            os.unlink(tmp)
        except OSError:
            pass


class Output:
    """An output opened for writing: `handle` takes the bytes, `commit()` puts them in place,
    `discard()` (or leaving a `with` block by an exception) drops them."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._tmp: str | None = None  # the temporary file, when replacing a regular file
        self._target = path
        fd = _stream_fd(path)
        try:
            if fd is not None:
                self.handle: BinaryIO = os.fdopen(os.dup(fd), "wb")
                return
            try:
                info: os.stat_result | None = os.stat(path)
            except FileNotFoundError:
                info = None
            if info is not None and stat.S_ISDIR(info.st_mode):
                raise OutputError(f"{path}: is a directory (give a file name)")
            if info is not None and not stat.S_ISREG(info.st_mode):
                self.handle = open(path, "wb")  # noqa: SIM115  (a device or a FIFO, written in place)
                return
            self._target = os.path.realpath(path)  # through symlinks, to the file to replace
            fd, self._tmp = _temporary(path, os.path.dirname(self._target))
            _TEMPORARY.add(self._tmp)
            self.handle = os.fdopen(fd, "wb")
            os.chmod(self._tmp, stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask())
        except OSError as error:
            self.discard()
            _reraise(path, error)

    def commit(self) -> None:
        """Flush the bytes to the disk and move them into place."""
        try:
            self.handle.flush()
            if self._tmp is not None:
                os.fsync(self.handle.fileno())
            self.handle.close()
            if self._tmp is not None:
                os.replace(self._tmp, self._target)
                _TEMPORARY.discard(self._tmp)
                self._tmp = None
        except OSError as error:
            self.discard()
            _reraise(self.path, error)

    def discard(self) -> None:
        """Close and remove the temporary file (a direct output keeps what it was given)."""
        handle = getattr(self, "handle", None)
        try:
            if handle is not None:
                handle.close()
        except OSError:
            pass
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            _TEMPORARY.discard(self._tmp)
            self._tmp = None

    def __enter__(self) -> Output:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None and not self.handle.closed:
            self.commit()
        else:
            self.discard()


def _stream_fd(path: str) -> int | None:
    """The file descriptor `path` names when it is a standard stream, directly or through
    symlinks (each link is read, so `out.csv -> /dev/stdout` is one too); else None."""
    for _ in range(40):  # the kernel's own limit on a chain of links
        match = _STREAM.fullmatch(os.path.normpath(os.path.abspath(path)))
        if match:
            stream, fd, pid, proc_fd = match.groups()
            if pid is not None and int(pid) != os.getpid():
                return None  # another process's descriptor: an ordinary path to open
            return _STREAM_FDS[stream] if stream else int(fd if fd is not None else proc_fd)
        if not os.path.islink(path):
            return None
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    return None


def _temporary(path: str, folder: str) -> tuple[int, str]:
    """A new temporary file in `folder`: the test that the folder takes files."""
    try:
        return tempfile.mkstemp(prefix=".lossctl-", suffix=".tmp", dir=folder)
    except OSError as error:
        if not os.path.isdir(folder):
            raise OutputError(f"{path}: cannot write: folder {folder} does not exist") from None
        raise OutputError(f"{path}: cannot write: cannot create a file in {folder} "
                          f"({error.strerror or error})") from None


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _reraise(path: str, error: OSError) -> NoReturn:
    """A closed pipe or FIFO stays a BrokenPipeError (the CLI ends quietly, as on stdout); any
    other system error becomes an OutputError naming the path."""
    if isinstance(error, BrokenPipeError):
        raise error
    raise OutputError(f"{path}: cannot write: {error.strerror or error}") from error


@contextmanager
def open_atomic(path: str | Output) -> Iterator[BinaryIO]:
    """A binary file for `path` (or an `Output` opened before), put in place at the end of the
    `with` block; if the block raises (Ctrl-C and signals included), nothing is put in place."""
    with path if isinstance(path, Output) else Output(path) as output:
        try:
            yield output.handle
        except OSError as error:
            _reraise(output.path, error)


@contextmanager
def open_text_atomic(path: str | Output) -> Iterator[TextIO]:
    """`open_atomic` for UTF-8 text, written as given (no newline translation)."""
    with open_atomic(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)
        try:
            yield text
            text.flush()
        finally:
            text.detach()  # `raw` stays open for the Output to commit or discard


def write_atomic(path: str | Output, write: Callable[[BinaryIO], None]) -> None:
    """Call `write` on a binary file for `path` (or an `Output`), then put it in place."""
    with open_atomic(path) as handle:
        write(handle)


def write_text_atomic(path: str | Output, text: str) -> None:
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))
