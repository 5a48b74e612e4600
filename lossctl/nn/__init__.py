"""A small numpy MLP trainer that trains on the losses of the registry.

    data = load_training("sample_data/drug_trial.csv")
    model = build_model(data, loss, params, hidden=(16, 32))
    history = History()  # the records, the best epoch, how training ended
    for record in fit(model, loss, params, data, epochs=30, history=history):
        ...

Library code: it never prints and never exits; errors are LossctlError subclasses.
"""

from __future__ import annotations

from lossctl.nn.data import Dataset, Preprocessor, load_training
from lossctl.nn.model import MLP
from lossctl.nn.train import EpochRecord, History, build_model, fit, resolve_metrics

__all__ = [
    "MLP", "Dataset", "EpochRecord", "History", "Preprocessor", "build_model", "fit", "load_training",
    "resolve_metrics",
]
