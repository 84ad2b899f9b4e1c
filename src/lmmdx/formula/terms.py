"""Parsed formula types: what the parser produces and the design consumes.

Nothing here imports numpy or pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ModelFormula", "RandomTerm"]


@dataclass(frozen=True, slots=True)
class RandomTerm:
    """One random-effects term ``(lhs | g1:g2)`` after expansion of ``||`` and ``/``.

    Attributes
    ----------
    lhs : str
        The left-hand side as a formulaic right-hand-side formula, with the
        intercept made explicit: ``"1 + x"``, ``"0 + x"``, ``"1"``.
    group : tuple of str
        The grouping variables; more than one means their interaction ``a:b``.
    text : str
        The term as lme4 would print it, e.g. ``"(1 + x | g)"``.
    """

    lhs: str
    group: tuple[str, ...]
    text: str

    @property
    def group_name(self) -> str:
        """Name of the grouping factor as lme4 prints it (``a:b`` for an interaction)."""
        return ":".join(self.group)


@dataclass(frozen=True, slots=True)
class ModelFormula:
    """A parsed lme4 formula.

    Attributes
    ----------
    text : str
        The formula as the user wrote it.
    response : str
        The response expression (a column name, or an expression such as ``log(y)``).
    fixed : str
        The fixed part as a formulaic right-hand side, intercept explicit (``"1 + x"``, ``"0 + x"``).
    random : tuple of RandomTerm
        The random-effects terms in the order written, ``||`` and ``/`` expanded.
    """

    text: str
    response: str
    fixed: str
    random: tuple[RandomTerm, ...]
