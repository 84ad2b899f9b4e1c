"""Penalised iteratively reweighted least squares (PIRLS): the conditional modes of a GLMM at θ.

Each PIRLS iteration solves the penalised weighted least-squares problem

    min over (u, β):  ‖W^½ (z − ZΛu − Xβ)‖² + ‖u‖²          (or over u alone, β given)

whose matrix ``[ΛᵀZᵀWZΛ + I, ΛᵀZᵀWX; XᵀWZΛ, XᵀWX]`` has the same blocked structure as the
linear model's (:mod:`lmmdx.engine.deviance`): the term with most levels is block diagonal and is
eliminated level by level, and what remains (the other terms' random effects, X and the working
response, of order ``m``) is factored densely by LAPACK. Only the weights change between
iterations, so :class:`WeightedSystem` works out once where every row's products land (the
non-zero pattern) and each iteration only adds the weighted products up (``np.bincount``);
``ZΛ`` keeps Z's pattern, so θ enters by transforming each row's few values.

References: Bates, Mächler, Bolker & Walker (2015), JSS 67(1), section 5 ("generalized
linear mixed models"); the PIRLS loop with step halving follows lme4's ``pwrssUpdate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from .crossprod import TermData
from .family import Family, Observed
from .theta import ThetaLayout

__all__ = ["PirlsFailure", "PirlsResult", "ThetaState", "WeightedSystem", "pirls", "pirls_lme4"]

#: PIRLS stops when the largest change of the linear predictor in an iteration is below this
#: (the mode is then exact to about its square: the criterion is stationary in u).
ETA_TOLERANCE = 1e-9
#: ... or when the penalised deviance changes by less than this, relative.
PDEV_TOLERANCE = 1e-13
MAX_ITERATIONS = 100
MAX_HALVINGS = 30
#: A step may raise the penalised deviance by this much (relative) as rounding noise near the mode.
_ROUNDING = 1e-12
#: Sums by level of at most this many columns are done with np.bincount (else sorted reduceat).
_BINCOUNT_COLUMNS = 12
#: Above this many cells (other terms' effects × first-term effects), RᵀZ₁ is kept sparse.
_DENSE_A21 = 20_000


class PirlsFailure(ArithmeticError):
    """PIRLS could not find the conditional modes (non-finite deviance, failed step halving)."""


@dataclass(frozen=True, slots=True)
class ThetaState:
    """What a θ fixes for every PIRLS iteration: the rows of ZΛ and the first term's factor."""

    theta: np.ndarray
    factors: list[np.ndarray]
    vl: np.ndarray


@dataclass(frozen=True, slots=True)
class Step:
    """One solved penalised weighted least-squares problem."""

    u: np.ndarray
    beta: np.ndarray | None
    logdet_u: float
    lx: np.ndarray | None
    d1: np.ndarray


