"""`compute --by`: per-group values equal each group's rows computed alone; the overall row is
today's output; blocks, threads and the order of rows do not change a group's value."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossctl.cli import main
from lossctl.compute import Computation
from lossctl.evaluate.groups import BlockIndex, GroupSums, block_index
from lossctl.evaluate.plan import Plan
from lossctl.io.source import Source
from lossctl.io.table import CsvTable
from lossctl.losses import get_loss
from lossctl.losses.reduction import Partial, row_partial

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"


def table(text: str) -> CsvTable:
    return CsvTable(Source("data.csv", io.BytesIO(text.encode())))


def csv_text(header: str, rows: list[list]) -> str:
    return header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out, err = capsys.readouterr()
    return done.value.code, out, err


# Losses of each kind of partial sums: plain means, Keras sample weights, a Keras mask
# (ignore_class), torch class weights with ignore_index, per-element torch values.
CASES = [
    ("mse", {}, "y_true,y_pred", None),
    ("mae", {}, "y_true,y_pred", "w"),
    ("keras.sparse_categorical_crossentropy", {"ignore_class": "1"}, "y_true,p0,p1,p2", None),
    ("torch.cross_entropy", {"ignore_index": "2", "weight": "0.5,2,1"}, "y_true,p0,p1,p2", None),
    ("torch.mse_loss", {}, "y_true,y_pred", None),
]


def data(rng: np.random.Generator, header: str, n: int, groups: int) -> list[list]:
    g = rng.integers(0, groups, n)
    w = rng.uniform(0.1, 2.0, n).round(3)
    if header.endswith("p2"):
        probs = rng.dirichlet(np.ones(3), n).round(4) + 0.001
        y = rng.integers(0, 3, n)
        return [[g[i], w[i], y[i], *probs[i]] for i in range(n)]
    y = rng.normal(size=n).round(4)
    return [[g[i], w[i], y[i], (y[i] + rng.normal()).round(4)] for i in range(n)]


@pytest.mark.parametrize(("name", "params", "header", "weights"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_each_group_equals_its_rows_alone(name, params, header, weights, reduction):
    rng = np.random.default_rng(7)
    rows = data(rng, header, 300, 5)
    full = "g,w," + header
    loss = get_loss(name)
    grouped = Computation(table(csv_text(full, rows)), [(loss, params)], reduction,
                          weights=weights, plan=Plan(("g",))).reduced()
    alone = {}
    for key in sorted({r[0] for r in rows}):
        part = [r for r in rows if r[0] == key]
        alone[(str(key),)] = Computation(table(csv_text(full, part)), [(loss, params)], reduction,
                                           weights=weights).reduced()[0]
    overall = Computation(table(csv_text(full, rows)), [(loss, params)], reduction,
                          weights=weights).reduced()[0]
    assert [r.group for r in grouped] == [*sorted(alone, key=lambda k: int(k[0])), None]
    for r in grouped[:-1]:
        assert r.rows == alone[r.group].rows
        assert r.value == pytest.approx(alone[r.group].value, rel=1e-12, abs=1e-300)
    assert (grouped[-1].value, grouped[-1].rows) == (overall.value, overall.rows)  # today's, exactly


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2), st.floats(-10, 10), st.floats(-10, 10)),
                min_size=1, max_size=40), st.integers(1, 7), st.randoms())
def test_two_columns_any_blocks_any_order(rows, block_rows, shuffle):
    """Groups of two columns: the same from blocks of any size as from the whole, in any row order."""
    text = csv_text("a,b,y_true,y_pred", [list(r) for r in rows])
    loss = get_loss("mse")
    whole = Computation(table(text), [(loss, {})], plan=Plan(("a", "b"))).reduced()
    shuffled = list(rows)
    shuffle.shuffle(shuffled)
    values = np.array(shuffled, dtype=np.float64)
    blocks = GroupSums([], Partial())
    for start in range(0, len(values), block_rows):
        part = values[start : start + block_rows]
        index = block_index([part[:, 0].astype(int).astype(str), part[:, 1].astype(int).astype(str)],
                            None, 1)
        lv = loss.value({"y_true": part[:, 2:3], "y_pred": part[:, 3:4]}, {})
        blocks = blocks + GroupSums.of_block(index, row_partial(loss, lv))
    estimates = Plan(("a", "b")).estimates(loss, "mean", blocks)
    assert [r.group for r in whole[:-1]] == sorted({(str(a), str(b)) for a, b, _, _ in rows})
    assert [r.group for r in whole] == [e.key for e in estimates]
    for x, y in zip(whole, estimates, strict=True):
        assert x.rows == y.rows
        assert x.value == pytest.approx(y.value, rel=1e-9, abs=1e-12)


def test_group_sums_add_by_key_in_any_grouping():
    """The partials are plain addable objects: (p + q) + r == p + (q + r) group by group."""
    def block(keys: list[float], values: list[float]) -> GroupSums:
        index = block_index([np.array(keys)], None, 1)
        return GroupSums.of_block(index, Partial(np.array(values), 1, 1))

    p, q, r = block([1, 2], [1.0, 2.0]), block([3, 1], [4.0, 8.0]), block([2, 3], [16.0, 32.0])
    for total in ((p + q) + r, p + (q + r), (r + p) + q):
        totals = dict(zip(total.keys, total.per_group().total.tolist(), strict=True))
        assert totals == {(1.0,): 9.0, (2.0,): 18.0, (3.0,): 36.0}


def test_many_groups(tmp_path, capsys):
    """1e5 distinct values still work, with one row per group and the overall row."""
    n = 100_000
    y = np.arange(n) % 7
    path = tmp_path / "many.csv"
    path.write_text("id,y_true,y_pred\n" + "".join(f"{i},{y[i]},{y[i] + 0.5}\n" for i in range(n)))
    code, out, err = run(capsys, "compute", "--loss", "mse", str(path), "--by", "id", "-f", "csv")
    lines = out.splitlines()
    assert (code, err, len(lines)) == (0, "", n + 2)
    assert lines[1] == "0,keras.mean_squared_error,mean,0.25,1"
    assert lines[-1] == ",keras.mean_squared_error,mean,0.25,100000"


def test_block_index_codes_rows_by_group():
    index: BlockIndex = block_index([np.array([3.0, 1.0, 3.0]), np.array([0.0, 0.0, 1.0])], None, 1)
    assert [index.keys[c] for c in index.slot] == [(3.0, 0.0), (1.0, 0.0), (3.0, 1.0)]


# -- the command line ------------------------------------------------------------------------------


SAMPLE = "region,y_true,y_pred\n1,1,1.5\n2,2,2.5\n1,3,2\n2,4,4.5\n3,5,6\n"


def test_csv_json_and_plain(tmp_path, capsys):
    path = tmp_path / "g.csv"
    path.write_text(SAMPLE)
    code, out, _ = run(capsys, "compute", "-l", "mse,mae", str(path), "--by", "region", "-f", "csv")
    assert code == 0
    assert out == (
        "region,loss,reduction,value,rows\n"
        "1,keras.mean_squared_error,mean,0.625,2\n1,keras.mean_absolute_error,mean,0.75,2\n"
        "2,keras.mean_squared_error,mean,0.25,2\n2,keras.mean_absolute_error,mean,0.5,2\n"
        "3,keras.mean_squared_error,mean,1.0,1\n3,keras.mean_absolute_error,mean,1.0,1\n"
        ",keras.mean_squared_error,mean,0.55,5\n,keras.mean_absolute_error,mean,0.7,5\n"
    )
    assert run(capsys, "compute", "-l", "mse,mae", str(path), "--by", "region", "-f", "plain")[1] == out
    code, out, _ = run(capsys, "compute", "-l", "mse", str(path), "--by", "region", "-f", "json")
    records = [{k: v for k, v in r.items() if k != "params"} for r in __import__("json").loads(out)]
    assert records[0] == {"region": "1", "loss": "keras.mean_squared_error", "reduction": "mean",
                          "value": 0.625, "rows": 2}
    assert (records[-1]["region"], records[-1]["value"]) == (None, 0.55)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "nowhere"], "--by: {path} has no column 'nowhere' (columns: region, y_true, y_pred)"),
        (["--by", ","], "--by names no column"),
        (["--ci", "1.5"], "--ci takes a confidence level between 0 and 1 (exclusive), got 1.5"),
        (["--ci", "0"], "--ci takes a confidence level between 0 and 1 (exclusive), got 0.0"),
        (["--ci", "0.9", "--bootstrap", "99"], "--bootstrap takes at least 100 replicates, got 99"),
        (["--ci", "0.9", "--seed", "-1"], "--seed takes a number from 0 up, got -1"),
        (["--by", "region", "-r", "none"],
         "--by and --ci reduce rows: they take a reduction other than none"),
        (["--by", "region", "--grad"], "--grad gives rows: it takes no --by or --ci"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, capsys, args, message):
    path = tmp_path / "g.csv"
    path.write_text(SAMPLE)
    code, out, err = run(capsys, "compute", "-l", "mse", str(path), *args)
    assert (code, out, err) == (2, "", f"lossctl: error: {message.format(path=path)}\n")


def test_a_batchwise_loss_says_why(tmp_path, capsys):
    path = tmp_path / "g.csv"
    path.write_text("g,y_true,y_pred\n1,1,0.8\n2,0,0.3\n")
    code, _, err = run(capsys, "compute", "-l", "keras.dice", str(path), "--by", "g")
    assert code == 2
    assert "keras.dice: it is not a mean of per-row terms (its value depends on the whole batch" in err


# -- evaluate --by ----------------------------------------------------------------------------------


def test_evaluate_by_equals_each_group_alone(tmp_path, capsys, train_drug_model):
    """`evaluate --by` per group equals `evaluate` of that group's rows; the overall rows are
    `evaluate`'s output."""
    model = train_drug_model(2)
    rows = (SAMPLES / "drug_trial_test.csv").read_text().splitlines()
    header, body = rows[0], rows[1:]
    band = ["young" if int(r.split(",")[0]) < 50 else "old" for r in body]
    path = tmp_path / "banded.csv"
    path.write_text(f"{header},band\n" + "".join(f"{r},{b}\n" for r, b in zip(body, band, strict=True)))
    code, out, err = run(capsys, "evaluate", model, str(path), "--by", "band", "--metrics", "accuracy,mae")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "band,metric,value,rows"
    got = {(c[0], c[1]): (float(c[2]), int(c[3])) for c in (line.split(",") for line in lines[1:])}
    whole = run(capsys, "evaluate", model, str(path), "--metrics", "accuracy,mae")[1].splitlines()[1:]
    for name, value in (line.split(",") for line in whole):
        assert got[("", name)] == (float(value), len(body))
    for group in ("old", "young"):
        part = tmp_path / f"{group}.csv"
        part.write_text(f"{header},band\n" + "".join(
            f"{r},{b}\n" for r, b in zip(body, band, strict=True) if b == group))
        alone = run(capsys, "evaluate", model, str(part), "--metrics", "accuracy,mae")[1].splitlines()[1:]
        for name, value in (line.split(",") for line in alone):
            # the network predicts in float32: a group's rows in a smaller batch may round differently
            # in the last float32 bits (BLAS blocks by batch size and CPU features)
            assert got[(group, name)][0] == pytest.approx(float(value), rel=1e-6)
            assert got[(group, name)][1] == band.count(group)
    assert list(got)[:3] == [("old", "keras.sparse_categorical_crossentropy"),
                             ("old", "accuracy"), ("old", "mae")]


