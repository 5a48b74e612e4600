"""Describing the registry to people: `lossctl list` and `lossctl explain`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import TextIO

import numpy as np

from lossctl.errors import UsageError
from lossctl.losses import REGISTRY, Loss
from lossctl.losses.evaluate import evaluate
from lossctl.render import number, value_text


def losses_of(family: str | None = None) -> list[Loss]:
    names = list(REGISTRY.families)
    if family is not None and family not in names:
        raise UsageError(f"--family takes {', '.join(names[:-1])} or {names[-1]}, got {family!r}")
    return [loss for loss in REGISTRY if family in (None, loss.family.name)]


def _inputs(loss: Loss) -> str:
    return ", ".join(f"{i.role}?" if i.optional else i.role for i in loss.inputs)


def _params(loss: Loss) -> str:
    return ", ".join(f"{p.name}={_show(p.default)}" for p in loss.params)


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


LIST_COLUMNS = ("name", "aliases", "family", "inputs", "params")


def _cells(loss: Loss) -> list[str]:
    return [loss.qualified_name, ",".join(loss.aliases), loss.family.name, _inputs(loss), _params(loss)]


def list_text(losses: Sequence[Loss]) -> str:
    """Tab-separated: name, aliases, family, inputs, params (a header line first)."""
    lines = ["\t".join(LIST_COLUMNS)] + ["\t".join(_cells(loss)) for loss in losses]
    return "\n".join(lines) + "\n"


def list_csv(losses: Sequence[Loss]) -> str:
    """The cells of `list_text` as CSV (quoted where a cell holds a comma)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LIST_COLUMNS)
    writer.writerows(_cells(loss) for loss in losses)
    return buffer.getvalue()


def list_json(losses: Sequence[Loss]) -> str:
    """One JSON array: per loss its name, aliases, family, inputs (role, optional) and parameters
    with their defaults (a tuple as a list, none as null)."""
    records = [
        {
            "name": loss.qualified_name,
            "aliases": list(loss.aliases),
            "family": loss.family.name,
            "inputs": [{"role": i.role, "optional": i.optional} for i in loss.inputs],
            "params": {p.name: list(p.default) if isinstance(p.default, tuple) else p.default
                       for p in loss.params},
        }
        for loss in losses
    ]
    return json.dumps(records) + "\n"


def list_table(losses: Sequence[Loss], out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold", show_lines=False)
    for column in ("name", "aliases", "inputs", "params"):
        table.add_column(column, overflow="fold")
    for loss in losses:
        table.add_row(loss.qualified_name, ", ".join(loss.aliases), _inputs(loss), _params(loss))
    table.caption = f"{len(losses)} losses; `lossctl explain NAME` for one in detail"
    Console(file=out).print(table)


def explain_text(loss: Loss, picture: str = "") -> str:
    """Formula (with `picture`, the loss's valley, under it), inputs, parameters, conventions and
    a worked example, as plain text."""
    lines = [f"{loss.qualified_name} — {loss.summary}"]
    if loss.aliases:
        lines.append(f"  also: {', '.join(loss.aliases)}")
    if loss.metric is not None:
        lines += ["", "Formula (the function's value; w = sample weights, i rows, j output columns):"]
    else:
        lines += ["", "Formula (per sample or element, before reduction):"]
    lines += [f"  {line}".rstrip() for line in loss.formula.strip().splitlines()]
    if loss.reference:
        lines += ["", "Reference:", f"  {loss.reference}"]
    if picture:
        lines += ["", *picture.rstrip("\n").splitlines()]
    lines += ["", "Inputs:"]
    for spec in loss.inputs:
        width = {"any": "one or more columns", "one": "one column", "like_pred": "as many columns as y_pred"}
        note = f" — {spec.help}" if spec.help else ""
        optional = ", optional" if spec.optional else ""
        lines.append(f"  {spec.role}: {width[spec.width]}{optional}{note}")
    if loss.params:
        lines += ["", "Parameters (-p key=value):"]
        lines += [f"  {p.name} = {_show(p.default)}  {p.help}" for p in loss.params]
    lines += ["", f"Reductions: {', '.join(loss.reductions)} (default {loss.family.default_reduction})"]
    lines.append(f"Convention: {loss.family.convention}.")
    if loss.tally is not None:
        lines.append("Computed from tallies that add block by block (a confusion matrix, the weight of "
                     "each class at each distinct score): it streams, and takes --by, --ci, compare and "
                     "--engine dask.")
    if loss.batchwise and loss.metric is None:
        lines.append("This loss is computed on every row at once: `none` gives one value per row, or "
                     "one for the whole batch where the loss has one (dice, tversky with axis=none).")
    if loss.example:
        lines += ["", "Example:"]
        for role, rows in loss.example.items():
            lines.append(f"  {role} = {rows}")
        params = dict(loss.example_params.items())
        if params:
            lines.append(f"  params: {params}")
        whole = loss.batchwise or loss.tally is not None
        shown = (loss.family.default_reduction,) if whole else ("mean", "sum")
        for reduction in shown:
            value = evaluate(loss, loss.example, loss.resolve_params({}) | params, reduction)
            lines.append(f"  {reduction:<5} -> {value_text(value)}")
        if "none" in loss.reductions:
            per_row = np.atleast_1d(evaluate(loss, loss.example, loss.resolve_params({}) | params, "none"))
            shown = ", ".join(number(v) for v in np.ravel(per_row))
            lines.append(f"  none  -> {shown}")
    return "\n".join(lines) + "\n"
