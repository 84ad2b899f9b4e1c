"""What the checks read: the design, the fit and the analyses of it, each computed once on demand."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ..design import Design
from ..result import Fit
from .agreement import Agreement, agreement, optimizer_runs
from .dimensions import DimensionTest, TermPCA, drop_effect, term_pca, weakest_dimension
from .hat import effective_df
from .information import Information, observed_information
from .profiled import ProfiledDerivatives, profiled_derivatives
from .remedies import FormulaEditor
from .support import data_support
from .tables import FactorSupport, OptimizerRun

__all__ = ["Context"]


class Context:
    """The inputs of the checks; the analyses are cached properties.

    Parameters
    ----------
    design : Design
    fit : Fit or None
        None when the model could not be fitted (``fit_error`` says why).
    reml : bool
    fit_error : str or None
    optimizers : tuple of str or None
        Optimisers of the agreement check (None: all registered; ``()``: skip the check).
    parallel : bool or None
        Threads for the agreement check (None: decided from the cost of an evaluation).
    """

    def __init__(self, design: Design, fit: Fit | None, reml: bool, fit_error: str | None = None,
                 optimizers: tuple[str, ...] | None = None, parallel: bool | None = None) -> None:
        self.design = design
        self.fit = fit
        self.reml = reml
        self.fit_error = fit_error
        self.optimizers = optimizers
        self.parallel = parallel
        self.editor = FormulaEditor(design)

    @cached_property
    def information(self) -> Information | None:
        """Observed information of the variance–covariance parameters (None without a fit)."""
        if self.fit is None:
            return None
        return observed_information(self.fit)

    @cached_property
    def profiled(self) -> ProfiledDerivatives | None:
        """Derivatives of the profiled criterion over θ."""
        return None if self.fit is None else profiled_derivatives(self.fit)

    @cached_property
    def runs(self) -> tuple[OptimizerRun, ...]:
        """The fit and its refits with other optimisers and starts."""
        if self.fit is None or self.optimizers == ():
            return ()
        return optimizer_runs(self.fit, self.optimizers, self.parallel)

    @cached_property
    def agreement(self) -> Agreement:
        """Which runs reach the best criterion, and the spreads of criteria and estimates."""
        return agreement(self.runs)

    @cached_property
    def support(self) -> tuple[FactorSupport, ...]:
        """The data-support table."""
        return data_support(self.design, self.fit)

    @cached_property
    def effective_df(self) -> float | None:
        """Trace of the hat matrix (None without a fit or when it cannot be computed)."""
        if self.fit is None:
            return None
        try:
            value = effective_df(self.fit.model, self.fit.theta_internal)
        except np.linalg.LinAlgError:
            return None
        return value if np.isfinite(value) else None

    @cached_property
    def pca(self) -> tuple[TermPCA, ...]:
        """Principal components of each term's covariance."""
        if self.fit is None:
            return ()
        return tuple(term_pca(self.fit, i) for i in range(len(self.design.blocks)))

    def dimension_test(self, block: int) -> DimensionTest | None:
        """Likelihood-ratio test of the weakest dimension of a term (cached per term)."""
        if self.fit is None:
            return None
        cache = self.__dict__.setdefault("_dimension_tests", {})
        if block not in cache:
            cache[block] = weakest_dimension(self.fit, block)
        return cache[block]

    def effect_test(self, block: int, column: int) -> DimensionTest | None:
        """Likelihood-ratio test of one random effect of a term (cached)."""
        if self.fit is None:
            return None
        cache = self.__dict__.setdefault("_effect_tests", {})
        if (block, column) not in cache:
            cache[(block, column)] = drop_effect(self.fit, block, column)
        return cache[(block, column)]

    def block_name(self, block: int) -> str:
        """A term as the user wrote it, e.g. ``(1 + x | group)``."""
        return self.design.blocks[block].term.text
