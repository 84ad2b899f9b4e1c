"""Concrete remedies: the formulas to fit instead, written in lme4 syntax.

The remedy step fits these; here they are only written down, each as a
:class:`~lmmdx.diagnose.finding.Remedy` with a stable ``action``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from ..design import Design
from ..design.random import ReBlock
from ..formula.terms import RandomTerm
from .finding import Remedy

__all__ = ["FormulaEditor", "ranked", "split_terms"]

_PLAIN = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def split_terms(text: str) -> list[str]:
    """Split a right-hand side at its top-level ``+`` (brackets respected)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "+" and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    parts.append("".join(current).strip())
    return [p for p in parts if p]


def ranked(candidates: Iterable[Remedy | None]) -> tuple[Remedy, ...]:
    """The remedies in order, without the missing ones and without repeats of a formula.

    Remedies without a formula, and the penalised fit (whose formula is the model's
    own), are never repeats.
    """
    seen: set[str] = set()
    out = []
    for remedy in candidates:
        if remedy is None:
            continue
        if remedy.formula is not None and remedy.action != "penalised_fit":
            if remedy.formula in seen:
                continue
            seen.add(remedy.formula)
        out.append(remedy)
    return tuple(out)


def _lhs_text(terms: list[str]) -> str:
    return " + ".join(terms)


class FormulaEditor:
    """Writes alternative formulas for a design's model.

    Parameters
    ----------
    design : Design
    """

    def __init__(self, design: Design) -> None:
        self.design = design
        self.formula = design.formula

    # -- pieces -------------------------------------------------------------------------
    def _fixed_terms(self) -> list[str]:
        return split_terms(self.formula.fixed.text)

    def _render(self, fixed: list[str], random: list[str]) -> str:
        if len(fixed) > 1 and fixed[0] == "1":
            fixed = fixed[1:]
        rhs = " + ".join([*fixed, *random]) if fixed else " + ".join(random) or "1"
        return f"{self.formula.response.text} ~ {rhs}"

    def _random_texts(self, replace: dict[RandomTerm, list[str]]) -> list[str]:
        out = []
        for term in self.formula.random:
            out.extend(replace.get(term, [term.text]))
        return out

    def _factor_expression(self, block: ReBlock) -> str:
        names = block.term.group
        frame = self.design.frame
        parts = []
        for name in names:
            numeric = name in frame.columns and pd.api.types.is_numeric_dtype(frame[name].dtype)
            parts.append(f"C({name})" if numeric or len(names) > 1 else name)
        return ":".join(parts)

    # -- remedies -----------------------------------------------------------------------
    def uncorrelated(self, block: ReBlock, reason: str) -> Remedy | None:
        """The term with its correlations removed: ``(1 + x || g)``."""
        if block.k < 2:
            return None
        term = block.term
        text = f"({term.lhs.text} || {term.group_name})"
        return Remedy("uncorrelated", self._render(self._fixed_terms(), self._random_texts({term: [text]})),
                      reason, term.text)

    def drop_slope(self, block: ReBlock, column: str, reason: str) -> Remedy | None:
        """The term without the random slope of ``column`` (a plain covariate)."""
        term = block.term
        lhs = split_terms(term.lhs.text)
        if column not in lhs or not _PLAIN.match(column):
            return None
        rest = [t for t in lhs if t != column]
        if rest in (["0"], []):
            texts: list[str] = []
        else:
            texts = [f"({_lhs_text(rest)} | {term.group_name})"]
        if not texts and len(self.formula.random) == 1:
            return None
        return Remedy("drop_slope", self._render(self._fixed_terms(), self._random_texts({term: texts})),
                      reason, term.text)

    def intercept_only(self, block: ReBlock, reason: str) -> Remedy | None:
        """All of the factor's terms replaced by ``(1 | g)``."""
        same = [b.term for b in self.design.blocks if b.group == block.group]
        if all(t.lhs.effects == ("1",) for t in same):
            return None
        first = next(t for t in self.formula.random if t in same)
        replace = {t: ([f"(1 | {t.group_name})"] if t == first else []) for t in same}
        return Remedy("intercept_only", self._render(self._fixed_terms(), self._random_texts(replace)),
                      reason, block.term.text)

    def drop_term(self, block: ReBlock, reason: str) -> Remedy:
        """The model without this term (an ordinary regression when no term is left)."""
        term = block.term
        return Remedy("drop_term", self._render(self._fixed_terms(), self._random_texts({term: []})),
                      reason, term.text)

    def fixed_factor(self, block: ReBlock, reason: str) -> Remedy:
        """The grouping factor as fixed effects (with its slopes as interactions)."""
        same = [b for b in self.design.blocks if b.group == block.group]
        factor = self._factor_expression(block)
        fixed = self._fixed_terms()
        extra = [factor]
        for b in same:
            for column in b.columns:
                if column != "(Intercept)" and _PLAIN.match(column):
                    extra.append(f"{column}:{factor}")
        replace: dict[RandomTerm, list[str]] = {b.term: [] for b in same}
        return Remedy("fixed_factor", self._render(fixed + [e for e in extra if e not in fixed],
                                                   self._random_texts(replace)), reason, block.group)

    def penalised(self, reason: str, term: str | None = None) -> Remedy:
        """The same formula fitted with weakly informative priors on the covariances."""
        return Remedy("penalised_fit", self.formula.text, reason, term)

    def more_levels(self, factor: str, needed: int, reason: str) -> Remedy:
        """Collect data on more levels of ``factor``."""
        return Remedy("more_levels", None, f"{reason} (aim for at least {needed} levels of {factor})", factor)

    def centre(self, column: str, mean: float, reason: str) -> Remedy | None:
        """The formula with a plain covariate replaced by its centred version."""
        if not _PLAIN.match(column) or "~" not in self.formula.text:
            return None
        lhs, rhs = self.formula.text.split("~", 1)
        pattern = re.compile(rf"(?<![A-Za-z0-9_.]){re.escape(column)}(?![A-Za-z0-9_.(])")
        centred = f"I({column} - {mean:.6g})" if mean >= 0 else f"I({column} + {-mean:.6g})"
        return Remedy("centre_covariate", f"{lhs.strip()} ~ {pattern.sub(centred, rhs).strip()}", reason, column)

    def drop_fixed(self, columns: tuple[str, ...], reason: str) -> Remedy:
        """The fixed part without aliased columns that are plain terms (else no formula)."""
        fixed = self._fixed_terms()
        kept = [t for t in fixed if t not in columns]
        formula = None
        if len(kept) < len(fixed) and all(c in fixed for c in columns):
            formula = self._render(kept, self._random_texts({}))
        return Remedy("drop_fixed", formula, reason, ", ".join(columns))

    def rescale(self, reason: str) -> Remedy:
        """Rescale predictors (a reporting choice: lmmdx scales internally)."""
        return Remedy("rescale", None, reason, None)
