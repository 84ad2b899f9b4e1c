"""Random-effects structures as values: split, reduce and write back as lme4 formulas.

A :class:`Structure` is the response, the fixed part and a tuple of covariance
blocks; each :class:`CovBlock` is one unstructured covariance matrix, ``(1 + x | g)``.
A zero-correlation term ``(1 + x || g)`` is several scalar blocks of the same
grouping factor. Every candidate model of :mod:`lmmdx.remedy` is a structure, and
two structures are the same model exactly when their :attr:`Structure.key` agree,
whatever the spelling of the formulas they came from (``(x | g)`` and
``(1 + x | g)``, or ``(x || g)`` and ``(1 | g) + (0 + x | g)``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..diagnose.parameters import variance_name
from ..formula import ModelFormula, parse_formula

__all__ = ["INTERCEPT", "CovBlock", "Structure", "parameter_name", "same_model", "structure_of"]

#: The name of the intercept among a block's effects (as R's formulas write it).
INTERCEPT = "1"


@dataclass(frozen=True, slots=True)
class CovBlock:
    """One random-effects term with an unstructured covariance matrix.

    Attributes
    ----------
    group : tuple of str
        Grouping variables (several for an interaction ``a:b``).
    effects : tuple of str
        The terms of the left-hand side in formula order, R's labels
        (``"1"`` for the intercept, ``"x"``, ``"x:z"``, ``"poly(x, 2)"``).
    """

    group: tuple[str, ...]
    effects: tuple[str, ...]

    @property
    def group_name(self) -> str:
        """The grouping factor as lme4 prints it (``a:b`` for an interaction)."""
        return ":".join(self.group)

    @property
    def lhs(self) -> str:
        """The left-hand side with the intercept explicit: ``"1 + x"``, ``"0 + x"``, ``"1"``."""
        slopes = [e for e in self.effects if e != INTERCEPT]
        head = INTERCEPT if INTERCEPT in self.effects else "0"
        return " + ".join([head, *slopes])

    @property
    def text(self) -> str:
        """The term as written in a formula: ``(1 + x | g)``."""
        return f"({self.lhs} | {self.group_name})"

    @property
    def n_cov_params(self) -> int:
        """Variances and covariances of the block, ``k (k + 1) / 2``."""
        k = len(self.effects)
        return k * (k + 1) // 2


def parameter_name(group: str, effect: str) -> str:
    """A random effect's name as the diagnosis prints it: ``"group: x"``, ``"group: (Intercept)"``."""
    return variance_name(group, "(Intercept)" if effect == INTERCEPT else effect)


def _display_fixed(fixed: str) -> str:
    """The fixed part as lme4 users write it: the implicit intercept left out."""
    return fixed.removeprefix("1 + ")


