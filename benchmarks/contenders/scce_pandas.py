"""The hand-written competitor: Keras sparse categorical crossentropy with pandas and numpy.

    python scce_pandas.py FILE.csv    (columns label, p_0..p_k)

Keras (from_logits=False): normalise each row of probabilities, clip to [1e-7, 1 - 1e-7], then take
-log of the true class's probability; the mean over rows.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

EPSILON = 1e-7


def main() -> None:
    frame = pd.read_csv(sys.argv[1])
    labels = frame["label"].to_numpy(dtype=np.int64)
    probs = frame[[c for c in frame.columns if c.startswith("p_")]].to_numpy(dtype=np.float64)
    probs = np.clip(probs / probs.sum(axis=1, keepdims=True), EPSILON, 1 - EPSILON)
    print(float(np.mean(-np.log(probs[np.arange(len(labels)), labels]))))


if __name__ == "__main__":
    main()
