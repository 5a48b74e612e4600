"""Learning-rate schedules, evaluated once per epoch.

    constant  lr
    step      lr * gamma ** (epoch // step_size)              (gamma 0.5, step_size 10)
    cosine    lr_min + (lr - lr_min) * (1 + cos(pi * epoch / epochs)) / 2      (lr_min 0)
    plateau   lr * factor after `patience` epochs without improvement of the monitored loss
              by more than min_delta (Keras ReduceLROnPlateau: factor 0.1, patience 10,
              min_delta 1e-4, min_lr 0)

`epoch` is 0-based here: the first epoch runs at the base learning rate.
"""

from __future__ import annotations

import difflib
import math

from lossctl.errors import UnknownNameError

SCHEDULES = ("constant", "step", "cosine", "plateau")


class Schedule:
    """Gives the learning rate of each epoch; `observe` is told each epoch's monitored loss."""

    def __init__(self, name: str, base_lr: float, epochs: int, *, gamma: float = 0.5,
                 step_size: int = 10, lr_min: float = 0.0, factor: float = 0.1,
                 patience: int = 10, min_delta: float = 1e-4) -> None:
        if name not in SCHEDULES:
            near = difflib.get_close_matches(name, SCHEDULES, n=3, cutoff=0.5)
            raise UnknownNameError("learning-rate schedule", name, near)
        self.name, self.base_lr, self.epochs = name, base_lr, epochs
        self.gamma, self.step_size, self.lr_min = gamma, step_size, lr_min
        self.factor, self.patience, self.min_delta = factor, patience, min_delta
        self._plateau_lr, self._best, self._wait = base_lr, math.inf, 0

    def lr(self, epoch: int) -> float:
        """The learning rate of 0-based `epoch`."""
        if self.name == "step":
            return self.base_lr * self.gamma ** (epoch // self.step_size)
        if self.name == "cosine":
            span = max(self.epochs, 1)
            return self.lr_min + (self.base_lr - self.lr_min) * (1 + math.cos(math.pi * epoch / span)) / 2
        if self.name == "plateau":
            return self._plateau_lr
        return self.base_lr

    def observe(self, monitored: float) -> None:
        """Record the epoch's monitored loss (only plateau uses it)."""
        if self.name != "plateau":
            return
        if monitored < self._best - self.min_delta:
            self._best, self._wait = monitored, 0
            return
        self._wait += 1
        if self._wait >= self.patience:
            self._plateau_lr *= self.factor
            self._wait = 0