class WeightedSystem:
    """The pattern of ``[ZΛ, X]``'s weighted cross-products, built once per design.

    Parameters
    ----------
    terms : sequence of TermData
        Random-effects terms in engine order (the first has most levels).
    X : ndarray, shape (n, p)
    """

    def __init__(self, terms: Sequence[TermData], X: np.ndarray) -> None:
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.n, self.p = self.X.shape
        self.sizes = tuple(int(t.values.shape[1]) for t in terms)
        self.levels = tuple(int(t.nlevels) for t in terms)
        self.layout = ThetaLayout(self.sizes)
        self.V = np.ascontiguousarray(np.column_stack([t.values for t in terms]), dtype=np.float64)
        self.codes = [np.asarray(t.codes, dtype=np.int64) for t in terms]
        k1, l1 = self.sizes[0], self.levels[0]
        self.k1, self.l1, self.q1 = k1, l1, k1 * l1
        starts = np.concatenate([[0], np.cumsum([k * lv for k, lv in zip(self.sizes, self.levels, strict=True)])])
        self.q = int(starts[-1])
        self.qr = self.q - self.q1
        # slot s of row i: the global column of u it multiplies, and its term
        slot_cols, slot_terms, slot_start = [], [], [0]
        for t, (k, codes) in enumerate(zip(self.sizes, self.codes, strict=True)):
            for a in range(k):
                slot_cols.append(starts[t] + codes * k + a)
                slot_terms.append(t)
            slot_start.append(slot_start[-1] + k)
        self.slot_start = slot_start
        cols = np.column_stack(slot_cols)  # (n, K)
        self.cols = cols
        K = cols.shape[1]
        # products of slots a ≤ b: where they land
        pairs_a, pairs_b = np.triu_indices(K)
        first_a, first_b = [], []
        self._d1_index = []
        self._a21_pairs: list[tuple[int, int]] = []
        self._a22_pairs: list[tuple[int, int]] = []
        idx21, idx22 = [], []
        for a, b in zip(pairs_a.tolist(), pairs_b.tolist(), strict=True):
            ta, tb = slot_terms[a], slot_terms[b]
            if ta == 0 and tb == 0:
                first_a.append(a)
                first_b.append(b)
                self._d1_index.append(self.codes[0] * k1 * k1 + a * k1 + b)
            elif ta == 0:  # b in the rest: a21[b_col - q1, a_col]
                self._a21_pairs.append((b, a))
                idx21.append((cols[:, b] - self.q1) * self.q1 + cols[:, a])
            else:
                self._a22_pairs.append((a, b))
                idx22.append((cols[:, a] - self.q1) * self.qr + (cols[:, b] - self.q1))
        self._d1_pairs = list(zip(first_a, first_b, strict=True))
        self._d1_index_all = np.concatenate(self._d1_index)
        self._idx21 = np.concatenate(idx21) if idx21 else np.zeros(0, dtype=np.int64)
        self._idx22 = np.concatenate(idx22) if idx22 else np.zeros(0, dtype=np.int64)
        self._sym22 = any(a != b for a, b in self._a22_pairs)
        # RᵀZ₁ of the other terms: sparse (a fixed pattern) when large and a scalar first term
        self._sparse21 = k1 == 1 and self.qr * self.q1 > _DENSE_A21 and self._idx21.size > 0
        if self._sparse21:
            cells, inverse = np.unique(self._idx21, return_inverse=True)
            self._cells21 = inverse
            cell_rows, cell_cols = np.divmod(cells, self.q1)
            self._a21_indices = cell_cols
            self._a21_indptr = np.concatenate([[0], np.cumsum(np.bincount(cell_rows, minlength=self.qr))])
            self._a21_nnz = cells.size
        self.eye_rest = np.arange(self.qr)
        # Zᵀ times a matrix: rows sorted by level, summed by np.add.reduceat (every level occurs)
        self._orders, self._starts = [], []
        for codes, nlev in zip(self.codes, self.levels, strict=True):
            order = np.argsort(codes, kind="stable")
            counts = np.bincount(codes, minlength=nlev)
            self._orders.append(order)
            self._starts.append(np.concatenate([[0], np.cumsum(counts)[:-1]]))

    # -- per θ -------------------------------------------------------------------------------
    def at_theta(self, theta: np.ndarray) -> ThetaState:
        """Rows of ZΛ (each row's values times its term's factor) for θ."""
        theta = np.asarray(theta, dtype=np.float64)
        factors = self.layout.factors(theta)
        vl = np.empty_like(self.V)
        for t, tf in enumerate(factors):
            lo, hi = self.slot_start[t], self.slot_start[t + 1]
            vl[:, lo:hi] = self.V[:, lo:hi] @ tf if hi - lo > 1 else self.V[:, lo:hi] * tf[0, 0]
        return ThetaState(theta, factors, vl)

    def zt_times(self, state: ThetaState, wd: np.ndarray, first: bool) -> np.ndarray:
        """``(ZΛ)ᵀ wd`` for the first term (first) or the other terms, shape (q₁ or q_rest, c)."""
        vl = state.vl
        parts: list[np.ndarray] = []
        terms = [0] if first else range(1, len(self.sizes))
        for t in terms:
            k, nlev = self.sizes[t], self.levels[t]
            if k == 1 and wd.shape[1] <= _BINCOUNT_COLUMNS:  # a few sums by level: bincount is fastest
                v = vl[:, self.slot_start[t]]
                parts.append(np.column_stack([np.bincount(self.codes[t], v * wd[:, j], minlength=nlev)
                                              for j in range(wd.shape[1])]))
                continue
            order, starts = self._orders[t], self._starts[t]
            out = np.empty((nlev, k, wd.shape[1]))
            for a in range(k):
                s = self.slot_start[t] + a
                out[:, a, :] = np.add.reduceat((vl[:, s, None] * wd)[order], starts, axis=0)
            parts.append(out.reshape(nlev * k, wd.shape[1]))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    # -- per iteration -----------------------------------------------------------------------
    def solve(self, state: ThetaState, w: np.ndarray, rhs: np.ndarray, joint: bool) -> Step:
        """Solve the penalised weighted least-squares problem at ``state``.

        Parameters
        ----------
        w : ndarray, shape (n,)
            Working weights.
        rhs : ndarray, shape (n,)
            The working response (joint) or the working response minus Xβ (u alone).
        joint : bool
            Solve for (u, β); otherwise for u with β fixed.
        """
        vl = state.vl
        k1, l1, qr, p = self.k1, self.l1, self.qr, self.p
        # first term: D_j = T₁ᵀ(Z₁ᵀWZ₁)_jT₁ + I, from the products of its slots
        prods = np.concatenate([w * vl[:, a] * vl[:, b] for a, b in self._d1_pairs])
        d1: np.ndarray = np.bincount(self._d1_index_all, prods, minlength=l1 * k1 * k1).reshape(l1, k1, k1)
        if k1 > 1:
            d1 = d1 + np.triu(d1, 1).transpose(0, 2, 1)
        d1[:, np.arange(k1), np.arange(k1)] += 1.0
        dense = np.column_stack([self.X, rhs]) if joint else rhs[:, None]
        c = dense.shape[1]
        m = qr + c
        wd = dense * w[:, None]
        # the rest block G and the off-diagonal block A21 (m × q1)
        g = np.empty((m, m))
        g[qr:, qr:] = dense.T @ wd
        a21 = np.empty((m, self.q1))
        a21[qr:, :] = self.zt_times(state, wd, True).T
        a21z = None
        if qr:
            if self._sparse21:
                p21 = np.concatenate([w * vl[:, a] * vl[:, b] for a, b in self._a21_pairs])
                data = np.bincount(self._cells21, p21, minlength=self._a21_nnz)
                a21z = sp.csr_array((data, self._a21_indices, self._a21_indptr), shape=(qr, self.q1))
                a21[:qr, :] = 0.0
            elif self._idx21.size:
                p21 = np.concatenate([w * vl[:, a] * vl[:, b] for a, b in self._a21_pairs])
                a21[:qr, :] = np.bincount(self._idx21, p21, minlength=qr * self.q1).reshape(qr, self.q1)
            else:
                a21[:qr, :] = 0.0
            p22 = np.concatenate([w * vl[:, a] * vl[:, b] for a, b in self._a22_pairs])
            g22: np.ndarray = np.bincount(self._idx22, p22, minlength=qr * qr).reshape(qr, qr)
            if self._sym22:
                g22 = g22 + np.triu(g22, 1).T
            g22[self.eye_rest, self.eye_rest] += 1.0
            g[:qr, :qr] = g22
            zx = self.zt_times(state, wd, False)
            g[:qr, qr:] = zx
            g[qr:, :qr] = zx.T
        # eliminate the first term: G − A21 D⁻¹ A21ᵀ
        if a21z is not None:
            dd = d1[:, 0, 0]
            logdet1 = float(np.log(dd).sum())
            root = 1.0 / np.sqrt(dd)
            sz = a21z * root[None, :]
            sx = a21[qr:, :] * root[None, :]
            g[:qr, :qr] -= (sz @ sz.T).toarray()
            zx_update = np.asarray(sz @ sx.T)
            g[:qr, qr:] -= zx_update
            g[qr:, :qr] -= zx_update.T
            g[qr:, qr:] -= sx @ sx.T
            a21[:qr, :] = 0.0  # (only the rhs and X rows are read below, plus the sparse part)
        elif k1 == 1:
            dd = d1[:, 0, 0]
            logdet1 = float(np.log(dd).sum())
            scaled = a21 / np.sqrt(dd)[None, :]
        else:
            chol = np.linalg.cholesky(d1)
            logdet1 = 2.0 * float(np.log(np.diagonal(chol, axis1=1, axis2=2)).sum())
            # A21_j L_j⁻ᵀ for every level j
            inv = np.linalg.inv(chol)
            scaled = np.einsum("mja,jba->mjb", a21.reshape(m, l1, k1), inv).reshape(m, self.q1)
        if a21z is None:
            g -= scaled @ scaled.T
        chol_g, info = lapack.dpotrf(g, lower=1, clean=1)
        if info != 0:
            raise PirlsFailure("the penalised weighted cross-product matrix is not positive definite")
        diag = np.diagonal(chol_g)
        logdet_u = logdet1 + (2.0 * float(np.log(diag[:qr]).sum()) if qr else 0.0)
        # solution of the leading block from the last row of the factor
        if m > 1:
            x_rest, info = lapack.dtrtrs(chol_g[:-1, :-1], chol_g[-1, :-1], lower=1, trans=1)
            if info != 0:
                raise PirlsFailure("singular triangular factor in PIRLS")
        else:
            x_rest = np.zeros(0)
        # first term: u₁_j = D_j⁻¹ (b_j − A21_jᵀ x_rest), b = the rhs row of A21
        b1 = a21[-1, :] - a21[:-1, :].T @ x_rest
        if a21z is not None and qr:
            b1 = b1 - a21z.T @ x_rest[:qr]
        if k1 == 1:
            u1 = b1 / d1[:, 0, 0]
        else:
            u1 = np.linalg.solve(d1, b1.reshape(l1, k1)[:, :, None])[:, :, 0].ravel()
        u = np.concatenate([u1, x_rest[:qr]])
        if joint:
            beta = x_rest[qr : qr + p]
            lx = np.tril(chol_g[qr : qr + p, qr : qr + p])
            return Step(u, beta, logdet_u, lx, d1)
        return Step(u, None, logdet_u, None, d1)

    def z_times(self, state: ThetaState, u: np.ndarray) -> np.ndarray:
        """``ZΛu`` (shape (n,))."""
        return np.einsum("ij,ij->i", state.vl, u[self.cols])


