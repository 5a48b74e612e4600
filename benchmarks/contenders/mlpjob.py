"""What the MLP contenders share: their command line, the data as lossctl prepares it, the report.

Every contender trains the same network (20 -> 64 relu -> 64 relu -> classes, softmax
crossentropy) with Adam (lr 1e-3) in float32 on the same rows, and prints one JSON line:
{"epoch_seconds": median seconds per epoch, "val_accuracy": after the last epoch, ...}.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass

import numpy as np


@dataclass
class Job:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    hidden: tuple[int, ...]
    epochs: int
    batch_size: int
    lr: float
    seed: int
    patience: int  # 0: exactly `epochs` passes; else early stopping on a held-out fraction of TRAIN
    validation_fraction: float

    @property
    def classes(self) -> int:
        return int(max(self.y_train.max(), self.y_val.max())) + 1


def parse_job(description: str) -> Job:
    """Read TRAIN.csv and VAL.csv (features, then `label`); standardise with training statistics."""
    import pandas as pd

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("train")
    parser.add_argument("val")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", default="64,64")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--patience", type=int, default=0, help="early stopping: epochs without progress")
    parser.add_argument("--validation-fraction", type=float, default=0.1, help="held out when --patience")
    args = parser.parse_args()
    train, val = pd.read_csv(args.train), pd.read_csv(args.val)
    features = [c for c in train.columns if c != "label"]
    x_train = train[features].to_numpy(dtype=np.float64)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    return Job(
        x_train=((x_train - mean) / std).astype(np.float32),
        y_train=train["label"].to_numpy(dtype=np.int64, copy=True),
        x_val=((val[features].to_numpy(dtype=np.float64) - mean) / std).astype(np.float32),
        y_val=val["label"].to_numpy(dtype=np.int64, copy=True),
        hidden=tuple(int(h) for h in args.hidden.split(",")),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        seed=args.seed,
        patience=args.patience,
        validation_fraction=args.validation_fraction,
    )


def report(epoch_seconds: list[float], val_accuracy: float, **extra: object) -> None:
    print(
        json.dumps({"epoch_seconds": statistics.median(epoch_seconds), "val_accuracy": val_accuracy, **extra})
    )
