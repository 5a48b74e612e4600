"""The command line: parse, call the library, render. It computes nothing itself.

`main()` is the console script. It turns every `LossctlError` into one line on stderr and the
error's exit code (a system error, such as a full disk under stdout, too: exit code 1), ends
quietly on a closed pipe, and exits 130 on Ctrl-C.
"""

from __future__ import annotations

import os
import sys

from lossctl.cli import compare_cmd, compute_cmd, plot_cmd, train_cmd  # noqa: F401  (attach the commands)
from lossctl.cli.app import app
from lossctl.errors import ExitCode, LossctlError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with a documented exit code."""
    import typer

    args = sys.argv[1:] if argv is None else argv
    if not isinstance(sys.stdout, _PipeGuard):
        sys.stdout = _PipeGuard(sys.stdout)
    try:
        code = app(args=args, prog_name="lossctl", standalone_mode=False)
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
    try:
        sys.stdout.flush()
    except (BrokenPipeError, _PipeClosed):
        _quiet_broken_pipe()
    except _StdoutFailed as error:
        _fail(f"standard output: {error}", ExitCode.DATA)
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


def _guarded(call, *args):
    try:
        return call(*args)
    except BrokenPipeError:
        raise _PipeClosed from None
    except OSError as error:
        raise _StdoutFailed(error.strerror or str(error)) from None


def _fail(message: str, code: int) -> None:
    print(f"lossctl: error: {message}", file=sys.stderr)
    sys.exit(code)


def _quiet_broken_pipe() -> None:
    """The reader went away (`| head -n 1`): stop quietly, as `cat` does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (in-process tests)
        pass
    sys.exit(ExitCode.OK)
