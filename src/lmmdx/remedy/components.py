"""Principal components of each grouping factor's random-effects covariance (like lme4's rePCA).

Bates, Kliegl, Vasishth & Baayen (2015), "Parsimonious mixed models": the number
of principal components of a random-effects covariance matrix with non-negligible
variance is the number of dimensions the data support; the others can be dropped.
The components are computed on the engine's standardised columns, so that the
verdict does not depend on the units of the covariates (lme4's rePCA uses the
raw columns; both agree on which components are exactly zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import formulaic
import numpy as np
import scipy.linalg

from ..result import Fit
from .structure import INTERCEPT, Structure

__all__ = ["PCA_UNSUPPORTED_SHARE", "FactorComponents", "pca_reduction", "principal_components"]

#: Trailing components that together carry less than this share of a factor's
#: random-effects variance are "not supported" (Bates et al. 2015 drop components
#: with essentially zero variance; lme4's summary(rePCA()) prints the cumulative
#: proportion to three decimals, so 0.5 % is where it starts to read 1.000).
PCA_UNSUPPORTED_SHARE = 0.005


@dataclass(frozen=True, slots=True)
class FactorComponents:
    """The principal components of one grouping factor's random effects.

    Attributes
    ----------
    group : str
    columns : tuple of str
        Random-effect columns of the factor, all its terms together (k of them).
    effects : tuple of str
        The formula effect each column belongs to (``"1"`` for the intercept).
    sdev : ndarray, shape (k,)
        Standard deviations of the components, relative to σ, decreasing.
    loadings : ndarray, shape (k, k)
        Column ``j`` is component ``j`` in the basis of ``columns``.
    """

    group: str
    columns: tuple[str, ...]
    effects: tuple[str, ...]
    sdev: np.ndarray
    loadings: np.ndarray

    @property
    def proportions(self) -> np.ndarray:
        """Share of the factor's variance carried by each component."""
        var = self.sdev**2
        total = float(var.sum())
        return var / total if total > 0 else np.zeros_like(var)

    @property
    def n_supported(self) -> int:
        """Components needed to reach ``1 − PCA_UNSUPPORTED_SHARE`` of the variance."""
        if not np.any(self.sdev > 0):
            return 0
        cumulative = np.cumsum(self.proportions)
        return int(np.searchsorted(cumulative, 1.0 - PCA_UNSUPPORTED_SHARE) + 1)

    def unsupported_effects(self) -> tuple[str, ...]:
        """Effects to drop so that no more dimensions remain than are supported.

        Effects are ranked by their squared loadings on the unsupported components;
        the intercept goes last (a factor keeps its intercept while it has a slope).
        """
        k = self.sdev.size
        drop_dims = k - self.n_supported
        if drop_dims <= 0:
            return ()
        unique = tuple(dict.fromkeys(self.effects))
        if self.n_supported == 0:
            return unique
        weight = np.sum(self.loadings[:, self.n_supported :] ** 2, axis=1)
        score = {
            e: float(sum(w for w, c in zip(weight, self.effects, strict=True) if c == e)) for e in unique
        }
        order = sorted(unique, key=lambda e: (e == INTERCEPT, -score[e]))
        dropped: list[str] = []
        dims = 0
        for effect in order:
            if dims >= drop_dims:
                break
            dropped.append(effect)
            dims += self.effects.count(effect)
        return tuple(dropped)


def _column_effects(fit: Fit, index: int) -> tuple[str, ...]:
    """The formula effect of each column of design block ``index``."""
    block = fit.model.design.blocks[index]
    effects = tuple(str(t) for t in formulaic.Formula(block.term.lhs.replace("^", "**")))
    if len(effects) == block.k:
        return effects
    design = fit.model.design
    frame = design.frame.loc[design.row_index] if design.frame.index.is_unique else design.frame
    spec = formulaic.model_matrix(block.term.lhs.replace("^", "**"), frame).model_spec
    out = [""] * block.k
    for term, columns in spec.term_indices.items():
        for c in columns:
            if c < block.k:
                out[c] = str(term)
    return tuple(out)


def principal_components(fit: Fit) -> tuple[FactorComponents, ...]:
    """Principal components of every grouping factor's random effects, in formula order of the factors."""
    design = fit.model.design
    factors = fit.model.deviance.layout.factors(fit.theta_internal)
    by_group: dict[str, list[int]] = {}
    for term in design.formula.random:
        by_group.setdefault(term.group_name, [])
    for i, block in enumerate(design.blocks):
        by_group.setdefault(block.group, []).append(i)
    out = []
    for group, indices in by_group.items():
        t = scipy.linalg.block_diag(*[factors[i] for i in indices])
        values, vectors = np.linalg.eigh(t @ t.T)
        order = np.argsort(values)[::-1]
        sdev = np.sqrt(np.maximum(values[order], 0.0))
        columns = tuple(c for i in indices for c in design.blocks[i].columns)
        effects = tuple(e for i in indices for e in _column_effects(fit, i))
        out.append(FactorComponents(group, columns, effects, sdev, vectors[:, order]))
    return tuple(out)


def pca_reduction(
    structure: Structure, components: tuple[FactorComponents, ...]
) -> tuple[Structure, list[str]]:
    """The structure without the effects the principal components say are unsupported.

    Returns
    -------
    Structure
        Possibly with no random-effects block left.
    list of str
        One line per grouping factor: components supported out of how many, and what is dropped.
    """
    notes = []
    reduced = structure
    for comp in components:
        k = comp.sdev.size
        shares = ", ".join(f"{100 * p:.1f}%" for p in comp.proportions)
        drop = comp.unsupported_effects()
        if not drop:
            notes.append(f"{comp.group}: all {k} dimensions supported (variance shares {shares})")
            continue
        names = ", ".join("(Intercept)" if e == INTERCEPT else e for e in drop)
        notes.append(
            f"{comp.group}: {comp.n_supported} of {k} dimensions supported (variance shares {shares}); "
            f"dropped {names}"
        )
        for effect in drop:
            reduced = reduced.without(comp.group, effect)
    return reduced, notes
