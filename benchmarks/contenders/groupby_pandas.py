"""The hand-written competitor of `compute --by`: MSE per group with pandas groupby, and overall.

python groupby_pandas.py FILE.csv GROUP_COLUMN

Prints `group,mse` lines, then `,overall mse` (the overall value last, as lossctl prints it).
"""

from __future__ import annotations

import argparse

import pandas as pd


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("by")
    args = parser.parse_args()
    frame = pd.read_csv(args.path)
    squared = (frame["y_pred"] - frame["y_true"]) ** 2
    for group, value in squared.groupby(frame[args.by]).mean().items():
        print(f"{group},{value!r}")
    print(f",{float(squared.mean())!r}")


if __name__ == "__main__":
    main()
