"""The command line: parse, call the library, render. It computes nothing itself.

`main()` is the console script. It turns every `LossctlError` into one line on stderr and the
error's exit code (a system error, such as a full disk under stdout, too: exit code 1), ends
quietly on a closed pipe, and exits 130 on Ctrl-C, 143 on SIGTERM and 129 on SIGHUP (each
unwinding the same way, so temporary files are removed). Started with stdout closed it stops at
once (exit 1); with stdin closed, only reading `-` fails.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lossctl.cli import compare_cmd, compute_cmd, plot_cmd, train_cmd  # noqa: F401  (attach the commands)
from lossctl.cli.app import app
from lossctl.errors import ExitCode, LossctlError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with a documented exit code."""
    import typer

    args = sys.argv[1:] if argv is None else argv
    _fill_closed_streams()
    if not isinstance(sys.stdout, _PipeGuard):
        sys.stdout = _PipeGuard(sys.stdout)
    signals = _Signals()
    try:
        with _no_runtime_warnings(), _metric_warnings_once():
            code = app(args=args, prog_name="lossctl", standalone_mode=False)
    except _Signalled as caught:
        _fail(caught.message, caught.code)
    except LossctlError as error:
        if "--traceback" in args:
            raise
        _fail(str(error), error.exit_code)
    except typer.Exit as done:  # typer turns Ctrl-C into Exit(130)
        if done.exit_code == ExitCode.INTERRUPTED:
            _fail("interrupted", ExitCode.INTERRUPTED)
        code = done.exit_code
    except typer.exceptions.TyperException as error:  # click's usage errors: bad flag, bad value
        if "--traceback" in args:
            raise
        hint = f" (see `{error.ctx.command_path} --help`)" if getattr(error, "ctx", None) else ""
        _fail(error.format_message() + hint, ExitCode.USAGE)
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", ExitCode.INTERRUPTED)
    except (BrokenPipeError, _PipeClosed):
        _quiet_broken_pipe()
    except _StdoutFailed as error:  # a full disk under `> file`; output files raise OutputError
        _fail(f"standard output: {error}", ExitCode.DATA)
    except OSError as error:  # a read failing half-way (a disk error): nothing more to say
        if "--traceback" in args:
            raise
        where = error.filename if error.filename is not None else "system error"
        _fail(f"{where}: {error.strerror or error}", ExitCode.DATA)
    finally:
        signals.restore()
    try:
        sys.stdout.flush()
    except (BrokenPipeError, _PipeClosed):
        _quiet_broken_pipe()
    except _StdoutFailed as error:
        _fail(f"standard output: {error}", ExitCode.DATA)
    if code == ExitCode.INTERRUPTED:  # click returns Ctrl-C's 130 instead of raising it
        _fail("interrupted", ExitCode.INTERRUPTED)
    sys.exit(code if isinstance(code, int) else ExitCode.OK)


class _PipeClosed(Exception):
    """stdout's reader went away. Not an OSError, which click would turn into exit 1."""


class _StdoutFailed(Exception):
    """Writing stdout failed otherwise (a full disk); the message is the system's."""


class _PipeGuard:
    """sys.stdout, with a closed pipe raised as _PipeClosed from any write or flush, and any
    other system error as _StdoutFailed. `buffer` is its binary side, guarded the same way (the
    per-row writer writes bytes), with the text written before it flushed first."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, data):
        return _guarded(self._stream.write, data)

    def flush(self) -> None:
        _guarded(self._stream.flush)

    @property
    def buffer(self) -> _PipeGuard:
        self.flush()
        return _PipeGuard(self._stream.buffer)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def _no_runtime_warnings() -> Iterator[None]:
    """No numpy RuntimeWarning reaches a user (lossctl checks the values it reports), unless
    RuntimeWarnings were made errors (`python -W error::RuntimeWarning`, the test suite)."""
    import warnings

    with warnings.catch_warnings():
        if not any(action == "error" and issubclass(RuntimeWarning, category)
                   for action, _, category, _, _ in warnings.filters):
            warnings.simplefilter("ignore", RuntimeWarning)
        yield


class _Signalled(BaseException):
    """SIGTERM or SIGHUP arrived: raised like KeyboardInterrupt, so that every `with` block
    unwinds (an output's temporary file is removed) before the exit."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.code = ExitCode.TERMINATED if signum == signal.SIGTERM else ExitCode.HANGUP
        self.message = f"terminated ({signal.Signals(signum).name})"


_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 3.0  # to unwind after SIGTERM or SIGHUP, before lossctl exits regardless


class _Signals:
    """SIGTERM and SIGHUP handled in the main thread: the first raises _Signalled; if that does
    not end the process within GRACE_SECONDS (a library may swallow an exception raised in the
    middle of its code), or a second signal comes, lossctl removes its temporary files and exits
    at once with the same code and message."""

    def __init__(self) -> None:
        import threading

        self.previous: dict[int, Any] = {}
        self.timer: threading.Timer | None = None
        if threading.current_thread() is threading.main_thread():
            self.previous = {signum: signal.signal(signum, self._unwind) for signum in _SIGNALS}

    def _unwind(self, signum: int, frame: object) -> None:
        import threading

        if self.timer is not None:  # a second signal: no more waiting
            _exit_now(signum)
        self.timer = threading.Timer(GRACE_SECONDS, _exit_now, (signum,))
        self.timer.daemon = True
        self.timer.start()
        raise _Signalled(signum)

    def restore(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _exit_now(signum: int) -> None:
    from lossctl.io.atomic import remove_temporary_files

    remove_temporary_files()
    caught = _Signalled(signum)
    try:
        os.write(2, f"lossctl: error: {caught.message}\n".encode())
    except OSError:
        pass
    os._exit(caught.code)


class _ClosedInput(io.RawIOBase):
    """stdin when the process was started with it closed (`<&-`): reading it is an error."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        raise OSError(errno.EBADF, "standard input is closed")


def _fill_closed_streams() -> None:
    """A standard stream the process was started without gets /dev/null under its descriptor,
    so that no file opened later takes that number; stdin then reads as an error, and a
    closed stdout stops the command at once (exit 1)."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            closed.append(fd)
    if 2 in closed:
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    if 0 in closed:
        sys.stdin = io.TextIOWrapper(io.BufferedReader(_ClosedInput()))
    if 1 in closed:
        _fail("standard output is closed", ExitCode.DATA)


def _guarded(call, *args):
    try:
        return call(*args)
    except BrokenPipeError:
        raise _PipeClosed from None
    except OSError as error:
        raise _StdoutFailed(error.strerror or str(error)) from None


@contextlib.contextmanager
def _metric_warnings_once():
    """A metric's warning (scikit-learn's zero_division) as one line of stderr, each text once."""
    import warnings

    from lossctl.errors import MetricWarning

    said: set[str] = set()
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, MetricWarning):
            return shown(message, category, filename, lineno, file, line)
        text = " ".join(str(message).split())
        if text not in said:
            said.add(text)
            print(f"lossctl: warning: {text}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always", MetricWarning)
        warnings.showwarning = show
        yield


def _fail(message: str, code: int) -> None:
    try:
        print(f"lossctl: error: {message}", file=sys.stderr)
    except OSError:  # stderr itself is gone (a hung-up terminal): the exit code says it
        pass
    sys.exit(code)


def _quiet_broken_pipe() -> None:
    """The reader went away (`| head -n 1`): stop quietly, as `cat` does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (in-process tests)
        pass
    sys.exit(ExitCode.OK)
