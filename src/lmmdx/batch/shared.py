"""One design, many responses: the cross-products that do not involve y are computed once.

:meth:`Model.with_response` rebuilds every block for a new response. Here a
template :class:`~lmmdx.model.Model` supplies the scaled columns and every block
that does not involve y (``Z₁ᵀZ₁``, the rows of ``RᵀZ₁`` and of ``RᵀR`` that are
not y's), so a response costs only ``Xᵀy``, ``Zᵀy`` and ``yᵀy`` (one pass over
its values) and the optimisation. The response scale follows the rule of
:meth:`Model.with_response` (y divided by its root mean square), so both paths
give the same blocks (tested).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..engine import Blocks, ProfiledDeviance, TermData
from ..engine.scaling import Scaling
from ..model import Model, engine_terms

__all__ = ["SharedDesign"]


def _level_sums(codes: np.ndarray, values: np.ndarray, y: np.ndarray, nlevels: int) -> np.ndarray:
    """``Σ_{i in level j} y_i values[i, c]``, flattened level-major: shape (nlevels · k,)."""
    k = values.shape[1]
    out = np.empty((nlevels, k))
    for c in range(k):
        out[:, c] = np.bincount(codes, weights=y * values[:, c], minlength=nlevels)
    return out.ravel()


@dataclass(frozen=True, slots=True)
class SharedDesign:
    """A template model whose design is shared by many responses.

    Attributes
    ----------
    template : Model
        Built once from the design (its own response is a placeholder).
    x_scaled : ndarray, shape (n, p)
        ``X A``, the internally scaled fixed-effects columns.
    terms : tuple of TermData
        The engine's random-effects blocks (``Zᵢ Bᵢ`` and codes; terms on one factor are one block).
    head_indptr, head_indices, head_data : ndarray
        CSC arrays of the rows of ``RᵀZ₁`` that do not involve y (all but the last),
        shape (m − 1, ℓ₁k₁).
    """

    template: Model
    x_scaled: np.ndarray
    terms: tuple[TermData, ...]
    head_indptr: np.ndarray
    head_indices: np.ndarray
    head_data: np.ndarray

    @classmethod
    def from_model(cls, model: Model) -> SharedDesign:
        """Precompute the scaled columns and the y-free part of ``RᵀZ₁``."""
        scaling = model.scaling
        x_scaled = np.ascontiguousarray(model.design.X @ scaling.x_transform)
        terms = tuple(engine_terms(model.design, scaling))
        a21 = sp.csr_array(model.blocks.a21)
        head = sp.csc_array(a21[: a21.shape[0] - 1])
        head.sort_indices()
        return cls(model, x_scaled, terms, head.indptr.astype(np.int64), head.indices.astype(np.int64),
                   head.data.copy())

    def _a21(self, y_row: np.ndarray) -> sp.csc_array:
        """``RᵀZ₁`` with ``y_row`` as its last row (every column gets one more entry)."""
        m = self.template.blocks.a21.shape[0]
        ends = self.head_indptr[1:]
        indices = np.insert(self.head_indices, ends, m - 1)
        data = np.insert(self.head_data, ends, y_row)
        indptr = self.head_indptr + np.arange(self.head_indptr.size)
        return sp.csc_array((data, indices, indptr), shape=(m, y_row.size))

    @property
    def nobs(self) -> int:
        """Rows of the design."""
        return self.template.blocks.n

    def blocks_for(self, y: np.ndarray) -> tuple[float, Blocks]:
        """The response scale and the :class:`Blocks` of the design with response ``y``.

        Parameters
        ----------
        y : ndarray, shape (n,)
            Finite, in the design's row order.
        """
        template = self.template
        blocks = template.blocks
        rms = float(np.sqrt(np.mean(y * y)))
        y_scale = rms if rms > 0 and np.isfinite(rms) else 1.0
        y_int = y / y_scale
        first = self.terms[0]
        y_row = _level_sums(first.codes, first.values, y_int, first.nlevels)
        a21 = self._a21(y_row)
        rest = [_level_sums(term.codes, term.values, y_int, term.nlevels) for term in self.terms[1:]]
        cross = np.concatenate([*rest, self.x_scaled.T @ y_int, [y_int @ y_int]])
        a22 = blocks.a22.copy()
        a22[-1, :] = cross
        a22[:, -1] = cross
        return y_scale, replace(blocks, a21=a21, a22=a22)

    def model_for(self, y: np.ndarray) -> Model:
        """A :class:`Model` of the shared design with response ``y`` (same as ``with_response``)."""
        y = np.asarray(y, dtype=np.float64)
        if y.shape != (self.nobs,):
            raise ValueError(f"a response of {self.nobs} values is needed, got shape {y.shape}")
        y_scale, blocks = self.blocks_for(y)
        template = self.template
        scaling = Scaling(y_scale, template.scaling.x_transform, template.scaling.z_transforms)
        return Model(replace(template.design, y=y), scaling, blocks, ProfiledDeviance(blocks))
