"""Refits of candidate structures on exactly the rows of the original fit, each fitted once.

Candidate models use fewer columns than the original, so dropping rows with
missing values afresh could keep more rows and make likelihoods incomparable; all
refits use the original fit's rows. A :class:`FitCache` is shared by the
strategies (which often propose the same model) and by their threads.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..design import Design, build_design
from ..errors import LmmdxError
from ..fitting import fit_design
from ..formula import parse_formula
from ..result import Fit, GlmmFit
from .structure import Structure

__all__ = ["RESPONSE_COLUMN", "FitCache", "Refit", "analysis_frame", "feasible"]


#: Column that carries the fit's response when the data frame does not (a fit whose
#: response was replaced, e.g. in a simulation, or a response expression).
RESPONSE_COLUMN = "lmmdx_response"


def analysis_frame(design: Design) -> tuple[pd.DataFrame, str | None]:
    """The rows the original fit used, with its response.

    Returns
    -------
    frame : DataFrame
    response : str or None
        The column to use as the response in refits, when it is not the formula's own
        (the design's response differs from the frame's column: the fit was made with
        another response, or the response is an expression).
    """
    frame = design.frame
    if frame.index.is_unique:
        rows = frame.loc[design.row_index]
    else:  # the same rows, found by position, keeping their labels (refits then have the same row_index)
        positions = build_design(
            design.formula, frame.reset_index(drop=True), check_identifiable=False, family=design.family
        ).row_index
        rows = frame.iloc[positions]
    if design.family is not None:  # a GLMM's response (cbind, a factor) is read again from its columns
        return rows, None
    name = design.formula.response_column
    response = design.response
    if name is not None and name in rows.columns and pd.api.types.is_numeric_dtype(rows[name].dtype) and \
            np.array_equal(rows[name].to_numpy(dtype=np.float64), response):
        return rows, None
    alias = RESPONSE_COLUMN
    while alias in rows.columns:
        alias += "_"
    return rows.assign(**{alias: response}), alias


@dataclass(frozen=True, slots=True)
class Refit:
    """A structure and its fit (or the one-line reason it could not be fitted).

    Attributes
    ----------
    structure : Structure
    fit : Fit or None
    error : str or None
    """

    structure: Structure
    fit: Fit | None
    error: str | None = None


def feasible(refit: Refit) -> bool:
    """Fitted, converged and not singular (Barr et al. 2013's "converges")."""
    return refit.fit is not None and refit.fit.converged and not refit.fit.singular


class FitCache:
    """Fits structures on the original rows; each distinct model is fitted once, thread-safely.

    Parameters
    ----------
    original : Fit
        The user's fit: its rows, criterion (REML or ML) and fit are reused.
    """

    def __init__(self, original: Fit) -> None:
        self.original = original
        self.reml = original.reml
        self.frame, self.response = analysis_frame(original.model.design)
        self._lock = threading.Lock()
        self._futures: dict[tuple[object, ...], Future[Refit]] = {}

    def seed(self, structure: Structure, fit: Fit) -> None:
        """Record an existing fit of ``structure``."""
        future: Future[Refit] = Future()
        future.set_result(Refit(structure, fit))
        with self._lock:
            self._futures.setdefault(structure.key, future)

    def fit(self, structure: Structure) -> Refit:
        """The fit of ``structure`` (computed now, or by whichever thread asked first)."""
        with self._lock:
            future = self._futures.get(structure.key)
            owner = future is None
            if owner:
                future = Future()
                self._futures[structure.key] = future
        assert future is not None
        if owner:
            future.set_result(self._compute(structure))
        return future.result()

    def _compute(self, structure: Structure) -> Refit:
        if not structure.blocks:
            return Refit(structure, None, "no random-effects term is left")
        try:
            formula = (
                structure.formula
                if self.response is None
                else replace(structure, response=self.response).formula
            )
            original = self.original
            if isinstance(original, GlmmFit):  # a GLMM: the same family, link and (when it still applies) nAGQ
                from ..glmm_fitting import fit_glmm_design

                design = build_design(parse_formula(formula), self.frame, family=original.family)
                scalar = len(design.blocks) == 1 and design.blocks[0].k == 1
                nagq = original.nagq if scalar else 1
                return Refit(structure, fit_glmm_design(design, link=original.link, nagq=nagq))
            design = build_design(parse_formula(formula), self.frame)
            return Refit(structure, fit_design(design, reml=self.reml))
        except LmmdxError as exc:
            return Refit(structure, None, str(exc))

    @property
    def nfits(self) -> int:
        """Distinct models fitted or recorded so far."""
        with self._lock:
            return len(self._futures)
