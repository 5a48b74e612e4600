"""DuckDB writing the per-row squared error of y_true, y_pred to stdout, as CSV without a header.

python rows_duckdb.py FILE.csv
"""

from __future__ import annotations

import sys

import duckdb


def main() -> None:
    path = sys.argv[1].replace("'", "''")
    duckdb.sql(
        f"COPY (SELECT (y_pred - y_true) ^ 2 AS mse FROM read_csv('{path}')) "
        "TO '/dev/stdout' (HEADER false)"
    )


if __name__ == "__main__":
    main()