def test_row_partials_add_up_to_the_blocks_partial():
    """Each kind of partial sums (a torch mean_scale as ctc_loss has, torch class weights with
    sample-less shares, Keras weights and masks): the rows' partials, added, are the block's."""
    from lossctl.losses.reduction import finish, partial
    from lossctl.losses.registry import LossValues

    rng = np.random.default_rng(0)
    values = rng.uniform(0, 2, (6, 3))
    cases = [
        (get_loss("torch.mse_loss"), LossValues(values[:, 2], mean_scale=rng.uniform(0.2, 1, 6)), None),
        (get_loss("torch.cross_entropy"), LossValues(values[:, 0], denom=rng.uniform(0, 1, 6)), None),
        (get_loss("mse"), LossValues(values[:, 0], denom=(values[:, 1] > 1).astype(float)),
         rng.uniform(0.5, 1.5, 6)),
    ]
    index = block_index([np.array(list("abcabc"), dtype=object)], None, 1)
    for loss, lv, weights in cases:
        whole = partial(loss, lv, weights)
        sums = GroupSums.of_block(index, row_partial(loss, lv, weights)).overall().per_group()
        for reduction in ("mean", "sum"):
            expected = finish(loss, whole, reduction)
            assert finish(loss, sums, reduction)[0] == pytest.approx(expected, rel=1e-12)


def test_by_a_column_a_loss_reads(tmp_path, capsys, reader):
    """--by y_true: the loss reads the column as numbers, the groups are its cells as written (on
    both reader paths; pyarrow's once read such a column's text buffer as numbers)."""
    path = tmp_path / "d.csv"
    path.write_text(csv_text("y_true,y_pred", [["1.50", 1], [" 2", 2], ["1.50", 3], ["2", 3]]))
    code, out, err = run(capsys, "compute", "--loss", "mse", str(path), "--by", "y_true", "-f", "csv")
    assert (code, err) == (0, "")
    assert out.splitlines()[1:] == [
        "1.50,keras.mean_squared_error,mean,1.25,2",
        "2,keras.mean_squared_error,mean,0.5,2",
        ",keras.mean_squared_error,mean,0.875,4",
    ]
