"""Variance shares of the principal components of each random term (lme4's ``rePCA``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .canvas import BASE, MUTED, new_figure, styled

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ...diagnose.dimensions import TermPCA

__all__ = ["CAPTION", "draw_pca", "pca_figure", "vector_terms"]

CAPTION = ("How each random term's variance splits over its principal components: a component with a share near "
           "0 is a dimension of the covariance the data do not support (lme4's rePCA, in blue; grey, the same for "
           "the correlation matrix, which does not depend on the covariates' units).")


def draw_pca(ax: Axes, component: TermPCA) -> None:
    """Bars of lme4's shares and, beside them, the correlation matrix's."""
    k = component.sdev.size
    at = np.arange(1, k + 1)
    ax.bar(at - 0.18, component.variance_shares, width=0.36, color=BASE)
    ax.bar(at + 0.18, component.proportions, width=0.36, color=MUTED)
    ax.set_xticks(at, [f"PC{i}" for i in at])
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{component.term}: {component.supported} of {k} supported", loc="left")


def vector_terms(components: Sequence[TermPCA]) -> list[TermPCA]:
    """The terms with more than one random effect (a single effect has one component, all of the variance)."""
    return [c for c in components if c.sdev.size > 1]


@styled
def pca_figure(components: Sequence[TermPCA]) -> Figure:
    """One bar chart per term with several random effects (shares in decreasing order)."""
    terms = vector_terms(components)
    if not terms:
        raise ValueError("every random term has a single effect, so there are no components to compare")
    ncols = min(len(terms), 3)
    nrows = math.ceil(len(terms) / ncols)
    fig = new_figure(max(2.8 * ncols, 4.0), 2.3 * nrows + 0.6)
    for i, component in enumerate(terms):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        draw_pca(ax, component)
        if i == 0:
            ax.set_ylabel("share of variance")
    fig.legend(handles=fig.axes[0].containers, labels=["rePCA (lme4)", "correlation matrix"],
               loc="outside lower center", ncols=2)
    return fig
