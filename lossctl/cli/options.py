"""Parsing the option values that several commands share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

import typer

from lossctl.errors import UsageError


def one_of(flag: str, valid: Sequence[str], noun: str = "") -> Callable[[str | None], str | None]:
    """A check of a flag's value against `valid` (None: not given), as a typer callback. The
    message names the flag, or with `noun` the kind of value ("unknown format 'xml' (valid: ...)")."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in valid:
            if noun:
                raise UsageError(f"unknown {noun} {value!r} (valid: {', '.join(valid)})")
            raise UsageError(f"{flag} takes one of {', '.join(valid)}, got {value!r}")
        return value

    return check


def format_option(valid: Sequence[str], default: str, note: str = "") -> typer.models.OptionInfo:
    """`--format`/`-f` of a command printing `valid` formats, checked when parsed; None when not
    given (the command picks `default`, said in the help)."""
    listed = f"{', '.join(valid[:-1])} or {valid[-1]}"
    return typer.Option("--format", "-f", help=f"{listed} ({note}default: {default}).",
                        callback=one_of("--format", valid, "format"))


# Options that several commands take, declared once and checked when parsed (the delimiter by
# the library: io.records).
NAN_POLICIES = ("error", "drop")
Nan = Annotated[str, typer.Option(
    "--nan", help="Empty cells: error (the default), or drop the row.", callback=one_of("--nan", NAN_POLICIES)
)]
Metrics = Annotated[str | None, typer.Option(
    "--metrics", help="Comma list: accuracy and/or any loss name (default: accuracy; regression: mae).",
)]
TableFormat = Annotated[str | None, format_option(
    ("plain", "csv", "json", "table"), "table on a terminal, else plain", "table: reduced values; ")]
CompareFormat = Annotated[str | None, format_option(
    ("csv", "json", "table"), "table on a terminal, else csv")]
PlotFormat = Annotated[str | None, format_option(("plot", "csv", "json"), "plot on a terminal, else csv")]
Delimiter = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        help="Field separator of CSV input: one character, or comma, tab, semicolon, pipe, space "
        "(default: tab for .tsv/.tab, else sniffed from the header line).",
    ),
]


def pairs(items: list[str], flag: str) -> dict[str, str]:
    """`key=value` items into a dict (a later key wins)."""
    parsed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} takes key=value, got {item!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def names(text: str | None) -> list[str]:
    """A comma-separated list, without blanks."""
    return [n.strip() for n in (text or "").split(",") if n.strip()]


# --by, --ci, --bootstrap and --seed: declared once, for compute and compare.
By = Annotated[str | None, typer.Option(
    "--by", help="Also the loss per group of these columns' values (comma list), groups sorted.")]
Ci = Annotated[float | None, typer.Option(
    "--ci", help="Confidence level of an interval, e.g. 0.95: ci_low, ci_high, ci_method (a bootstrap "
    "percentile interval: Poisson bootstrap of the rows, over 2048 buckets of rows on large files; "
    "DeLong's for ROC AUC).")]
CiMethod = Annotated[str, typer.Option(
    "--ci-method", help="auto (a metric's own interval where it has one: DeLong's for roc_auc_score; "
    "else the bootstrap), bootstrap or delong.")]
Bootstrap = Annotated[int, typer.Option(
    "--bootstrap", help="Bootstrap replicates (in compare also the test's permutations), at least 100.")]
Seed = Annotated[int, typer.Option(
    "--seed", help="Seed of the bootstrap and the test: the same seed, the same numbers.")]


def plan(by: str | None, ci: float | None, bootstrap: int, seed: int, ci_method: str = "auto"):
    """The `evaluate.plan.Plan` of these options, checked once."""
    from lossctl.evaluate.plan import Plan
    from lossctl.evaluate.tallies import CI_METHODS

    one_of("--ci-method", CI_METHODS)(ci_method)

    columns = names(by)
    if by is not None and not columns:
        raise UsageError("--by names no column")
    return Plan(tuple(dict.fromkeys(columns)), ci, bootstrap, seed, ci_method)
