"""Parsing the option values that several commands share."""

from __future__ import annotations

from typing import Annotated

import typer

from lossctl.errors import UsageError

# Options that several commands take, declared once (validated by the library: io.records).
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


def loss_params(chosen: list, given: dict[str, str]) -> list[dict[str, str]]:
    """`-p` texts split among the losses asked for: each loss gets the keys it has. A key that
    no loss has is a usage error."""
    for key in given:
        if not any(key in {p.name for p in lo.params} for lo in chosen):
            valid = sorted({p.name for lo in chosen for p in lo.params})
            raise UsageError(
                f"unknown parameter {key!r} for {', '.join(lo.qualified_name for lo in chosen)} "
                f"(valid: {', '.join(valid) or 'none'})"
            )
    return [{k: v for k, v in given.items() if k in {p.name for p in lo.params}} for lo in chosen]


# --by, --ci, --bootstrap and --seed: declared once, for compute and compare.
By = Annotated[str | None, typer.Option(
    "--by", help="Also the loss per group of these columns' values (comma list), groups sorted.")]
Ci = Annotated[float | None, typer.Option(
    "--ci", help="Confidence level of a bootstrap percentile interval, e.g. 0.95: ci_low, ci_high "
    "(Poisson bootstrap of the rows, over 2048 buckets of rows on large files).")]
Bootstrap = Annotated[int, typer.Option(
    "--bootstrap", help="Bootstrap replicates (in compare also the test's permutations), at least 100.")]
Seed = Annotated[int, typer.Option(
    "--seed", help="Seed of the bootstrap and the test: the same seed, the same numbers.")]


def plan(by: str | None, ci: float | None, bootstrap: int, seed: int):
    """The `evaluate.plan.Plan` of these options, checked once."""
    from lossctl.evaluate.plan import Plan

    columns = names(by)
    if by is not None and not columns:
        raise UsageError("--by names no column")
    return Plan(tuple(dict.fromkeys(columns)), ci, bootstrap, seed)
