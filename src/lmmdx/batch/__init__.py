"""Batch fitting: one formula, many responses (or one fit per level), with reasons aggregated."""

from .codes import basic_findings, boundary_parameters
from .run import BatchResult, fit_many
from .shared import SharedDesign
from .summary import BatchSummary, summarise

__all__ = ["BatchResult", "BatchSummary", "SharedDesign", "basic_findings", "boundary_parameters", "fit_many",
           "summarise"]
