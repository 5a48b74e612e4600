"""Throughput and memory of `lossctl compute` on large files against DuckDB, polars and pandas.

Targets: lossctl's wall time at most the reference's (DuckDB's SQL when DuckDB is installed, else
the pandas script), peak RSS under 200 MiB, time linear in rows and memory flat.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

from harness import Contender, Outcome, run_interleaved
from inputs import Config, NoRoom, data_file, expected_value, gzipped, script
from report import Table, mib, ratio, rounds, seconds, spread, verdict

RSS_LIMIT_MIB = 200
BLOCK_ROWS = 1_000_000  # lossctl reads large files in blocks of this many rows
HEADERS = [
    "rows",
    "contender",
    "wall median",
    "min – max",
    "M rows/s",
    "peak RSS",
    "vs reference",
    "value",
    "target",
    "status",
]


def run(config: Config) -> list[Table]:
    tables = _csv_mse(config)
    tables.append(_gzip_mse(config))
    tables.append(_scce(config))
    tables.append(_parquet(config))
    return tables


def _peers(config: Config, loss: str, path: Path) -> list[Contender]:
    """DuckDB's SQL and polars on the same file, where they are installed (DuckDB first: the
    reference of the issue's targets)."""
    return [
        Contender(label, [config.python, script("peers.py"), tool, loss, str(path)], parse=_value)
        for tool, label in (("duckdb", "DuckDB SQL"), ("polars", "polars"))
        if importlib.util.find_spec(tool) is not None
    ]


def _reference_note(contenders: list[Contender], fallback: str) -> str:
    first = contenders[0].label
    return f"Reference: {first}" + ("" if first.startswith("DuckDB") else f" ({fallback}: no DuckDB)")


def rows_label(rows: int) -> str:
    """1000000 -> 1e6, 200000 -> 2e5; other counts with thousands separators."""
    exponent = int(math.log10(rows)) if rows > 0 else 0
    mantissa = rows / 10**exponent
    return f"{mantissa:g}e{exponent}" if mantissa == int(mantissa) else f"{rows:,}"


def _value(stdout: str) -> dict[str, float]:
    return {"value": float(stdout.strip().splitlines()[-1])}


def _lossctl(config: Config, loss: str, path: Path, one_thread: bool = False) -> list[Contender]:
    """lossctl on all cores, and (`one_thread`) with LOSSCTL_THREADS=1 to show what the cores add."""
    argv = [*config.lossctl, "compute", "--loss", loss, str(path)]
    single = [Contender("lossctl, LOSSCTL_THREADS=1", argv, {"LOSSCTL_THREADS": "1"}, parse=_value)]
    return [Contender("lossctl", argv, parse=_value), *(single if one_thread else [])]


def _csv_mse(config: Config) -> list[Table]:
    table = Table("Throughput: `lossctl compute --loss mse` on y_true,y_pred CSVs", HEADERS)
    table.notes.append(
        "Reference: DuckDB's `select avg((y_pred - y_true) ^ 2) from read_csv(FILE)` when DuckDB is "
        f"installed, else `pandas.read_csv` + numpy; target for lossctl rows: ≤ 1x the reference "
        f"and peak RSS < {RSS_LIMIT_MIB} MiB. {rounds(config.repeats).capitalize()}."
    )
    by_size: dict[int, list[Outcome]] = {}
    for rows in config.sizes:
        try:
            path = data_file(config, "mse", rows)
        except NoRoom as error:
            table.notes.append(f"{rows_label(rows)} rows skipped: {error}.")
            continue
        contenders = [
            *_peers(config, "mse", path),
            Contender("pandas read_csv", [config.python, script("mse_pandas.py"), str(path)], parse=_value),
            Contender(
                "pandas read_csv(chunksize=1e6)",
                [config.python, script("mse_pandas.py"), str(path), "--chunksize", "1000000"],
                parse=_value,
            ),
            *_lossctl(config, "mse", path, one_thread=True),
        ]
        print(f"throughput: mse, {rows_label(rows)} rows", file=sys.stderr, flush=True)
        outcomes = run_interleaved(contenders, config.repeats)
        table.rows += _rows(rows, outcomes, expected_value(path))
        by_size[rows] = outcomes
    return [table, _scaling(by_size)]


def _rows(rows: int, outcomes: list[Outcome], expected: float) -> list[list[str]]:
    """Table rows for one input; the first outcome is the reference."""
    base = outcomes[0].stats()
    out = []
    for index, outcome in enumerate(outcomes):
        label = outcome.contender.label
        if not outcome.ok:
            out.append([rows_label(rows), label, f"failed: {outcome.error}", *[""] * 7])
            continue
        wall, rss = outcome.stats(), outcome.stats("rss_mib")
        share = wall.median / base.median if base else None
        value_ok, value_text = _check(outcome, expected)
        if label.startswith("lossctl"):
            target = f"≤ 1x, < {RSS_LIMIT_MIB} MiB"
            status = _status(share, rss.high, value_ok)
        else:
            target, status = ("reference" if index == 0 else ""), ""
        out.append(
            [
                rows_label(rows),
                label,
                seconds(wall.median),
                spread(wall),
                f"{rows / wall.median / 1e6:.1f}",
                mib(rss.high),
                ratio(share),
                value_text,
                target,
                status,
            ]
        )
    return out


def _check(outcome: Outcome, expected: float) -> tuple[bool, str]:
    value = outcome.samples[0].values.get("value")
    if value is None:
        return False, "missing"
    error = abs(value - expected) / max(abs(expected), 1e-300)
    if error <= 1e-12:
        return True, "exact"
    return error <= 1e-9, f"rel. err {error:.0e}"


