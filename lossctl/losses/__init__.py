"""Every loss lossctl knows, in one registry.

    >>> from lossctl.losses import get_loss
    >>> get_loss("mse").qualified_name
    'keras.mean_squared_error'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lossctl.errors import UsageError

# isort: split
# Importing a family registers its losses; they are listed in this order.
from lossctl.losses import keras_family, torch_family  # noqa: F401

# isort: split
from lossctl.losses import (
    classification,  # noqa: F401
    sklearn_family,  # noqa: F401
)

# isort: split
from lossctl.losses import paper_family  # noqa: F401
from lossctl.losses.registry import REGISTRY, Input, Loss, LossValues, Param

__all__ = ["REGISTRY", "Input", "Loss", "LossValues", "Param", "get_loss", "get_losses"]


def get_loss(name: str) -> Loss:
    """The loss registered under `name` (qualified name, bare name or alias)."""
    return REGISTRY.get(name)


def get_losses(names: Sequence[str], given: Mapping[str, str]) -> list[tuple[Loss, dict[str, str]]]:
    """The losses `names` resolve to, each with the parameter texts of `given` that it has (several
    losses share one `-p`); a key no loss has, or no name, is a usage error."""
    if not names:
        raise UsageError("--loss names no loss")
    losses = [get_loss(name) for name in names]
    for key in given:
        if not any(key in {p.name for p in lo.params} for lo in losses):
            valid = sorted({p.name for lo in losses for p in lo.params})
            raise UsageError(
                f"unknown parameter {key!r} for {', '.join(lo.qualified_name for lo in losses)} "
                f"(valid: {', '.join(valid) or 'none'})"
            )
    return [(lo, {k: v for k, v in given.items() if k in {p.name for p in lo.params}}) for lo in losses]
