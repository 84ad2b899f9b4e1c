"""The invariance self-test: refit a model written differently and report the spread as a finding.

:func:`check_invariance` refits the model of a :class:`~lmmdx.result.Fit` under
each applicable :class:`~lmmdx.invariance.variants.Variant` (rows permuted,
random terms and the columns inside them reordered, covariates rescaled and
sign-flipped, grouping levels relabelled, reference levels changed), maps every
estimate back onto the original parametrisation and measures how far each one
moved. The result is an :class:`InvarianceCheck`, whose :attr:`~InvarianceCheck.finding`
is None when everything agrees to :data:`AGREEMENT_TOLERANCE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..design import build_design
from ..errors import LmmdxError
from ..finding import Finding, Remedy
from ..fitting import fit_design
from ..result import Fit
from .compare import OBJECTIVE, estimates, is_correlation, map_onto, relative_difference
from .variants import Variant, variants

__all__ = [
    "AGREEMENT_TOLERANCE",
    "ESTIMATE_TOLERANCE",
    "OBJECTIVE_TOLERANCE",
    "InvarianceCheck",
    "VariantOutcome",
    "check_invariance",
]

#: No finding when the objective and every estimate agree to this (relative; issue 7).
AGREEMENT_TOLERANCE = 1e-7
#: Objectives further apart than this (relative) are different optima (issue 7).
OBJECTIVE_TOLERANCE = 1e-7
#: Estimates further apart than this (relative; correlations on their [-1, 1] scale) differ in
#: the 4 significant digits a summary prints: they are weakly determined (a warning). Below it
#: the spread is the precision of a derivative-free optimum (an info finding at most).
ESTIMATE_TOLERANCE = 1e-3


@dataclass(frozen=True, slots=True)
class VariantOutcome:
    """How one re-written refit compares with the original fit.

    Attributes
    ----------
    name, description : str
        The variant (see :class:`~lmmdx.invariance.variants.Variant`).
    objective : float or None
        The refit's criterion on the original's scale (None if not compared).
    objective_difference : float
        ``|objective − original| / |original|`` (0 if not compared).
    estimate_difference : float
        Largest relative difference of a mapped estimate (0 if not compared).
    worst : str or None
        The estimate that moved most.
    differences : dict of str to float
        Relative difference of every estimate.
    note : str or None
        The refit's one-line error, or why it could not be compared.
    failed : bool
        The refit raised an error although the original fit did not.
    """

    name: str
    description: str
    objective: float | None
    objective_difference: float
    estimate_difference: float
    worst: str | None
    differences: dict[str, float]
    note: str | None = None
    failed: bool = False

    @property
    def compared(self) -> bool:
        """Whether the refit was fitted and mapped back."""
        return self.objective is not None


@dataclass(frozen=True, slots=True)
class InvarianceCheck:
    """The outcome of :func:`check_invariance`.

    Attributes
    ----------
    formula : str
    reml : bool
    objective : float
        The original fit's criterion.
    outcomes : tuple of VariantOutcome
    """

    formula: str
    reml: bool
    objective: float
    outcomes: tuple[VariantOutcome, ...]

    @property
    def tolerance(self) -> float:
        """:data:`AGREEMENT_TOLERANCE`: no finding when everything agrees to this."""
        return AGREEMENT_TOLERANCE

    @property
    def compared(self) -> tuple[VariantOutcome, ...]:
        """Outcomes whose refit was fitted and mapped back."""
        return tuple(o for o in self.outcomes if o.compared)

    @property
    def objective_spread(self) -> float:
        """Largest relative difference of the objective over the variants."""
        return max((o.objective_difference for o in self.compared), default=0.0)

    @property
    def estimate_spread(self) -> float:
        """Largest relative difference of any mapped estimate over the variants."""
        return max((o.estimate_difference for o in self.compared), default=0.0)

    @property
    def worst_parameter(self) -> str | None:
        """The estimate with the largest relative difference."""
        worst = max(self.compared, key=lambda o: o.estimate_difference, default=None)
        return None if worst is None else worst.worst

    @property
    def failures(self) -> tuple[VariantOutcome, ...]:
        """Variants whose refit raised an error."""
        return tuple(o for o in self.outcomes if o.failed)

    @property
    def agrees(self) -> bool:
        """Everything agrees to :data:`AGREEMENT_TOLERANCE` and no refit failed."""
        return (
            not self.failures
            and self.objective_spread <= AGREEMENT_TOLERANCE
            and self.estimate_spread <= AGREEMENT_TOLERANCE
        )

    @property
    def finding(self) -> Finding | None:
        """The spread as a finding (code ``"invariance"``); None when everything agrees."""
        return None if self.agrees else _finding(self)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """:attr:`finding` as a tuple (empty when everything agrees)."""
        finding = self.finding
        return () if finding is None else (finding,)

    def to_dict(self) -> dict[str, Any]:
        """Plain values: the ``--json`` form of ``lmmdx check-invariance``."""
        from ..report.invariance import invariance_payload

        return invariance_payload(self)

    def summary(self) -> str:
        """A table of the variants and the finding, as text."""
        from ..report.invariance import invariance_summary

        return invariance_summary(self)


def _positions(fit: Fit) -> tuple[np.ndarray, bool]:
    """Positions of the fit's rows in its source frame, and whether they are exact."""
    frame, rows = fit.model.design.frame, fit.model.design.row_index
    if frame.index.is_unique:
        return np.asarray(frame.index.get_indexer(rows), dtype=np.int64), True
    return np.arange(rows.size, dtype=np.int64), False


