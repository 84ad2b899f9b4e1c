"""Which variance parameters a smaller model sets to the boundary, and the null distribution.

Random-effects structures are compared grouping factor by grouping factor. For
each term ``B`` (k random effects, unstructured covariance) of the larger model,
the smaller model's terms on the same factor must lie inside single terms of the
larger one. Then:

* nothing removed: no parameter;
* only covariances removed (``(x | g)`` → ``(x || g)``): interior, χ² with that df;
* one random effect removed with its k − 1 covariances (``(x | g)`` → ``(1 | g)``,
  or a scalar term dropped): the boundary mixture ½ χ²_{k−1} + ½ χ²_k
  (Self & Liang 1987, JASA 82; Stram & Lee 1994, Biometrics 50), shifted by any
  covariances removed among the remaining effects;
* two or more random effects removed from one term: the mixture weights depend on
  the information matrix and have no closed form; only the bootstrap is offered.

Independent pieces are combined by convolution (their χ² degrees add).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..design import Design
from ..errors import LmmdxError

__all__ = ["Mixture", "NotNested", "null_mixture"]


class NotNested(LmmdxError):
    """The two models are not nested."""


@dataclass(frozen=True, slots=True)
class Mixture:
    """The null distribution of the likelihood-ratio statistic.

    Attributes
    ----------
    components : tuple of (weight, df)
        A mixture of χ² distributions (df 0 is a point mass at 0); empty when no
        closed form is known.
    boundary : tuple of str
        The variance components the smaller model puts on the boundary.
    reason : str
        Why there is no closed form, when ``components`` is empty.
    """

    components: tuple[tuple[float, int], ...]
    boundary: tuple[str, ...]
    reason: str = ""


def _terms(design: Design) -> dict[str, list[tuple[str, ...]]]:
    out: dict[str, list[tuple[str, ...]]] = {}
    for block in design.blocks:
        out.setdefault(block.group, []).append(tuple(block.columns))
    return out


def _convolve(a: list[tuple[float, int]], b: list[tuple[float, int]]) -> list[tuple[float, int]]:
    merged: dict[int, float] = {}
    for wa, da in a:
        for wb, db in b:
            merged[da + db] = merged.get(da + db, 0.0) + wa * wb
    return sorted(((w, d) for d, w in merged.items()), key=lambda item: item[1])


def null_mixture(small: Design, large: Design, fixed_df: int) -> Mixture:
    """The χ̄² null distribution of the LRT of ``small`` against ``large``.

    Parameters
    ----------
    small, large : Design
    fixed_df : int
        Fixed-effect coefficients in ``large`` but not in ``small`` (interior).

    Raises
    ------
    NotNested
        When a term of ``small`` is not inside a term of ``large``.
    """
    s_terms, l_terms = _terms(small), _terms(large)
    mixture: list[tuple[float, int]] = [(1.0, fixed_df)]
    boundary: list[str] = []
    reason = ""
    for group, s_blocks in s_terms.items():
        if group not in l_terms:
            raise NotNested(f"the random effects of {group!r} in one model are not in the other")
    for group, l_blocks in l_terms.items():
        s_blocks = list(s_terms.get(group, []))
        for cols in l_blocks:
            inside = [s for s in s_blocks if set(s) <= set(cols)]
            for s in inside:
                s_blocks.remove(s)
            kept = {c for s in inside for c in s}
            removed = [c for c in cols if c not in kept]
            k = len(cols)
            cov_removed = k * (k - 1) // 2 - sum(len(s) * (len(s) - 1) // 2 for s in inside) - (
                (k - 1) if len(removed) == 1 else 0
            )
            if not removed:
                mixture = _convolve(mixture, [(1.0, cov_removed)])
            elif len(removed) == 1:
                boundary.append(f"{removed[0]}|{group}")
                part = [(0.5, k - 1 + cov_removed), (0.5, k + cov_removed)]
                mixture = _convolve(mixture, part)
            else:
                boundary.extend(f"{c}|{group}" for c in removed)
                reason = (f"{len(removed)} random effects of ({' + '.join(cols)} | {group}) are dropped together: "
                          "no closed-form chi-bar-square; use the bootstrap")
        if s_blocks:
            raise NotNested(
                f"the random term ({' + '.join(s_blocks[0])} | {group}) of the smaller model is not inside "
                "a term of the larger one"
            )
    if reason:
        return Mixture((), tuple(boundary), reason)
    return Mixture(tuple(mixture), tuple(boundary))
