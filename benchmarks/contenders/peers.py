"""The fastest peers: DuckDB's SQL and polars, on the same files as lossctl (optional packages).

    python peers.py duckdb mse FILE     (columns y_true, y_pred; .csv, .csv.gz or .parquet)
    python peers.py duckdb scce FILE    (columns label, p_0..p_k: Keras's sparse categorical CE)
    python peers.py polars mse FILE
    python peers.py polars scce FILE

Each prints the mean loss. The SCCE follows Keras (from_logits=False): normalise each row of
probabilities, clip to [1e-7, 1 - 1e-7], -log of the true class's probability. Both tools read
with their defaults (all cores, types inferred), as a user would run them.
"""

from __future__ import annotations

import sys

EPSILON = 1e-7


def _scan(path: str) -> str:
    return f"read_parquet('{path}')" if path.endswith(".parquet") else f"read_csv('{path}')"


def duckdb_value(loss: str, path: str) -> float:
    import duckdb

    duckdb.sql("set enable_progress_bar = false")
    if loss == "mse":
        query = f"select avg((y_pred - y_true) ^ 2) from {_scan(path)}"
    else:
        columns = [name for name, *_ in duckdb.sql(f"describe select * from {_scan(path)}").fetchall()
                   if name.startswith("p_")]
        total = " + ".join(columns)
        chosen = " ".join(f"when {k} then {c}" for k, c in enumerate(columns))
        query = (f"select avg(-ln(greatest(least((case label {chosen} end) / ({total}), "
                 f"{1 - EPSILON!r}), {EPSILON!r}))) from {_scan(path)}")
    return float(duckdb.sql(query).fetchall()[0][0])


def polars_value(loss: str, path: str) -> float:
    import polars as pl

    if path.endswith(".parquet"):
        frame = pl.scan_parquet(path)
    elif path.endswith(".gz"):
        frame = pl.read_csv(path).lazy()  # polars decompresses a .gz whole before parsing
    else:
        frame = pl.scan_csv(path)
    if loss == "mse":
        value = frame.select(((pl.col("y_pred") - pl.col("y_true")) ** 2).mean())
    else:
        columns = [c for c in frame.collect_schema().names() if c.startswith("p_")]
        total = pl.sum_horizontal(columns)
        chosen = pl.coalesce([pl.when(pl.col("label") == k).then(pl.col(c)) for k, c in enumerate(columns)])
        value = frame.select((-(chosen / total).clip(EPSILON, 1 - EPSILON).log()).mean())
    return float(value.collect().item())


def main() -> None:
    tool, loss, path = sys.argv[1:4]
    print((duckdb_value if tool == "duckdb" else polars_value)(loss, path))


if __name__ == "__main__":
    main()