@dataclass(frozen=True, slots=True)
class PirlsResult:
    """The conditional modes at θ (and β, when it was solved for).

    Attributes
    ----------
    u : ndarray, shape (q,)
        Spherical conditional modes.
    beta : ndarray, shape (p,)
    eta, mu : ndarray, shape (n,)
    devres_sum : float
        Σ deviance residuals at μ.
    logdet_u : float
        ``log|ΛᵀZᵀWZΛ + I|`` at the weights of the mode.
    lx : ndarray or None
        The lower factor of X's block (joint solves): ``Var(β̂ | θ) ≈ (L_X L_Xᵀ)⁻¹``.
    d1 : ndarray, shape (ℓ₁, k₁, k₁)
        The first term's diagonal blocks ``T₁ᵀ(Z₁ᵀWZ₁)_jT₁ + I``.
    iterations : int
    """

    u: np.ndarray
    beta: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    devres_sum: float
    logdet_u: float
    lx: np.ndarray | None
    d1: np.ndarray
    iterations: int

    @property
    def laplace(self) -> float:
        """The Laplace criterion less the saturated constant: Σ dev + ‖u‖² + log|L|²."""
        return self.devres_sum + float(self.u @ self.u) + self.logdet_u


def pirls(
    system: WeightedSystem,
    state: ThetaState,
    family: Family,
    obs: Observed,
    offset: np.ndarray,
    beta: np.ndarray,
    u0: np.ndarray,
    joint: bool,
) -> PirlsResult:
    """Iterate to the conditional modes at ``state`` (θ), from ``u0`` and ``beta``.

    With ``joint`` both u and β are updated (lme4's first stage, nAGQ = 0); otherwise β stays.
    Steps that raise the penalised deviance are halved, as in lme4's ``pwrssUpdate``.

    Raises
    ------
    PirlsFailure
        Non-finite penalised deviance or failed step halving.
    """
    X, y, wt = system.X, obs.y, obs.wt
    u, b = np.array(u0, dtype=np.float64), np.array(beta, dtype=np.float64)
    fixed = offset + X @ b
    eta = fixed + system.z_times(state, u)
    mu = family.linkinv(eta)
    pdev = obs.deviance(mu) + float(u @ u)
    if not (np.isfinite(pdev) and family.link.valid_eta(eta).all()) and np.any(u != 0):
        u = np.zeros_like(u)  # the warm start is outside the link's domain: try the modes at 0
        eta = fixed.copy()
        mu = family.linkinv(eta)
        pdev = obs.deviance(mu)
    if not (np.isfinite(pdev) and family.link.valid_eta(eta).all()):
        raise PirlsFailure("non-finite deviance at the start of PIRLS")
    step = None
    change = np.inf
    for iteration in range(1, MAX_ITERATIONS + 1):
        step = _solve_at(system, state, family, y, wt, offset, eta, mu, fixed, joint)
        new_u = step.u
        new_b = step.beta if joint and step.beta is not None else b
        new_fixed = offset + X @ new_b if joint else fixed
        new_eta = new_fixed + system.z_times(state, new_u)
        new_mu = family.linkinv(new_eta)
        new_pdev = obs.deviance(new_mu) + float(new_u @ new_u)
        halvings = 0
        allowed = pdev + _ROUNDING * max(abs(pdev), 1.0)
        while not (np.isfinite(new_pdev) and family.link.valid_eta(new_eta).all()) or new_pdev > allowed:
            halvings += 1
            if halvings > MAX_HALVINGS:
                if float(np.max(np.abs(new_eta - eta))) < 1e-7:  # rounding noise at the mode: done
                    new_u, new_b, new_fixed, new_eta, new_mu, new_pdev = u, b, fixed, eta, mu, pdev
                    break
                raise PirlsFailure("PIRLS step halving failed to reduce the penalised deviance")
            new_u = 0.5 * (u + new_u)
            if joint:
                new_b = 0.5 * (b + new_b)
                new_fixed = offset + X @ new_b
            new_eta = new_fixed + system.z_times(state, new_u)
            new_mu = family.linkinv(new_eta)
            new_pdev = obs.deviance(new_mu) + float(new_u @ new_u)
        change = float(np.max(np.abs(new_eta - eta))) if eta.size else 0.0
        small = abs(pdev - new_pdev) <= PDEV_TOLERANCE * max(abs(new_pdev), 1.0)
        u, b, fixed, eta, mu, pdev = new_u, new_b, new_fixed, new_eta, new_mu, new_pdev
        if change < ETA_TOLERANCE or (small and halvings == 0):
            break
    else:
        raise PirlsFailure(f"PIRLS did not converge in {MAX_ITERATIONS} iterations")
    if change >= ETA_TOLERANCE:  # stopped on the deviance: factor again at the mode's own weights
        step = _solve_at(system, state, family, y, wt, offset, eta, mu, fixed, joint)
    assert step is not None
    return PirlsResult(u, b, eta, mu, pdev - float(u @ u), step.logdet_u, step.lx, step.d1, iteration)


