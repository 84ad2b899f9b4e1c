"""Grouping factors: one column, or an interaction ``a:b``, as integer codes.

Grouping variables are always treated as categorical, whatever their dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["GroupingFactor", "grouping_factor"]


@dataclass(frozen=True, slots=True)
class GroupingFactor:
    """Integer codes of a grouping factor.

    Attributes
    ----------
    name : str
        ``"g"`` or ``"a:b"``.
    codes : ndarray of int64, shape (n,)
        Level index of each row, in ``0 .. nlevels - 1``.
    levels : tuple of str
        Level labels in code order (sorted, interaction labels joined by ``:``).
    """

    name: str
    codes: np.ndarray
    levels: tuple[str, ...]

    @property
    def nlevels(self) -> int:
        """Number of levels observed in the data."""
        return len(self.levels)


def _column_codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and sorted labels of one column; mixed types are compared as text.

    Factorised unsorted (cheaper), then the few levels are sorted and the codes renumbered.
    """
    values = column
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iufb":  # numpy numbers: no pandas overhead
        values = column.to_numpy()
    elif isinstance(column.dtype, pd.CategoricalDtype):
        values = column.astype(str)
    try:
        codes, uniques = pd.factorize(values)
        order = np.argsort(np.asarray(uniques), kind="stable")
    except TypeError:
        codes, uniques = pd.factorize(values.astype(str))
        order = np.argsort(np.asarray(uniques), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    labels = [str(u) for u in np.asarray(uniques)[order]]
    return rank[codes].astype(np.int64), labels


def grouping_factor(frame: pd.DataFrame, names: tuple[str, ...]) -> GroupingFactor:
    """Build the grouping factor named by ``names`` (one name, or several for ``a:b``).

    Parameters
    ----------
    frame : DataFrame
        Rows already cleaned of missing values.
    names : tuple of str
        Column names; several are combined into their observed interaction.
    """
    codes, labels = _column_codes(frame[names[0]])
    label_parts = [labels]
    for name in names[1:]:
        more, more_labels = _column_codes(frame[name])
        codes = codes * len(more_labels) + more
        label_parts.append(more_labels)
    if len(names) == 1:
        return GroupingFactor(names[0], codes, tuple(labels))
    observed, codes = np.unique(codes, return_inverse=True)
    sizes = [len(p) for p in label_parts]
    parts = np.unravel_index(observed, sizes)
    level_labels = tuple(
        ":".join(label_parts[i][parts[i][j]] for i in range(len(names))) for j in range(observed.size)
    )
    return GroupingFactor(":".join(names), codes.astype(np.int64), level_labels)