def _status(share: float | None, peak: float, value_ok: bool) -> str:
    reasons = [
        why
        for why, bad in (
            ("slower", share is None or share > 1),
            ("RSS", peak >= RSS_LIMIT_MIB),
            ("value", not value_ok),
        )
        if bad
    ]
    return verdict(not reasons) + (f" ({', '.join(reasons)})" if reasons else "")


def _scaling(by_size: dict[int, list[Outcome]]) -> Table:
    """Per-row time and peak RSS of each lossctl variant across sizes: linear time, flat memory."""
    sizes = sorted(by_size)
    table = Table(
        "Scaling of `lossctl compute --loss mse` with rows",
        [
            "contender",
            *(f"ns/row @ {rows_label(n)}" for n in sizes),
            *(f"RSS @ {rows_label(n)}" for n in sizes),
            "linear",
            "flat memory",
        ],
    )
    table.notes.append(
        "Wall time includes start-up, so small files cost more per row. Judged on the sizes of at least "
        f"one read block ({rows_label(BLOCK_ROWS)} rows): linear if ns/row at the largest is ≤ 1.2x that at "
        "the smallest, flat if peak RSS varies by < 50 MiB."
    )
    judged = [i for i, n in enumerate(sizes) if n >= BLOCK_ROWS]
    if len(sizes) < 2:
        table.notes.append("Needs at least two sizes.")
        return table
    labels = [o.contender.label for o in by_size[sizes[0]] if o.contender.label.startswith("lossctl")]
    for label in labels:
        found = [next(o for o in by_size[n] if o.contender.label == label) for n in sizes]
        if not all(o.ok for o in found):
            table.rows.append([label, *["—"] * (2 * len(sizes)), "—", "—"])
            continue
        per_row = [o.stats().median / n * 1e9 for o, n in zip(found, sizes, strict=True)]
        peaks = [o.stats("rss_mib").high for o in found]
        table.rows.append(
            [
                label,
                *(f"{x:.0f}" for x in per_row),
                *(mib(p) for p in peaks),
                *_scales(per_row, peaks, judged),
            ]
        )
    return table


def _scales(per_row: list[float], peaks: list[float], judged: list[int]) -> tuple[str, str]:
    """(linear, flat memory) verdicts over the judged sizes; — when fewer than two."""
    if len(judged) < 2:
        return "—", "—"
    times, memory = [per_row[i] for i in judged], [peaks[i] for i in judged]
    return verdict(times[-1] <= 1.2 * times[0]), verdict(max(memory) - min(memory) < 50)


def _scce(config: Config) -> Table:
    rows = config.scce_rows
    table = Table(
        "Throughput: `lossctl compute --loss sparse_categorical_crossentropy`, label + 10 "
        "probability columns",
        HEADERS,
    )
    table.notes.append(
        "Reference: DuckDB's SQL when installed, else `pandas.read_csv` + numpy, computing Keras's "
        "formula (normalise, clip to [1e-7, 1 - 1e-7], -log of the true class)."
    )
    try:
        path = data_file(config, "scce", rows)
    except NoRoom as error:
        table.notes.append(f"skipped: {error}.")
        return table
    contenders = [
        *_peers(config, "scce", path),
        Contender("pandas script", [config.python, script("scce_pandas.py"), str(path)], parse=_value),
        *_lossctl(config, "sparse_categorical_crossentropy", path),
    ]
    print(f"throughput: scce, {rows_label(rows)} rows", file=sys.stderr, flush=True)
    table.rows += _rows(rows, run_interleaved(contenders, config.repeats), expected_value(path))
    return table


def _gzip_mse(config: Config) -> Table:
    """The same MSE on the largest CSV gzipped (at most 1e7 rows): decompressed as it is read."""
    table = Table("Throughput: `lossctl compute --loss mse` on a gzipped CSV", HEADERS)
    rows = max([n for n in config.sizes if n <= 10_000_000], default=None)
    if rows is None:
        table.notes.append("skipped: no size up to 1e7 rows.")
        return table
    try:
        path = gzipped(config, data_file(config, "mse", rows))
    except NoRoom as error:
        table.notes.append(f"skipped: {error}.")
        return table
    contenders = [
        *_peers(config, "mse", path),
        Contender("pandas read_csv", [config.python, script("mse_pandas.py"), str(path)], parse=_value),
        *_lossctl(config, "mse", path),
    ]
    note = _reference_note(contenders, "pandas")
    table.notes.append(f"{note}; gzip level 6; same targets as the CSV rows.")
    print(f"throughput: mse .csv.gz, {rows_label(rows)} rows", file=sys.stderr, flush=True)
    table.rows += _rows(rows, run_interleaved(contenders, config.repeats), expected_value(path))
    return table


def _parquet(config: Config) -> Table:
    table = Table("Throughput: `lossctl compute --loss mse file.parquet`", HEADERS)
    table.notes.append("Reference: `pandas.read_parquet` + numpy; same targets as the CSV rows.")
    for rows in [n for n in config.sizes if n <= config.parquet_max_rows]:
        try:
            path = data_file(config, "parquet", rows, suffix=".parquet")
        except NoRoom as error:
            table.notes.append(f"{rows_label(rows)} rows skipped: {error}.")
            continue
        run_script = [config.python, script("mse_parquet.py"), str(path), "--engine"]
        contenders = [
            Contender("pandas read_parquet", [*run_script, "pandas"], parse=_value),
            Contender("pyarrow read_table", [*run_script, "pyarrow"], parse=_value),
            Contender("lossctl", [*config.lossctl, "compute", "--loss", "mse", str(path)], parse=_value),
        ]
        print(f"throughput: parquet, {rows_label(rows)} rows", file=sys.stderr, flush=True)
        table.rows += _rows(rows, run_interleaved(contenders, config.repeats), expected_value(path))
    return table
