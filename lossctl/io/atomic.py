"""Writing a file whole or not at all: into a temporary file beside it, then renamed over it.

A crash or Ctrl-C leaves either the old file or the new one, never half of one. A system error
on the way (a full disk, a folder that takes no files) is raised as OutputError naming `path`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, TextIO

from lossctl.errors import OutputError


@contextmanager
def open_atomic(path: str) -> Iterator[BinaryIO]:
    """A temporary binary file in `path`'s folder, written in the `with` block, then moved to
    `path`; if the block raises (Ctrl-C included), the temporary file is removed instead."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".lossctl-", suffix=".tmp", dir=directory)
    except OSError as error:
        raise _cannot_write(path, error) from error
    try:
        with os.fdopen(fd, "wb") as handle:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a saved file gets the usual mode
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise _cannot_write(path, error) from error
        raise


def _cannot_write(path: str, error: OSError) -> OutputError:
    return OutputError(f"{path}: cannot write: {error.strerror or error}")


@contextmanager
def open_text_atomic(path: str) -> Iterator[TextIO]:
    """`open_atomic` for UTF-8 text, written as given (no newline translation)."""
    import io

    with open_atomic(path) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="", write_through=True)
        try:
            yield text
            text.flush()
        finally:
            text.detach()  # `raw` stays open for open_atomic to sync, rename or remove


def write_atomic(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Call `write` on a temporary binary file in `path`'s folder, then move it to `path`."""
    with open_atomic(path) as handle:
        write(handle)


def write_text_atomic(path: str, text: str) -> None:
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))
