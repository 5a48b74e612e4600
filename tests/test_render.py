"""Rendering per-row values (reduction none) and gradients through the one writer: each number as
`io.writer.number_text` prints it, in every format."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from lossctl import render
from lossctl.io.writer import number_text
from lossctl.losses import get_loss

VALUES = np.array([0.1, -2.5e-300, 1e22, np.inf, -np.inf, np.nan, 3.0, 1 / 3])


def blocks():
    """Two blocks of rows: an mse column and a two-column torch loss with reduction none."""
    lines = np.arange(2, 2 + len(VALUES))
    pairs = np.column_stack([VALUES[::-1], VALUES])
    for part in (slice(0, 3), slice(3, None)):
        yield lines[part], [VALUES[part, None], pairs[part]]


LOSSES = [get_loss("mse"), get_loss("torch.l1_loss")]


def written(fmt: str) -> str:
    out = io.BytesIO()
    render.rows(blocks(), LOSSES, fmt, out)
    return out.getvalue().decode()


def expected_rows() -> list[list[str]]:
    return [[number_text(a), number_text(b), number_text(c)]
            for a, b, c in zip(VALUES, VALUES[::-1], VALUES, strict=True)]


@pytest.mark.parametrize("fmt", ["plain", "table"])
def test_plain_rows_are_numbers_as_the_writer_prints_them(fmt: str) -> None:
    assert written(fmt) == "".join(",".join(row) + "\n" for row in expected_rows())


def test_csv_rows_carry_their_file_line() -> None:
    header = "line,keras.mean_squared_error,torch.l1_loss_0,torch.l1_loss_1\n"
    body = "".join(f"{k + 2}," + ",".join(row) + "\n" for k, row in enumerate(expected_rows()))
    assert written("csv") == header + body


def test_json_rows_are_json_with_null_for_non_finite() -> None:
    records = [json.loads(line) for line in written("json").splitlines()]
    assert [r["line"] for r in records] == list(range(2, 2 + len(VALUES)))
    for record, value in zip(records, VALUES, strict=True):
        got = record["keras.mean_squared_error"]
        assert got is None if not np.isfinite(value) else got == value


@pytest.mark.parametrize("fmt", ["plain", "csv"])
def test_gradient_rows_are_numbers_as_the_writer_prints_them(fmt: str) -> None:
    grad = np.column_stack([VALUES, -VALUES, np.full(len(VALUES), -0.0)])
    out = io.BytesIO()
    render.gradient(grad, ["a", "b", "c"], fmt, out)
    expected = "".join(",".join(number_text(v) for v in row) + "\n" for row in grad)
    assert out.getvalue().decode() == ("grad_a,grad_b,grad_c\n" if fmt == "csv" else "") + expected


def test_gradient_json_is_one_array_of_rows() -> None:
    grad = np.array([[0.5, -1.0], [np.nan, 2.0]])
    out = io.BytesIO()
    render.gradient(grad, ["a", "b"], "json", out)
    assert out.getvalue() == b"[[0.5, -1], [null, 2]]\n"
    assert json.loads(out.getvalue()) == [[0.5, -1.0], [None, 2.0]]


def test_no_rows_print_nothing() -> None:
    out = io.BytesIO()
    render.rows(iter([]), LOSSES, "csv", out)
    assert out.getvalue() == b""
