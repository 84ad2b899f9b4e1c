"""The registry of checks: a check is a function of the :class:`Context` returning findings.

Extend the diagnosis by registering a function in a new module (and importing
the module in :mod:`lmmdx.diagnose.checks`); nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable

from ..context import Context
from ..finding import Finding

__all__ = ["CHECKS", "ORDER", "Check", "ordered", "register"]

Check = Callable[[Context], list[Finding]]

#: Registered checks: name → function.
CHECKS: dict[str, Check] = {}
#: name → position in reports (findings of equal severity are listed in this order).
ORDER: dict[str, int] = {}


def register(name: str, order: int) -> Callable[[Check], Check]:
    """Decorator registering a check under ``name`` (unique), listed at ``order`` in reports."""

    def add(check: Check) -> Check:
        if name in CHECKS:
            raise ValueError(f"a check named {name!r} is already registered")
        CHECKS[name] = check
        ORDER[name] = order
        return check

    return add


def ordered() -> list[tuple[str, Check]]:
    """The registered checks in report order."""
    return sorted(CHECKS.items(), key=lambda item: ORDER[item[0]])
