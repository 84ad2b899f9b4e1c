"""Checks of the arguments of lmmdx's public functions, with lmmdx's own one-line errors.

Python would otherwise accept ``reml="no"`` (a non-empty string is true, so REML is
fitted), ``seed=-1`` (numpy's ValueError deep in a bootstrap) or ``level=95``. Each
check returns the value in its canonical type or raises :class:`~lmmdx.errors.DataError`
naming the argument, the value and what is accepted.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .engine.optimize import OPTIMIZERS
from .errors import DataError

__all__ = ["check_count", "check_level", "check_optimizer", "check_reml", "check_seed"]


def check_reml(reml: Any, name: str = "reml") -> bool:
    """``True`` or ``False`` (numpy booleans too); anything else is refused."""
    if isinstance(reml, (bool, np.bool_)):
        return bool(reml)
    raise DataError(f"{name} must be True (REML) or False (maximum likelihood), not {reml!r}")


def check_optimizer(optimizer: Any) -> str:
    """A registered optimiser's name."""
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        return optimizer
    raise DataError(f"unknown optimizer {optimizer!r}: use one of {', '.join(sorted(OPTIMIZERS))}")


def check_level(level: Any) -> float:
    """A confidence level strictly between 0 and 1 (0.95, not 95)."""
    if isinstance(level, numbers.Real) and not isinstance(level, (bool, np.bool_)) and 0.0 < float(level) < 1.0:
        return float(level)
    hint = ""
    if isinstance(level, numbers.Real) and 50.0 <= float(level) < 100.0:
        hint = f" (for {level}% write {float(level) / 100:g})"
    raise DataError(f"the confidence level must be between 0 and 1, e.g. 0.95, not {level!r}{hint}")


def check_seed(seed: Any) -> Any:
    """None, a non-negative integer or a :class:`numpy.random.Generator`."""
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)) and int(seed) >= 0:
        return int(seed)
    raise DataError(f"the seed must be a non-negative integer, not {seed!r}")


def check_count(value: Any, name: str, minimum: int = 0) -> int:
    """An integer of at least ``minimum``."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) and int(value) >= minimum:
        return int(value)
    raise DataError(f"{name} must be an integer of at least {minimum}, not {value!r}")
