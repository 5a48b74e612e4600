"""DuckDB writing the per-row squared error of y_true, y_pred to stdout, as CSV without a header.

python rows_duckdb.py FILE.csv

Written to /proc/self/fd/1, not /dev/stdout, without a temporary file: a COPY that fails (a
closed pipe) removes its target file, and as root that would delete the /dev/stdout link itself.
"""

from __future__ import annotations

import sys

import duckdb


def main() -> None:
    path = sys.argv[1].replace("'", "''")
    duckdb.sql(
        f"COPY (SELECT (y_pred - y_true) ^ 2 AS mse FROM read_csv('{path}')) "
        "TO '/proc/self/fd/1' (HEADER false, USE_TMP_FILE false)"
    )


if __name__ == "__main__":
    main()
