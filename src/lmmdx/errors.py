"""The one exception tree of lmmdx and its warning class.

Every error lmmdx raises on purpose is an :class:`LmmdxError` whose message is a
single line naming what is at fault (a column, a formula position, a factor).
The command line turns it into that line on stderr and a non-zero exit code.
"""

from __future__ import annotations

__all__ = ["DataError", "FitError", "FormulaError", "Interrupted", "LmmdxError", "LmmdxWarning", "ResourceError"]


class LmmdxError(Exception):
    """Root of every error lmmdx raises on purpose; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class FormulaError(LmmdxError):
    """The formula cannot be parsed or asks for something unsupported."""

    def __init__(self, message: str, formula: str | None = None, position: int | None = None) -> None:
        self.formula = formula
        self.position = position
        if formula is not None and position is not None:
            message = f"{message} at position {position + 1} of {formula!r}"
        super().__init__(message)


class DataError(LmmdxError):
    """The data do not fit the formula: a missing column, a bad type, too few rows or levels."""


class FitError(LmmdxError):
    """The model cannot be fitted to these data (e.g. the criterion is not finite anywhere)."""


class ResourceError(LmmdxError):
    """The model or the data need more memory than the machine has available."""


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM, SIGHUP), handled like Ctrl-C (SIGINT).

    A :class:`KeyboardInterrupt`, so ``except Exception`` does not swallow it and
    worker pools shut down as they do on Ctrl-C.
    """

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class LmmdxWarning(UserWarning):
    """Warnings raised at the API edge, as a view of the findings stored in a fit."""
