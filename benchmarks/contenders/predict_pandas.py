"""The reference for `lossctl predict`: read the whole CSV with pandas and write three of its columns.

python predict_pandas.py FILE.csv OUT.csv
"""

from __future__ import annotations

import sys

import pandas as pd


def main() -> None:
    frame = pd.read_csv(sys.argv[1])
    frame[list(frame.columns[:2]) + [frame.columns[-1]]].to_csv(sys.argv[2], index=False)
    print(len(frame))


if __name__ == "__main__":
    main()
