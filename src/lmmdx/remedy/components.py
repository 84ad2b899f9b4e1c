"""The PCA-reduced model: drop the random effects the principal components say the data do not support.

Bates, Kliegl, Vasishth & Baayen (2015), "Parsimonious mixed models": the number
of principal components of a random-effects covariance with non-zero variance is
the number of dimensions the data support. The components are the diagnosis's
(:func:`lmmdx.diagnose.dimensions.term_pca`, lme4's ``rePCA`` with loadings on the
correlation scale), so that the remedy drops exactly what the diagnosis reports as
collapsed. Which effects go: those loading most on the collapsed components, a
factor's intercept last (it keeps its intercept while it has a slope).
"""

from __future__ import annotations

import numpy as np

from ..diagnose.dimensions import TermPCA, term_pca
from ..result import Fit
from .structure import INTERCEPT, Structure

__all__ = ["column_effects", "pca_reduction", "unsupported_effects"]


def column_effects(fit: Fit, index: int) -> tuple[str, ...]:
    """The formula effect (``"1"``, ``"x"``, ``"f"``) of each column of design block ``index``."""
    block = fit.model.design.blocks[index]
    if len(block.effects) == block.k:
        return block.effects
    effects = block.term.lhs.effects
    if len(effects) == block.k:
        return effects
    raise ValueError(f"the columns of {block.term.text} cannot be matched to its terms")


def unsupported_effects(pca: TermPCA, effects: tuple[str, ...]) -> tuple[str, ...]:
    """Effects to drop so that no more dimensions remain than the components support.

    Parameters
    ----------
    pca : TermPCA
        Components of one term, strongest first.
    effects : tuple of str
        The effect of each of the term's columns.
    """
    k = len(effects)
    drop_dims = k - pca.supported
    unique = tuple(dict.fromkeys(effects))
    if drop_dims <= 0:
        return ()
    if pca.supported == 0:
        return unique
    weight = np.sum(pca.loadings[:, pca.supported :] ** 2, axis=1)
    score = {e: float(sum(w for w, c in zip(weight, effects, strict=True) if c == e)) for e in unique}
    dropped: list[str] = []
    dims = 0
    for effect in sorted(unique, key=lambda e: (e == INTERCEPT, -score[e])):
        if dims >= drop_dims:
            break
        dropped.append(effect)
        dims += effects.count(effect)
    return tuple(dropped)


def pca_reduction(structure: Structure, fit: Fit) -> tuple[Structure, list[str]]:
    """The structure without the effects the principal components of ``fit`` say are unsupported.

    Returns
    -------
    Structure
        Possibly with no random-effects block left.
    list of str
        One line per term: components supported out of how many, and what is dropped.
    """
    notes = []
    reduced = structure
    for index, block in enumerate(fit.model.design.blocks):
        pca = term_pca(fit, index)
        effects = column_effects(fit, index)
        shares = ", ".join(f"{100 * p:.1f}%" for p in pca.proportions)
        drop = unsupported_effects(pca, effects)
        head = (
            f"{block.term.text}: {pca.supported} of {block.k} dimensions supported (variance shares {shares})"
        )
        if not drop:
            notes.append(head)
            continue
        notes.append(head + "; dropped " + ", ".join("(Intercept)" if e == INTERCEPT else e for e in drop))
        for effect in drop:
            reduced = reduced.without(block.group, effect)
    return reduced, notes
