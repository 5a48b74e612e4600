"""Errors the library raises and the exit codes the CLI maps them to.

Library code never prints and never exits: it raises a `LossctlError` subclass. The CLI prints
`lossctl: error: <message>` on one line of stderr and exits with the error's `exit_code`.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (see README, "Exit codes")."""

    OK = 0
    DATA = 1  # the input data is missing, unreadable or out of the loss's domain
    USAGE = 2  # the command line asks for something that does not exist or does not fit
    HANGUP = 129  # SIGHUP (128 + 1): the terminal went away
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (128 + 15): `timeout`, `docker stop`, a cancelled CI job


class LossctlError(Exception):
    """Base class of every error lossctl reports to a user."""

    exit_code: ExitCode = ExitCode.DATA


class UsageError(LossctlError):
    """Unknown loss, reduction, parameter or column; a flag value that does not fit."""

    exit_code = ExitCode.USAGE


class UnknownNameError(UsageError, KeyError):
    """A name (loss, reduction, parameter, ...) that is not known; suggests the nearest ones."""

    def __init__(self, kind: str, name: str, candidates: list[str], hint: str = "") -> None:
        self.kind, self.name, self.candidates = kind, name, candidates
        message = f"unknown {kind} {name!r}"
        if candidates:
            message += f"; did you mean {', '.join(candidates)}?"
        if hint:
            message += f" ({hint})"
        super().__init__(message)

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DataError(LossctlError):
    """The data cannot be used: a missing or malformed file, a value outside a loss's domain."""

    exit_code = ExitCode.DATA


class OutputError(DataError):
    """An output file could not be written: no room left, no permission, not a place for files."""


class InputValueError(DataError):
    """A value in an input array is outside what a loss accepts.

    Raised by loss functions, which know only array positions: `row` is the 0-based row of the
    array handed to the loss, `role` the input role (y_true, y_pred, ...) and `column` the 0-based
    column within that role. The reader turns these into a file name, line and CSV column name.
    """

    def __init__(
        self, message: str, *, row: int | None = None, role: str | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message, self.row, self.role, self.column = message, row, role, column


class TrainingDiverged(DataError):
    """The training loss became NaN or infinite."""


class MetricWarning(UserWarning):
    """A metric's value is defined by convention where it is undefined (scikit-learn's
    UndefinedMetricWarning: a precision with no predicted positives is 0). The library warns; the
    CLI prints each distinct warning once, as one line of stderr."""