@dataclass(frozen=True, slots=True)
class Structure:
    """A model: response, fixed part and random-effects blocks.

    Attributes
    ----------
    response : str
    fixed : str
        The fixed part as a right-hand side, intercept explicit (``"1 + x"``).
    blocks : tuple of CovBlock
        In formula order.
    """

    response: str
    fixed: str
    blocks: tuple[CovBlock, ...]

    # -- identity ----------------------------------------------------------------------
    @property
    def key(self) -> tuple[object, ...]:
        """What makes two structures the same model (order of terms and spelling ignored)."""
        blocks = sorted((b.group, tuple(sorted(b.effects))) for b in self.blocks)
        return (self.response, self.fixed, tuple(blocks))

    @property
    def groups(self) -> tuple[str, ...]:
        """Grouping factors in order of first appearance."""
        return tuple(dict.fromkeys(b.group_name for b in self.blocks))

    @property
    def n_cov_params(self) -> int:
        """Variance-covariance parameters: those of every block plus the residual variance."""
        return sum(b.n_cov_params for b in self.blocks) + 1

    def dimensions(self) -> tuple[tuple[str, str], ...]:
        """``(group, effect)`` of every random effect, in formula order."""
        return tuple((b.group_name, e) for b in self.blocks for e in b.effects)

    def block_of(self, group: str, effect: str) -> CovBlock:
        """The block holding ``effect`` for ``group``."""
        for block in self.blocks:
            if block.group_name == group and effect in block.effects:
                return block
        raise KeyError(parameter_name(group, effect))

    # -- text --------------------------------------------------------------------------
    def random_text(self) -> str:
        """The random part: correlated blocks as ``(1 + x | g)``, runs of scalar blocks of one
        factor as ``(1 + x || g)``."""
        parts: list[str] = []
        i = 0
        while i < len(self.blocks):
            block = self.blocks[i]
            j = i
            while (
                j + 1 < len(self.blocks)
                and len(self.blocks[j + 1].effects) == 1
                and self.blocks[j + 1].group == block.group
                and len(block.effects) == 1
            ):
                j += 1
            if j > i:
                effects = [b.effects[0] for b in self.blocks[i : j + 1]]
                merged = CovBlock(block.group, tuple(effects))
                if INTERCEPT in effects and effects[0] != INTERCEPT:
                    # "(1 + x || g)" re-parses with the intercept first; write the blocks as they are
                    parts.extend(b.text for b in self.blocks[i : j + 1])
                else:
                    parts.append(f"({merged.lhs} || {merged.group_name})")
            else:
                parts.append(block.text)
            i = j + 1
        return " + ".join(parts)

    @property
    def formula(self) -> str:
        """The model as an lme4 formula."""
        random = self.random_text()
        rhs = _display_fixed(self.fixed)
        return f"{self.response} ~ {rhs}" + (f" + {random}" if random else "")

    # -- reductions --------------------------------------------------------------------
    def zero_correlation(self) -> Structure:
        """Every multi-effect block split into independent scalar blocks (lme4's ``||``)."""
        blocks = tuple(CovBlock(b.group, (e,)) for b in self.blocks for e in b.effects)
        return replace(self, blocks=blocks)

    def without(self, group: str, effect: str) -> Structure:
        """The structure without the random effect ``effect`` of ``group`` (and its covariances)."""
        blocks = []
        for b in self.blocks:
            if b.group_name == group and effect in b.effects:
                rest = tuple(e for e in b.effects if e != effect)
                if rest:
                    blocks.append(CovBlock(b.group, rest))
            else:
                blocks.append(b)
        return replace(self, blocks=tuple(blocks))

    def intercepts_only(self) -> Structure:
        """One random intercept per grouping factor, in order of first appearance."""
        seen: dict[tuple[str, ...], None] = {}
        for b in self.blocks:
            seen.setdefault(b.group, None)
        return replace(self, blocks=tuple(CovBlock(g, (INTERCEPT,)) for g in seen))

    def removable(self) -> tuple[tuple[str, str], ...]:
        """Random effects that may be dropped one at a time.

        Marginality: a factor's intercept only once it has no random slope left;
        and never the last random effect (the model would have no random part).
        """
        dims = self.dimensions()
        if len(dims) <= 1:
            return ()
        out = []
        for group, effect in dims:
            if effect == INTERCEPT and any(g == group and e != INTERCEPT for g, e in dims):
                continue
            out.append((group, effect))
        return tuple(out)


def structure_of(formula: ModelFormula | str) -> Structure:
    """The :class:`Structure` of a parsed (or textual) lme4 formula."""
    parsed = parse_formula(formula) if isinstance(formula, str) else formula
    blocks = tuple(CovBlock(term.group, term.lhs.effects) for term in parsed.random)
    return Structure(parsed.response.text, parsed.fixed.text, blocks)


def same_model(a: str, b: str) -> bool:
    """Whether two lme4 formulas describe the same model (spelling and term order aside)."""
    return structure_of(a).key == structure_of(b).key