def _solve_at(system: WeightedSystem, state: ThetaState, family: Family, y: np.ndarray, wt: np.ndarray,
              offset: np.ndarray, eta: np.ndarray, mu: np.ndarray, fixed: np.ndarray, joint: bool) -> Step:
    """One PIRLS solve: working weights and response at (η, μ), then the penalised least squares."""
    mu_eta = family.mu_eta_at(eta, mu)
    w = wt * mu_eta * mu_eta / family.variance(mu)
    work = (eta - offset) + (y - mu) / mu_eta
    return system.solve(state, w, work if joint else work - (fixed - offset), joint)


#: lme4's PIRLS tolerance (``glmerControl(tolPwrss = 1e-7)``): relative change of the penalised deviance.
LME4_TOLERANCE = 1e-7


def pirls_lme4(
    system: WeightedSystem,
    state: ThetaState,
    family: Family,
    obs: Observed,
    offset: np.ndarray,
    beta: np.ndarray,
    lp0: np.ndarray,
) -> PirlsResult:
    """The modes as lme4's ``glmerLaplace`` finds them at (θ, β): its approximation of the criterion.

    lme4 starts every evaluation from the linear predictor ``lp0`` left by its first stage (without
    the offset), with u = 0, and stops when the penalised deviance changes by less than 1e-7
    relative (at least two iterations); the log-determinant is the one of the last solve, taken at
    the weights of the iterate before. The result is 1e-4 to 1e-3 above the exact Laplace value;
    :func:`pirls` is exact. Used only to reproduce glmer's numbers.
    """
    fixed = offset + system.X @ beta
    eta = offset + lp0
    mu = family.linkinv(eta)
    old = float(np.finfo(np.float64).max)
    step = None
    for iteration in range(1, MAX_ITERATIONS + 1):
        step = _solve_at(system, state, family, obs.y, obs.wt, fixed, eta, mu, fixed, False)
        new_eta = fixed + system.z_times(state, step.u)
        new_mu = family.linkinv(new_eta)
        pdev = obs.deviance(new_mu) + float(step.u @ step.u)
        if not np.isfinite(pdev):
            raise PirlsFailure("non-finite deviance in PIRLS")
        eta, mu = new_eta, new_mu
        if abs((old - pdev) / pdev) < LME4_TOLERANCE:
            break
        old = pdev
    else:
        raise PirlsFailure(f"PIRLS did not converge in {MAX_ITERATIONS} iterations")
    assert step is not None
    return PirlsResult(step.u, np.asarray(beta, dtype=np.float64), eta, mu, obs.deviance(mu), step.logdet_u,
                       None, step.d1, iteration)
