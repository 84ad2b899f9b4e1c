"""Response families and links of generalised linear (mixed) models, as plain functions of arrays.

A :class:`Family` pairs a distribution (binomial, Poisson) with a :class:`Link`. The bounds
follow lme4's ``glmFamily.cpp``: inverse links and ``dμ/dη`` are kept at least machine epsilon
away from the edges of their range, so that working weights stay positive and finite when a
linear predictor runs off (separation).

The conditional log-likelihood is written as ``−2 log p(y | μ) = Σ dev_i(μ) + c`` where the
deviance residuals ``dev_i`` are 0 at ``μ = y`` and ``c = −2 log p(y | μ = y)`` (the saturated
model) does not depend on μ. The Laplace and quadrature criteria are computed from the deviance
residuals, and ``c`` is added once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["FAMILIES", "LINKS", "Family", "Link", "Observed", "make_family"]

_EPS = float(np.finfo(np.float64).eps)
#: |η| beyond which logit and probit are clamped (R: -log(eps) and -qnorm(eps)).
_LOGIT_BOUND = -float(np.log(_EPS))
_PROBIT_BOUND = -float(special.ndtri(_EPS))

Array = np.ndarray
Fn = Callable[[Array], Array]


@dataclass(frozen=True, slots=True)
class Link:
    """A link ``η = g(μ)`` with its inverse and ``dμ/dη``."""

    name: str
    linkfun: Fn
    linkinv: Fn
    mu_eta: Fn
    #: Whether η is in the domain of the inverse link (identity and sqrt need η > 0 for Poisson).
    valid_eta: Fn


def _logit_inv(eta: Array) -> Array:
    return np.clip(special.expit(np.clip(eta, -_LOGIT_BOUND, _LOGIT_BOUND)), _EPS, 1.0 - _EPS)


def _logit_mu_eta(eta: Array) -> Array:
    e = np.clip(eta, -_LOGIT_BOUND, _LOGIT_BOUND)
    p = special.expit(e)
    return np.maximum(p * (1.0 - p), _EPS)


def _probit_inv(eta: Array) -> Array:
    return np.clip(special.ndtr(np.clip(eta, -_PROBIT_BOUND, _PROBIT_BOUND)), _EPS, 1.0 - _EPS)


def _probit_mu_eta(eta: Array) -> Array:
    return np.maximum(np.exp(-0.5 * eta * eta) / np.sqrt(2.0 * np.pi), _EPS)


def _cloglog_inv(eta: Array) -> Array:
    return np.clip(-np.expm1(-np.exp(np.minimum(eta, 700.0))), _EPS, 1.0 - _EPS)


def _cloglog_mu_eta(eta: Array) -> Array:
    e = np.minimum(eta, 700.0)
    return np.maximum(np.exp(e - np.exp(e)), _EPS)


def _log_inv(eta: Array) -> Array:
    return np.maximum(np.exp(np.minimum(eta, 700.0)), _EPS)


def _always(eta: Array) -> Array:
    return np.ones(eta.shape, dtype=bool)


def _positive(eta: Array) -> Array:
    return eta > 0


LINKS: dict[str, Link] = {
    "logit": Link("logit", special.logit, _logit_inv, _logit_mu_eta, _always),
    "probit": Link("probit", special.ndtri, _probit_inv, _probit_mu_eta, _always),
    "cloglog": Link("cloglog", lambda mu: np.log(-np.log1p(-mu)), _cloglog_inv, _cloglog_mu_eta, _always),
    "log": Link("log", np.log, _log_inv, _log_inv, _always),
    "identity": Link("identity", lambda mu: np.asarray(mu, dtype=np.float64).copy(), lambda eta: eta.copy(),
                     lambda eta: np.ones_like(eta), _positive),
    "sqrt": Link("sqrt", np.sqrt, lambda eta: eta * eta, lambda eta: 2.0 * eta, _positive),
}


@dataclass(frozen=True, slots=True)
class Family:
    """A distribution with a link.

    Attributes
    ----------
    name : str
        ``"binomial"`` or ``"poisson"``.
    link : Link
    """

    name: str
    link: Link

    # -- distribution -------------------------------------------------------------------------
    def variance(self, mu: Array) -> Array:
        """Variance function V(μ) (per unit prior weight)."""
        if self.name == "binomial":
            return np.maximum(mu * (1.0 - mu), _EPS)
        return mu

    def dev_resid(self, y: Array, mu: Array, wt: Array) -> Array:
        """Deviance residuals ``2 wt [log p(y | μ=y) − log p(y | μ)]``, each ≥ 0."""
        if self.name == "binomial":
            return 2.0 * wt * (special.xlogy(y, y / mu) + special.xlogy(1.0 - y, (1.0 - y) / (1.0 - mu)))
        return 2.0 * wt * (special.xlogy(y, y / mu) - (y - mu))

    def saturated(self, y: Array, wt: Array) -> float:
        """``−2 log p(y | μ = y)``, the constant between the deviance and −2 log L."""
        if self.name == "binomial":
            k = np.rint(wt * y)
            logchoose = special.gammaln(wt + 1.0) - special.gammaln(k + 1.0) - special.gammaln(wt - k + 1.0)
            loglik = logchoose + special.xlogy(k, y) + special.xlogy(wt - k, 1.0 - y)
            return float(-2.0 * np.sum(np.where(wt > 0, loglik, 0.0)))
        return float(-2.0 * np.sum(wt * (special.xlogy(y, y) - y - special.gammaln(y + 1.0))))

    def mu_start(self, y: Array, wt: Array) -> Array:
        """R's ``family$initialize`` starting means."""
        if self.name == "binomial":
            return (wt * y + 0.5) / (wt + 1.0)
        return y + 0.1

    # -- link ---------------------------------------------------------------------------------
    def linkinv(self, eta: Array) -> Array:
        """μ = g⁻¹(η)."""
        return self.link.linkinv(eta)

    def mu_eta(self, eta: Array) -> Array:
        """dμ/dη."""
        return self.link.mu_eta(eta)

    def linkfun(self, mu: Array) -> Array:
        """η = g(μ)."""
        return self.link.linkfun(mu)

    def valid_mu(self, mu: Array) -> bool:
        """Whether every μ is in the distribution's range."""
        if self.name == "binomial":
            return bool(np.all((mu > 0) & (mu < 1)))
        return bool(np.all(mu > 0) and np.all(np.isfinite(mu)))

    def mu_eta_at(self, eta: Array, mu: Array) -> Array:
        """dμ/dη at η whose mean μ is already known (cheaper for logit and log)."""
        name = self.link.name
        if name == "logit":
            return np.maximum(mu * (1.0 - mu), _EPS)
        if name == "log":
            return mu
        return self.link.mu_eta(eta)

    def observed(self, y: Array, wt: Array) -> Observed:
        """The response with what its deviance residuals need precomputed."""
        return Observed(self, y, wt)

    @property
    def canonical(self) -> bool:
        """Canonical link (logit for binomial, log for Poisson): Fisher scoring is Newton's method."""
        return self.link.name == FAMILIES[self.name][0]


