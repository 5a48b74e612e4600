"""The hand-written competitor: MSE of y_true, y_pred with pandas.read_csv and numpy.

python mse_pandas.py FILE.csv [--chunksize ROWS]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--chunksize", type=int, default=None)
    args = parser.parse_args()
    if args.chunksize is None:
        frame = pd.read_csv(args.path)
        print(float(np.mean((frame["y_pred"].to_numpy() - frame["y_true"].to_numpy()) ** 2)))
        return
    total, rows = 0.0, 0
    for chunk in pd.read_csv(args.path, chunksize=args.chunksize):
        total += float(np.sum((chunk["y_pred"].to_numpy() - chunk["y_true"].to_numpy()) ** 2))
        rows += len(chunk)
    print(total / rows)


if __name__ == "__main__":
    main()
