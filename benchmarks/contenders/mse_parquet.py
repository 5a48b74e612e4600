"""The hand-written competitor for Parquet input: MSE of y_true, y_pred.

python mse_parquet.py FILE.parquet --engine pyarrow|pandas
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--engine", choices=("pyarrow", "pandas"), default="pyarrow")
    args = parser.parse_args()
    if args.engine == "pandas":
        import pandas as pd

        frame = pd.read_parquet(args.path, columns=["y_true", "y_pred"])
        y_true, y_pred = frame["y_true"].to_numpy(), frame["y_pred"].to_numpy()
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(args.path, columns=["y_true", "y_pred"])
        y_true, y_pred = table["y_true"].to_numpy(), table["y_pred"].to_numpy()
    print(float(np.mean((y_pred - y_true) ** 2)))


if __name__ == "__main__":
    main()
