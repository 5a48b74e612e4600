"""A small numpy MLP trainer that trains on the losses of the registry.

    data = load_training("sample_data/drug_trial.csv")
    model = build_model(data, loss, params, hidden=(16, 32))
    for record in fit(model, loss, params, data, epochs=30):
        ...

Library code: it never prints and never exits; errors are LossctlError subclasses.
"""

from __future__ import annotations

from lossctl.nn.data import Dataset, Preprocessor, load_training
from lossctl.nn.model import MLP
from lossctl.nn.train import EpochRecord, build_model, fit, resolve_metrics

__all__ = [
    "MLP", "Dataset", "EpochRecord", "Preprocessor", "build_model", "fit", "load_training",
    "resolve_metrics",
]