def _outcome(reference: Fit, ref_estimates: dict[str, float], positions: np.ndarray,
             variant: Variant) -> VariantOutcome:
    try:
        design = build_design(variant.formula, variant.frame)
        refit = fit_design(design, reml=reference.reml, optimizer=reference.optimizer.optimizer)
    except LmmdxError as exc:
        return VariantOutcome(variant.name, variant.description, None, 0.0, 0.0, None, {}, str(exc), True)
    mapped = map_onto(reference, positions, refit, np.asarray(design.row_index, dtype=np.int64))
    if mapped.reason is not None:
        return VariantOutcome(variant.name, variant.description, None, 0.0, 0.0, None, {}, mapped.reason)
    diffs = {
        key: relative_difference(value, mapped.values[key], 1.0 if is_correlation(key) else 0.0)
        for key, value in ref_estimates.items()
    }
    objective_diff = diffs.pop(OBJECTIVE)
    worst = max(diffs, key=lambda k: diffs[k], default=None)
    return VariantOutcome(
        variant.name,
        variant.description,
        mapped.values[OBJECTIVE],
        objective_diff,
        diffs[worst] if worst is not None else 0.0,
        worst,
        diffs,
    )


def check_invariance(fit: Fit, seed: int = 0) -> InvarianceCheck:
    """Refit ``fit``'s model written in other ways and compare every mapped estimate.

    Parameters
    ----------
    fit : Fit
    seed : int
        Seed of the row permutation and of the relabelling of grouping levels.

    Returns
    -------
    InvarianceCheck
        Its ``finding`` is None when the objective and every estimate agree to
        :data:`AGREEMENT_TOLERANCE` (relative) under every re-writing.
    """
    positions, exact = _positions(fit)
    reference = fit
    if not exact:
        # Duplicate row labels: refit on positional labels so rows can be aligned.
        frame = fit.model.design.frame.reset_index(drop=True)
        reference = fit_design(build_design(fit.model.design.formula, frame), reml=fit.reml,
                               optimizer=fit.optimizer.optimizer)
        positions = np.asarray(reference.model.design.row_index, dtype=np.int64)
    ref_estimates = estimates(reference)
    outcomes = tuple(
        _outcome(reference, ref_estimates, positions, variant)
        for variant in variants(reference.model.design, seed)
    )
    return InvarianceCheck(fit.formula, fit.reml, reference.objective, outcomes)


def _finding(check: InvarianceCheck) -> Finding:
    compared = check.compared
    tolerance = check.objective * OBJECTIVE_TOLERANCE
    better = [o for o in compared if o.objective is not None and o.objective < check.objective - abs(tolerance)]
    worse = [o for o in compared if o.objective_difference > OBJECTIVE_TOLERANCE and o not in better]
    moved: dict[str, float] = {}
    for o in compared:
        for key, diff in o.differences.items():
            if diff > ESTIMATE_TOLERANCE:
                moved[key] = max(diff, moved.get(key, 0.0))
    fragile = sorted(moved, key=lambda k: -moved[k])
    evidence = {
        "objective": check.objective,
        "objective_spread": check.objective_spread,
        "estimate_spread": check.estimate_spread,
        "worst_parameter": check.worst_parameter,
        "variants": {
            o.name: {
                "description": o.description,
                "objective": o.objective,
                "objective_difference": o.objective_difference,
                "estimate_difference": o.estimate_difference,
                "worst": o.worst,
                "note": o.note,
            }
            for o in check.outcomes
        },
    }
    if better:
        best = min(better, key=lambda o: o.objective if o.objective is not None else np.inf)
        return Finding(
            "invariance", "error", tuple(fragile or [best.worst or OBJECTIVE]), evidence,
            f"Written differently ({best.description}) the model reaches a lower criterion "
            f"({best.objective:.6f} < {check.objective:.6f}): this fit is not at the optimum, and its "
            f"estimates are off by up to {best.estimate_difference:.1e} relative.",
            (Remedy("rewrite", None, f"refit the model written as in variant '{best.name}' ({best.description}) "
                    "and report that optimum"),
             Remedy("other_optimizer", None, "refit with another optimizer (e.g. optimizer='nelder_mead') and "
                    "keep the lowest criterion"),
             Remedy("drop_term", None, "if the fit is singular, simplify the random-effects terms named here")),
        )
    failed = check.failures
    if worse or failed or fragile:
        parts = []
        if worse:
            first = max(worse, key=lambda o: o.objective_difference)
            parts.append(f"written differently ({first.description}) the optimiser stopped at a worse criterion "
                         f"({first.objective:.6f} vs {check.objective:.6f}); this fit is the best found")
        if failed:
            parts.append(f"the refit with {failed[0].description} failed: {failed[0].note}")
        if fragile and not worse:
            parts.append(f"the criterion agrees to {check.objective_spread:.1e} but {', '.join(fragile)} "
                         f"moved by up to {check.estimate_spread:.1e} relative: the criterion is flat there, "
                         "so these estimates are weakly determined")
        explanation = "; ".join(parts)
        return Finding(
            "invariance", "warning", tuple(fragile or [p.name for p in failed]), evidence,
            explanation[0].upper() + explanation[1:] + ".",
            (Remedy("other_optimizer", None, "confirm the optimum with another optimizer (e.g. "
                    "optimizer='nelder_mead')"),
             Remedy("profile_intervals", None, "report weakly determined estimates with profile intervals, or "
                    "simplify the terms involving them")),
        )
    names = ", ".join(o.name for o in compared)
    return Finding(
        "invariance", "info", (), evidence,
        f"The optimum does not depend on how the data are written: over {len(compared)} re-writings "
        f"({names}) the criterion agrees to {check.objective_spread:.1e} and the estimates to "
        f"{check.estimate_spread:.1e} relative, the precision of a derivative-free optimum.",
        (),
    )