#: Family name → (default link, allowed links).
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "binomial": ("logit", ("logit", "probit", "cloglog")),
    "poisson": ("log", ("log", "identity", "sqrt")),
}


def make_family(name: str, link: str | None = None) -> Family:
    """The :class:`Family` ``name`` with ``link`` (its canonical link by default).

    Raises
    ------
    ValueError
        An unknown family or a link the family does not allow (the message lists the choices).
    """
    key = str(name).lower()
    if key not in FAMILIES:
        raise ValueError(f"unknown family {name!r}: use one of {', '.join(FAMILIES)}")
    default, allowed = FAMILIES[key]
    chosen = default if link is None else str(link).lower()
    if chosen not in allowed:
        raise ValueError(f"the {key} family takes the links {', '.join(allowed)}, not {link!r}")
    return Family(key, LINKS[chosen])


class Observed:
    """A response and its prior weights, with the parts of the deviance that do not depend on μ.

    ``dev_i = 2 wtᵢ (cᵢ − yᵢ log μᵢ − (1 − yᵢ) log(1 − μᵢ))`` (binomial) or
    ``2 wtᵢ (cᵢ − yᵢ log μᵢ + μᵢ)`` (Poisson), with ``cᵢ`` computed once.
    """

    __slots__ = ("binomial", "family", "total", "tw", "tw_fail", "tw_succ", "wt", "y")

    def __init__(self, family: Family, y: Array, wt: Array) -> None:
        self.family, self.y, self.wt = family, y, wt
        self.binomial = family.name == "binomial"
        if self.binomial:
            const = special.xlogy(y, y) + special.xlogy(1.0 - y, 1.0 - y)
            self.tw_succ = 2.0 * wt * y
            self.tw_fail = 2.0 * wt * (1.0 - y)
        else:
            const = special.xlogy(y, y) - y
            self.tw_succ = 2.0 * wt * y
            self.tw_fail = 2.0 * wt
        self.total = float(np.sum(2.0 * wt * const))
        self.tw = 2.0 * wt * const

    def dev_resid(self, mu: Array) -> Array:
        """Deviance residuals at μ."""
        if self.binomial:
            return self.tw - self.tw_succ * np.log(mu) - self.tw_fail * np.log1p(-mu)
        return self.tw - self.tw_succ * np.log(mu) + self.tw_fail * mu

    def deviance(self, mu: Array) -> float:
        """Σ deviance residuals at μ."""
        if self.binomial:
            return self.total - float(self.tw_succ @ np.log(mu)) - float(self.tw_fail @ np.log1p(-mu))
        return self.total - float(self.tw_succ @ np.log(mu)) + float(self.tw_fail @ mu)
