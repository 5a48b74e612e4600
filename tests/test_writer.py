"""The one writer of per-row outputs (io/writer.py): every number reads back as the same float64,
Python's small-piece path and Arrow's vectorised path write the same bytes, and the layouts."""

from __future__ import annotations

import io
import json
import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossctl.io import writer
from lossctl.io.writer import Cells, Layout, csv_layout, format_rows, json_layout, number_text, write_rows

ANY_FLOAT = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
BITS = st.integers(0, 2**64 - 1).map(lambda b: struct.unpack("<d", struct.pack("<Q", b))[0])
FLOATS = st.one_of(ANY_FLOAT, BITS)  # BITS: any bit pattern (subnormals, huge and tiny exponents)


def same_float(a: float, b: float) -> bool:
    return struct.pack("<d", a) == struct.pack("<d", b) or (math.isnan(a) and math.isnan(b))


def arrow(columns, layout: Layout) -> bytes:
    return bytes(writer._arrow_rows(columns, layout))


def python(columns, layout: Layout) -> bytes:
    return writer._python_rows(columns, layout).encode()


@given(FLOATS)
@settings(max_examples=2000, deadline=None)
def test_every_number_reads_back_as_the_same_float64(x: float) -> None:
    assert same_float(float(number_text(x)), x)


@given(hnp.arrays(np.float64, st.integers(1, 40), elements=FLOATS))
@settings(max_examples=300, deadline=None)
def test_python_and_arrow_write_the_same_text(values: np.ndarray) -> None:
    for layout in (csv_layout(1), json_layout(["v"])):
        assert python([values], layout) == arrow([values], layout)


def test_python_and_arrow_agree_on_many_bit_patterns() -> None:
    rng = np.random.default_rng(7)
    values = rng.integers(0, 2**64, 50_000, dtype=np.uint64, endpoint=False).view(np.float64)
    values = np.concatenate([values, 10.0 ** np.arange(-320, 300, dtype=np.float64),
                             [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e16, 1e-5]])
    text = arrow([values], csv_layout(1))
    assert text == python([values], csv_layout(1))
    assert all(same_float(float(t), v) for t, v in zip(text.split(), values.tolist(), strict=True))


STYLE = [  # the style, spelled out (README: "Per-row output")
    (1.0, "1"), (-5.0, "-5"), (0.1, "0.1"), (0.75, "0.75"), (1 / 3, "0.3333333333333333"),
    (1e-6, "0.000001"), (1.5e-5, "0.000015"), (1e-7, "1e-7"), (1.25e-7, "1.25e-7"),
    (1e9, "1000000000"), (123456789.5, "123456789.5"), (1e10, "1e+10"), (1.5e16, "1.5e+16"),
    (1e22, "1e+22"), (5e-324, "5e-324"), (0.0, "0"), (-0.0, "-0"), (math.inf, "inf"),
    (-math.inf, "-inf"), (math.nan, "nan"), (0.1 + 0.2, "0.30000000000000004"),
]


@pytest.mark.parametrize(("value", "text"), STYLE)
def test_style(value: float, text: str) -> None:
    assert number_text(value) == text
    assert arrow([np.array([value])], csv_layout(1)) == (text + "\n").encode()


def test_float32_prints_as_the_float64_it_converts_to() -> None:
    values = np.array([0.1, 1e-45, 3.4e38], dtype=np.float32)
    expected = "".join(number_text(float(v)) + "\n" for v in values.astype(np.float64)).encode()
    assert python([values], csv_layout(1)) == arrow([values], csv_layout(1)) == expected
    assert b"0.10000000149011612" in expected


def columns_of_every_kind():
    values = np.array([0.5, -0.0, np.inf, np.nan, 1e-300])
    return [np.arange(2, 7), Cells(['"a,b"', "plain", ""], np.array([0, 1, 2, 1, 0])), values,
            values[::-1].copy()]


@pytest.mark.parametrize("path", [python, arrow])
def test_csv_rows(path) -> None:
    assert path(columns_of_every_kind(), csv_layout(4)) == (
        b'2,"a,b",0.5,1e-300\n3,plain,-0,nan\n4,,inf,inf\n5,plain,nan,-0\n6,"a,b",1e-300,0.5\n'
    )


@pytest.mark.parametrize("path", [python, arrow])
def test_json_rows_have_null_for_non_finite(path) -> None:
    values = np.array([0.5, np.inf, -np.inf, np.nan, -0.0])
    text = path([np.arange(5), values], json_layout(["line", "a b"]))
    records = [json.loads(line) for line in text.decode().splitlines()]
    assert records[0] == {"line": 0, "a b": 0.5}
    assert [r["a b"] for r in records[1:4]] == [None, None, None]
    assert text.splitlines()[4] == b'{"line": 4, "a b": -0}'


@pytest.mark.parametrize("small", [0, 1 << 30], ids=["arrow", "python"])
def test_write_rows_pieces_head_tail_and_separator(monkeypatch, small: int) -> None:
    """Blocks cut into pieces of 3 rows, on 2 threads: the text of one piece of everything."""
    monkeypatch.setattr(writer, "ROWS_PER_WRITE", 3)
    monkeypatch.setattr(writer, "SMALL_VALUES", small)
    rng = np.random.default_rng(1)
    blocks = [[rng.normal(size=n), rng.integers(0, 9, n)] for n in (7, 0, 1, 5)]
    whole = [np.concatenate([b[0] for b in blocks]), np.concatenate([b[1] for b in blocks])]
    layout = Layout(("[", ", "), end="]", sep=", ", json=True)
    out = io.BytesIO()
    write_rows(out, blocks, layout, head="[", tail="]\n", workers=2)
    assert out.getvalue() == b"[" + python(whole, layout)[2:] + b"]\n"
    assert json.loads(out.getvalue()) == [[a, b] for a, b in zip(*(c.tolist() for c in whole), strict=True)]
    empty = io.BytesIO()
    write_rows(empty, [], layout, head="[", tail="]\n")
    assert empty.getvalue() == b"[]\n"


def test_small_pieces_need_no_pyarrow() -> None:
    import subprocess
    import sys

    code = ("import sys, numpy as np; from lossctl.io.writer import format_rows, csv_layout; "
            "format_rows([np.arange(3.0)], csv_layout(1)); print('pyarrow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_arrow_path_does_not_import_pandas() -> None:
    """`pa.array` and `pa.scalar` would import pandas (0.2 s of start-up) to look for its types."""
    import subprocess
    import sys

    code = ("import sys, numpy as np; from lossctl.io.writer import _arrow_rows, Cells, json_layout; "
            "_arrow_rows([np.arange(3), Cells(['a', 'b'], np.array([0, 1, 0])), np.array([1.0, np.nan, 2])], "
            "json_layout(['l', 'c', 'v'])); print('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "False\n"


def test_format_rows_picks_arrow_for_large_pieces(monkeypatch) -> None:
    monkeypatch.setattr(writer, "_python_rows", None)  # would fail if called
    values = np.linspace(0, 1, writer.SMALL_VALUES)
    assert bytes(format_rows([values], csv_layout(1))).count(b"\n") == len(values)
