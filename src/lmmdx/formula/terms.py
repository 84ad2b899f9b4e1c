"""Parsed formula types: what the parser produces, the design consumes and remedies edit.

A formula is parsed once into these values. New models (another response, a random
term without its slope, the grouping factor as fixed effects) are made by building new
values, never by writing text that is parsed again; :attr:`ModelFormula.text` writes a
formula for display only, with names quoted as R quotes them.

Nothing here imports numpy or pandas.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from .expr import Call, Expr, Name, quote_name

__all__ = ["INTERCEPT", "ModelFormula", "RandomTerm", "Term", "Terms", "group_text"]

#: The label of the intercept among a right-hand side's effects (as R's formulas write it).
INTERCEPT = "1"


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a right-hand side: the product of its variables (``a:b``), as R's ``terms()``.

    Attributes
    ----------
    variables : tuple of Expr
        In order of first appearance in the formula; each is a column or a call.
    """

    variables: tuple[Expr, ...]

    @property
    def label(self) -> str:
        """R's term label: ``"x"``, ``"recipe:temperature"``, ``"poly(x, 2)"``."""
        return ":".join(v.text for v in self.variables)

    @property
    def order(self) -> int:
        """How many variables the term multiplies."""
        return len(self.variables)


@dataclass(frozen=True, slots=True)
class Terms:
    """A right-hand side as R's ``terms()`` sees it: intercept, terms sorted by order, offsets.

    Attributes
    ----------
    intercept : bool
    terms : tuple of Term
        Lower orders first (as R sorts them), in formula order within an order.
    offsets : tuple of Expr
        The arguments of ``offset()`` terms (fixed part only).
    """

    intercept: bool
    terms: tuple[Term, ...] = ()
    offsets: tuple[Expr, ...] = ()

    @property
    def text(self) -> str:
        """The right-hand side written out: ``"1 + x + a:b"``, ``"0 + x"``, ``"1"``."""
        parts = [INTERCEPT if self.intercept else "0", *(t.label for t in self.terms)]
        parts += [Call("offset", (o,)).text for o in self.offsets]
        return " + ".join(parts)

    @property
    def display(self) -> str:
        """As lme4 users write it: the implicit intercept left out (``"x + z"``, ``"0 + x"``, ``"1"``)."""
        labels = [t.label for t in self.terms] + [Call("offset", (o,)).text for o in self.offsets]
        if not self.intercept:
            return " + ".join(["0", *labels])
        return " + ".join(labels) if labels else INTERCEPT

    @property
    def effects(self) -> tuple[str, ...]:
        """``"1"`` for the intercept, then each term's label."""
        return ((INTERCEPT,) if self.intercept else ()) + tuple(t.label for t in self.terms)

    def term(self, label: str) -> Term:
        """The term with this label."""
        for t in self.terms:
            if t.label == label:
                return t
        raise KeyError(label)

    def variables(self) -> tuple[Expr, ...]:
        """Every variable of the terms and the offsets, each once, in order."""
        out = dict.fromkeys(v for t in self.terms for v in t.variables)
        out.update(dict.fromkeys(self.offsets))
        return tuple(out)

    def with_terms(self, terms: Iterable[Term], intercept: bool | None = None) -> Terms:
        """These terms replaced (sorted by order again, repeats dropped), offsets kept."""
        kept = tuple(dict.fromkeys(terms))
        kept = tuple(sorted(kept, key=lambda t: t.order))
        return replace(self, terms=kept, intercept=self.intercept if intercept is None else intercept)


def group_text(group: tuple[str, ...]) -> str:
    """A grouping factor as written in a formula: ``g``, ``a:b``, ``` `my g`:h ```."""
    return ":".join(quote_name(g) for g in group)


@dataclass(frozen=True, slots=True)
class RandomTerm:
    """One random-effects term ``(lhs | g1:g2)`` after expansion of ``||`` and ``/``.

    Attributes
    ----------
    lhs : Terms
        The left-hand side (intercept explicit, no offsets).
    group : tuple of str
        The grouping columns; more than one means their interaction ``a:b``.
    """

    lhs: Terms
    group: tuple[str, ...]

    @property
    def text(self) -> str:
        """The term as lme4 prints it, e.g. ``"(1 + x | g)"``."""
        return f"({self.lhs.text} | {group_text(self.group)})"

    @property
    def group_name(self) -> str:
        """Name of the grouping factor as lme4 prints it (``a:b`` for an interaction)."""
        return ":".join(self.group)


@dataclass(frozen=True, slots=True)
class ModelFormula:
    """A parsed lme4 formula.

    Attributes
    ----------
    response : Expr
        The response: a column, or an expression such as ``log(y)``.
    fixed : Terms
        The fixed part.
    random : tuple of RandomTerm
        The random-effects terms in the order written, ``||`` and ``/`` expanded.
    source : str or None
        The formula as the user wrote it (None for a formula built by editing another);
        not part of the model's identity.
    """

    response: Expr
    fixed: Terms
    random: tuple[RandomTerm, ...] = ()
    source: str | None = field(default=None, compare=False)

    @property
    def text(self) -> str:
        """The formula as the user wrote it, or (for an edited formula) written out for display."""
        if self.source is not None:
            return self.source
        return self.written

    @property
    def written(self) -> str:
        """The formula written out from its parts: ``y ~ x + (1 + x | g)``."""
        rhs = [self.fixed.display] if self.fixed.display != INTERCEPT or not self.random else []
        rhs += [t.text for t in self.random]
        return f"{self.response.text} ~ {' + '.join(rhs)}"

    @property
    def response_label(self) -> str:
        """The response for messages: its column's name, or the expression (``log(y)``)."""
        return self.response.name if isinstance(self.response, Name) else self.response.text

    @property
    def response_column(self) -> str | None:
        """The response's column when the response is a plain column, else None."""
        return self.response.name if isinstance(self.response, Name) else None

    def variables(self) -> tuple[Expr, ...]:
        """Every variable of the model (response, fixed part, offsets, left-hand sides), each once."""
        out = dict.fromkeys([self.response, *self.fixed.variables()])
        for term in self.random:
            out.update(dict.fromkeys(term.lhs.variables()))
        return tuple(out)

    def groups(self) -> tuple[str, ...]:
        """Every grouping column, each once, in order of appearance."""
        return tuple(dict.fromkeys(g for t in self.random for g in t.group))

    def with_response(self, response: Expr | str) -> ModelFormula:
        """The same model for another response (a column name is a column, never parsed)."""
        expr = Name(response) if isinstance(response, str) else response
        return replace(self, response=expr, source=None)

    def edited(self, fixed: Terms | None = None, random: Iterable[RandomTerm] | None = None) -> ModelFormula:
        """The formula with its fixed part and/or random terms replaced."""
        return replace(
            self,
            fixed=self.fixed if fixed is None else fixed,
            random=self.random if random is None else tuple(random),
            source=None,
        )

    def expressions(self) -> Iterator[Expr]:
        """Every node of every variable (for collecting the columns it reads)."""
        for variable in self.variables():
            yield from variable.walk()
