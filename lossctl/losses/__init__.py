"""Every loss lossctl knows, in one registry.

    >>> from lossctl.losses import get_loss
    >>> get_loss("mse").qualified_name
    'keras.mean_squared_error'
"""

from __future__ import annotations

# Importing a family registers its losses; they are listed in this order.
from lossctl.losses import keras_family, torch_family  # noqa: F401

# isort: split
from lossctl.losses import sklearn_family  # noqa: F401

# isort: split
from lossctl.losses import paper_family  # noqa: F401
from lossctl.losses.registry import REGISTRY, Input, Loss, LossValues, Param

__all__ = ["REGISTRY", "Input", "Loss", "LossValues", "Param", "get_loss"]


def get_loss(name: str) -> Loss:
    """The loss registered under `name` (qualified name, bare name or alias)."""
    return REGISTRY.get(name)
