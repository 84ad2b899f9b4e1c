"""Expressions of a formula as data: names, constants, calls and arithmetic, written back as R does.

An :class:`Expr` is what a variable of a model is made of: a column (:class:`Name`), a
constant, a call of an allowed function (:class:`Call`) or arithmetic. Nothing here is
ever handed to Python's ``eval``: the design evaluates these trees with its own allow-list
(:mod:`lmmdx.design.evaluate`). :attr:`Expr.text` deparses an expression the way R's
``deparse`` does, which is also how lme4 names model-matrix columns: ``log(x + 1)``,
``I(x^2)``, ``poly(x, 2)``, ``I(x/2)``; names that are not syntactic are written in
backticks (a backtick inside a name escaped with a backslash).

Pure string processing: this module imports neither numpy, pandas nor formulaic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = [
    "Binary",
    "Call",
    "Expr",
    "Name",
    "Number",
    "Paren",
    "String",
    "Unary",
    "format_number",
    "quote_name",
]

# An R syntactic name: a letter or a dot not followed by a digit, then letters, digits, dots, underscores.
_SYNTACTIC = re.compile(r"(?:[^\W\d_]|\.(?![0-9]))[\w.]*")
#: R's reserved words that are never constants in a formula: a column of that name is written in backticks.
_RESERVED = frozenset({"if", "else", "repeat", "while", "function", "for", "next", "break", "in", "NULL"})
# Binary operators R's deparse writes with a space on each side; the others (/ ^ : %% %/%) tight.
_SPACED = frozenset({"+", "-", "*", "<", ">", "<=", ">=", "==", "!=", "%in%"})


def quote_name(name: str) -> str:
    """A column name as R writes it: bare when syntactic, else in backticks (inner backticks escaped).

    Parameters
    ----------
    name : str

    Returns
    -------
    str
        ``x``, ``Sepal.Length``, ``"`my x`"``, ``"`a\\`b`"``.
    """
    if _SYNTACTIC.fullmatch(name) and name not in _RESERVED:
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def format_number(value: float) -> str:
    """A number as R's ``as.character`` writes it: 15 significant digits, fixed or scientific.

    R chooses the shorter of the fixed and the scientific notation (fixed on a tie), so
    ``1e5`` is ``"1e+05"``, ``123456`` is ``"123456"``, ``0.1 + 0.2`` is ``"0.3"`` and
    ``1e-4`` is ``"1e-04"``.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    text = f"{value:.15g}"
    mantissa, exponent = f"{float(text):.14e}".split("e")
    digits = mantissa.replace("-", "").replace(".", "").rstrip("0") or "0"
    exp = int(exponent)
    sig = len(digits)
    neg = 1 if value < 0 else 0
    # scientific: d[.ddd]e+XX
    sci_mantissa = digits[0] + ("." + digits[1:] if sig > 1 else "")
    sci = f"{'-' if neg else ''}{sci_mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    # fixed: as many decimals as the significant digits need
    decimals = max(0, sig - 1 - exp)
    fixed = f"{value:.{decimals}f}"
    return fixed if len(fixed) <= len(sci) else sci


class Expr:
    """Base of the expression nodes (all frozen, hashable, compared by structure)."""

    __slots__ = ()

    @property
    def text(self) -> str:
        """The expression as R deparses it (the model-matrix name of a variable)."""
        return _deparse(self)

    def children(self) -> tuple[Expr, ...]:
        """The sub-expressions."""
        return ()

    def walk(self) -> Iterator[Expr]:
        """This node and every node below it, depth first."""
        stack: list[Expr] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children()))


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A column of the data (or, as an argument, a constant such as ``TRUE`` or ``contr.sum``)."""

    name: str


@dataclass(frozen=True, slots=True)
class Number(Expr):
    """A numeric constant (always a float64 when evaluated).

    Attributes
    ----------
    value : float
    integer : bool
        Written with R's integer suffix ``L`` (``2L``).
    """

    value: float
    integer: bool = False


@dataclass(frozen=True, slots=True)
class String(Expr):
    """A string constant (a level of a factor, a contrast's name)."""

    value: str


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A call of an allowed function: ``log(x + 1)``, ``poly(x, 2)``, ``scale(x, center = FALSE)``.

    Attributes
    ----------
    function : str
        The function's name as written (``log``, ``np.log``).
    args : tuple of Expr
        Positional arguments.
    kwargs : tuple of (str, Expr)
        Named arguments, in the order written.
    """

    function: str
    args: tuple[Expr, ...] = ()
    kwargs: tuple[tuple[str, Expr], ...] = ()

    def children(self) -> tuple[Expr, ...]:
        return self.args + tuple(value for _, value in self.kwargs)


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    """``-x`` or ``+x``."""

    op: str
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    """Arithmetic or a comparison: ``x + 1``, ``x^2`` (Python's ``**`` is R's ``^``), ``x > 0``."""

    op: str
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Paren(Expr):
    """Brackets written around an expression: ``(x + 1)`` (kept, as R keeps them, for the name)."""

    inner: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.inner,)


def _string_literal(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    out = out.replace("\r", "\\r")
    return f'"{out}"'


def _deparse(node: Expr) -> str:
    # Iterative over an explicit stack would be overkill: expressions nest at most MAX_DEPTH brackets
    # deep and the parser builds operator chains as balanced as R's own.
    if isinstance(node, Name):
        return quote_name(node.name)
    if isinstance(node, Number):
        return format_number(node.value) + ("L" if node.integer else "")
    if isinstance(node, String):
        return _string_literal(node.value)
    if isinstance(node, Call):
        parts = [_deparse(a) for a in node.args] + [f"{quote_name(k)} = {_deparse(v)}" for k, v in node.kwargs]
        return f"{node.function}({', '.join(parts)})"
    if isinstance(node, Unary):
        return node.op + _deparse(node.operand)
    if isinstance(node, Binary):
        sep = " " if node.op in _SPACED else ""
        return f"{_deparse(node.left)}{sep}{node.op}{sep}{_deparse(node.right)}"
    if isinstance(node, Paren):
        return f"({_deparse(node.inner)})"
    raise TypeError(f"not an expression node: {node!r}")
