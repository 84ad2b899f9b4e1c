"""Diagnosis of a GLMM fit: the linear model's check families on the GLMM criterion, plus separation
and overdispersion, and lme4's gradient warning judged scale-free.

Checks (each returns findings with the codes of the linear diagnosis where the problem is the same):

* convergence: the certificate of the fit (Newton decrement ``sqrt(gᵀH⁻¹g)`` of −2 log L over
  (θ, β), positive definiteness, one-sided derivatives of θ elements held at 0);
* lme4's gradient check, as lme4 computes it (``max(min(|H⁻¹g|, |g|)) > 0.002`` on its scale) at the
  point where the derivative-free optimiser stopped: when it fires but the Newton decrement says the
  criterion is within 1e-6 of its minimum, the warning is named a false alarm (``gradient_benign``);
* boundary: zero variances, correlations at ±1, the principal components of each term (``rePCA``);
* Hessian eigen-analysis on the user's scale (lme4's "very large eigenvalue – Rescale variables?"):
  the eigenvector of the largest eigenvalue named by its fixed effects;
* separation: a direction of the fixed effects along which every success has a non-negative and
  every failure a non-positive linear predictor (a linear programme, as Konis's detectseparation),
  and groups of a grouping factor whose response never varies;
* overdispersion of Poisson (and binomial-trials) fits: Pearson χ² / residual df;
* optimiser agreement: stage 2 refitted with other optimisers;
* data support, aliased and collinear fixed effects: the linear diagnosis's checks, which read only
  the design.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, stats

from ..design import Design
from ..design.random import ReBlock
from ..finding import Remedy, Severity
from .context import Context
from .finding import Diagnosis, Finding, severity_rank
from .parameters import correlation_name, variance_name
from .tables import OptimizerRun
from .verdict import verdict

if TYPE_CHECKING:
    from ..result import GlmmFit

__all__ = ["DISPERSION_RATIO", "LME4_GRADIENT_TOLERANCE", "diagnose_glmm", "separation"]

#: lme4's ``check.conv.grad`` tolerance.
LME4_GRADIENT_TOLERANCE = 0.002
#: A Newton decrement below this: the criterion is within about its square / 2 of the minimum.
DECREMENT_OK = 1e-3
#: Pearson χ² / df above this, with a χ² test p-value below :data:`DISPERSION_P`: overdispersion.
DISPERSION_RATIO = 1.2
DISPERSION_P = 0.01
#: lme4's "very large eigenvalue" and "large eigenvalue ratio" thresholds.
_LARGE_EIGENVALUE = 1e6
_EIGEN_RATIO = 1e6
#: Optimisers of the agreement check (stage 2 refits from stage 1's optimum).
AGREEMENT_OPTIMIZERS = ("bobyqa", "nelder_mead")
_AGREE = 1e-3
#: Group separation is a warning when at least this share of a factor's levels never vary.
_SEPARATED_SHARE = 0.25


def _lme4_gradient(fit: GlmmFit, stopped: GlmmFit | None) -> list[Finding]:
    """lme4's convergence check where a derivative-free optimiser (``stopped``, BOBYQA from stage 1's
    optimum, as lme4 runs it) ended, on lme4's (user) scale."""
    from ..glmm_fitting import _hessian, _Points, _steps

    if stopped is None:
        return []
    model = fit.glmm
    cert = fit.derivatives
    x = np.array(stopped.derivatives.optimizer_x, dtype=np.float64)
    nt = model.ntheta
    f = model.evaluator()
    f.u = stopped.derivatives.modes.copy()
    fx = f(x)
    if not np.isfinite(fx):
        return []
    held = model.layout.diagonal_mask() & (x[:nt] <= 0.0)
    free = np.flatnonzero(~np.concatenate([held, np.zeros(model.p, dtype=bool)]))
    points = _Points(f, x)
    grad, hess = _hessian(points, fx, free, _steps(x, free))
    if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
        return []
    # to lme4's scale: x_int = J x_user (β linear; θ by differences of the internal → user map)
    jac = _internal_per_user(fit, x)[np.ix_(free, free)]
    g_user = jac.T @ grad
    h_user = jac.T @ hess @ jac
    try:
        chol = np.linalg.cholesky(h_user)
        scaled = np.linalg.solve(chol, g_user)
        step = np.linalg.solve(hess, grad)
        decrement = float(np.sqrt(max(float(grad @ step), 0.0)))
    except np.linalg.LinAlgError:
        return []
    statistic = float(np.max(np.minimum(np.abs(scaled), np.abs(g_user))))
    if statistic <= LME4_GRADIENT_TOLERANCE:
        return []
    names = _user_names(fit)
    worst = names[int(free[np.argmax(np.minimum(np.abs(scaled), np.abs(g_user)))])]
    evidence = {"lme4_max_grad": statistic, "lme4_tolerance": LME4_GRADIENT_TOLERANCE,
                "newton_decrement": decrement, "criterion_gap": decrement**2 / 2, "nobs": fit.nobs,
                "final_newton_decrement": cert.newton_decrement}
    final_ok = np.isfinite(cert.newton_decrement) and cert.newton_decrement < DECREMENT_OK
    if not final_ok:
        return []  # the fit's own certificate fails: _convergence reports it
    if decrement < DECREMENT_OK:
        text = (f"Where a derivative-free optimiser stops (as lme4's does), lme4's check gives max|grad| = "
                f"{statistic:.3g} > {LME4_GRADIENT_TOLERANCE} ('Model failed to converge'), but the scale-free "
                f"Newton decrement there is {decrement:.2g}: the criterion is within {decrement**2 / 2:.1g} of its "
                f"minimum. The gradient of −2 log L is a sum over {fit.nobs} observations, so an absolute "
                "tolerance fires while the estimates are already right to many digits: such a warning is a false "
                f"alarm. lmmdx polishes the optimum with Newton steps (final decrement {cert.newton_decrement:.1g}).")
        title = f"lme4's max|grad| warning ({statistic:.2g}) would be a false alarm"
    else:
        text = (f"Where a derivative-free optimiser stops (as lme4's does), lme4's check gives max|grad| = "
                f"{statistic:.3g} and the Newton decrement is {decrement:.2g}: that optimiser stops short here "
                f"(along {worst}). lmmdx's Newton polish reached the optimum (final decrement "
                f"{cert.newton_decrement:.1g}), so the estimates reported here stand; lme4's may differ slightly.")
        title = f"lme4's max|grad| warning ({statistic:.2g}): its optimiser stops short; the polished optimum stands"
    return [Finding("gradient_benign", "info", (worst,), evidence, text,
                    (Remedy("other_optimizer", None, "confirm the optimum with another optimiser (the agreement "
                            "check does)"),), title=title)]


def _internal_per_user(fit: GlmmFit, x: np.ndarray) -> np.ndarray:
    """∂(internal θ, β) / ∂(user θ, β) at x (θ by central differences of the internal → user map)."""
    model = fit.glmm
    nt, p = model.ntheta, model.p
    jac = np.zeros((nt + p, nt + p))
    # user θ as a function of internal θ; invert its Jacobian
    forward = np.zeros((nt, nt))
    diagonal = model.layout.diagonal_mask()
    for i in range(nt):
        h = 1e-6 * max(1.0, abs(x[i]))
        up, down = x[:nt].copy(), x[:nt].copy()
        up[i] += h
        if diagonal[i]:  # one-sided: the user factor is not smooth across 0
            forward[:, i] = (model.theta_to_user(up) - model.theta_to_user(down)) / h
            continue
        down[i] -= h
        forward[:, i] = (model.theta_to_user(up) - model.theta_to_user(down)) / (2 * h)
    try:
        jac[:nt, :nt] = np.linalg.inv(forward)
    except np.linalg.LinAlgError:
        jac[:nt, :nt] = np.eye(nt)
    jac[nt:, nt:] = np.linalg.inv(model.scaling.x_transform)
    return jac


def _user_names(fit: GlmmFit) -> list[str]:
    return [f"theta {n}" for n in fit.theta_names] + list(fit.fixed_names)


def _convergence(fit: GlmmFit) -> list[Finding]:
    cert = fit.derivatives
    out: list[Finding] = []
    if not fit.converged:
        out.append(Finding("optimizer_not_converged", "warning", (), {"status": fit.optimizer.status},
                           f"The optimiser stopped with status {fit.optimizer.status}.",
                           title="the optimiser did not converge"))
    if not cert.positive_definite:
        out.append(Finding(
            "hessian_not_positive_definite", "warning", (), {"newton_decrement": cert.newton_decrement},
            "The Hessian of −2 log L over the free (θ, β) is not positive definite at the optimum: some "
            "combination of parameters is not determined by the data (see separation and boundary findings).",
            title="the Hessian is not positive definite"))
    elif cert.newton_decrement > DECREMENT_OK:
        out.append(Finding(
            "gradient_not_small", "warning", (), {"newton_decrement": cert.newton_decrement},
            f"The Newton decrement at the optimum is {cert.newton_decrement:.2g}: not a minimum yet.",
            title="the optimum is not reached"))
    if np.any(cert.boundary_derivatives < -1e-6):
        out.append(Finding(
            "boundary_not_optimal", "warning", (), {"one_sided_derivatives": list(cert.boundary_derivatives)},
            "A variance held at 0 would lower −2 log L if it moved off the boundary.",
            title="a zero variance is not optimal"))
    return out


def _boundary(fit: GlmmFit, ctx: Context) -> list[Finding]:
    out: list[Finding] = []
    design = fit.glmm.design
    from .dimensions import term_pca

    for term in fit.boundary:
        if not term.singular:
            continue
        block = design.blocks[term.block]
        params = [variance_name(block.group, block.columns[j]) for j in term.zero_effects]
        corrs = [c for c in fit.correlations if c.group == block.group and c.term1 in block.columns]
        if term.correlation_boundary:
            params += [correlation_name(block.group, c.term1, c.term2) for c in corrs
                       if term.correlation_at_edge(block.columns.index(c.term1), block.columns.index(c.term2), c.corr)]
        pca = term_pca(fit, term.block)
        remedies = []
        if block.k > 1:
            for remedy in (ctx.editor.uncorrelated(block, "the correlation is at the boundary"),
                           ctx.editor.intercept_only(block, "the slope variance is not supported")):
                if remedy is not None:
                    remedies.append(remedy)
        else:
            remedies.append(ctx.editor.drop_term(block, "its variance is estimated as zero"))
        remedies.append(ctx.editor.penalised("a weak prior on the covariance keeps it off the boundary"))
        out.append(Finding(
            "singular_fit", "warning", tuple(params) or (block.term.text,),
            {"term": block.term.text, "rePCA_proportions": [float(v) for v in pca.proportions],
             "dimensions": pca.supported},
            f"{block.term.text}: " + ", ".join(params or ["a direction of the covariance"]) + " at the boundary "
            f"(rePCA: {pca.supported} of {block.k} dimension(s) carry variance). The data do not support this "
            "random-effects structure; fixed-effect inference can still be checked against the remedies.",
            tuple(remedies), title=f"singular fit in {block.term.text}"))
    return out


def _eigen(fit: GlmmFit) -> list[Finding]:
    """lme4's eigenvalue checks on its (user) scale, with the columns behind the largest eigenvalue."""
    cert = fit.derivatives
    if not cert.positive_definite:
        return []
    model = fit.glmm
    x = np.concatenate([fit.theta_internal, fit.beta_internal])
    free = cert.free
    jac = _internal_per_user(fit, x)[np.ix_(free, free)]
    h_user = jac.T @ cert.hessian @ jac
    values, vectors = np.linalg.eigh(0.5 * (h_user + h_user.T))
    top = vectors[:, -1]
    names = _user_names(fit)
    loaded = [names[int(free[i])] for i in np.argsort(-np.abs(top))[:2] if abs(top[i]) > 0.3]
    ratio = float(values[-1] / values[0]) if values[0] > 0 else float("inf")
    if values[-1] < _LARGE_EIGENVALUE and ratio < _EIGEN_RATIO:
        return []
    scales = {name: float(np.sqrt(np.mean(col**2))) for name, col in zip(fit.fixed_names, model.design.X.T,
                                                                          strict=True)}
    return [Finding(
        "fixed_effect_scales", "info", tuple(loaded),
        {"largest_eigenvalue": float(values[-1]), "eigenvalue_ratio": ratio, "column_rms": scales},
        f"On lme4's scale the Hessian of −2 log L has largest eigenvalue {values[-1]:.3g} (ratio {ratio:.3g}), "
        f"along {', '.join(loaded) or 'the fixed effects'}: lme4 reports 'Model is nearly unidentifiable: very "
        "large eigenvalue - Rescale variables?'. This is about the units and centring of the predictors, not the "
        "model: lmmdx fits on centred and scaled columns internally, so its estimates and standard errors are "
        "not affected. In lme4, centre and scale those predictors.",
        (Remedy("rescale", None, "centre and scale the predictors named (for lme4; lmmdx does it internally)"),),
        title="lme4's 'Rescale variables?' warning explained")]


def separation(X: np.ndarray, y: np.ndarray, weights: np.ndarray, family: str
               ) -> tuple[np.ndarray, bool] | None:
    """A direction d of the fixed effects along which the likelihood keeps rising, or None.

    Binomial: every success-only row has ``x·d ≥ 0``, every failure-only row ``x·d ≤ 0``, mixed rows
    ``x·d = 0``; Poisson: rows with a zero count ``x·d ≤ 0``, the others ``x·d = 0``. The linear
    programme maximises the total margin with ``d`` in [−1, 1]. Returns ``(d, complete)``, with
    ``complete`` when no row lies on the separating hyperplane.
    """
    n, p = X.shape
    if family == "binomial":
        success = (y >= 1.0) & (weights > 0)
        failure = (y <= 0.0) & (weights > 0)
    else:
        success = np.zeros(n, dtype=bool)
        failure = y <= 0.0
    mixed = ~(success | failure) & (weights > 0)
    sign = np.where(success, 1.0, 0.0) - np.where(failure, 1.0, 0.0)
    scale = np.maximum(np.abs(X).max(axis=0), 1e-300)
    xs = X / scale
    rows = success | failure
    a_ub = -(sign[rows, None] * xs[rows])
    b_ub = np.zeros(int(rows.sum()))
    a_eq = xs[mixed] if mixed.any() else None
    b_eq = np.zeros(int(mixed.sum())) if mixed.any() else None
    c = -(sign[rows] @ xs[rows])
    result = optimize.linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=[(-1, 1)] * p,
                              method="highs")
    if not result.success or -result.fun <= 1e-7 * max(1.0, float(rows.sum())):
        return None
    d = result.x / scale
    complete = False
    if not mixed.any():
        # complete: some direction puts every row strictly on its side (max t, sign·x·d ≥ t)
        k = int(rows.sum())
        strict = optimize.linprog(np.concatenate([np.zeros(p), [-1.0]]),
                                  A_ub=np.column_stack([a_ub, np.ones(k)]), b_ub=np.zeros(k),
                                  bounds=[(-1, 1)] * p + [(None, 1.0)], method="highs")
        complete = bool(strict.success and -strict.fun > 1e-9)
    return d, complete


def _separation(fit: GlmmFit, ctx: Context) -> list[Finding]:
    design = fit.glmm.design
    model = fit.glmm
    out: list[Finding] = []
    found = separation(design.X, design.y, model.weights, fit.family)
    if found is not None:
        # name the fewest columns: one predictor (with the intercept) separating on its own, if any
        names = list(fit.fixed_names)
        base = [names.index("(Intercept)")] if "(Intercept)" in names else []
        for j in range(len(names)):
            if j in base:
                continue
            cols = base + [j]
            alone = separation(design.X[:, cols], design.y, model.weights, fit.family)
            if alone is not None:
                d = np.zeros(len(names))
                d[cols] = alone[0]
                found = (d, alone[1])
                break
        d, complete = found
        size = np.abs(d) * np.sqrt(np.mean(design.X**2, axis=0))
        culprits = [name for name, s in zip(fit.fixed_names, size, strict=True)
                    if s > 1e-6 * size.max() and name != "(Intercept)"] or list(fit.fixed_names)
        kind = "complete" if complete else "quasi-complete"
        evidence = {"direction": {n: float(v) for n, v in zip(fit.fixed_names, d, strict=True) if v != 0},
                    "complete": complete,
                    "estimates": {n: float(b) for n, b in zip(fit.fixed_names, fit.beta, strict=True) if n in culprits},
                    "std_errors": {n: float(s) for n, s in zip(fit.fixed_names, fit.std_errors, strict=True)
                                   if n in culprits}}
        what = "successes and failures" if fit.family == "binomial" else "zero and non-zero counts"
        out.append(Finding(
            "separation", "error", tuple(culprits), evidence,
            f"{kind.capitalize()} separation by {', '.join(culprits)}: along this direction of the fixed effects "
            f"the {what} are split without overlap, so the likelihood keeps rising as the estimate grows: "
            "its maximum-likelihood value is infinite in the limit. The reported estimate and its standard "
            "error are where the optimiser stopped and mean nothing; Wald tests of it are invalid.",
            (ctx.editor.penalised("a weak normal prior on the fixed effects (blme's bglmer) gives finite estimates",
                                  culprits[0]),
             Remedy("drop_fixed", None, "merge the level or drop the predictor that separates the outcome",
                    culprits[0])),
            title=f"{kind} separation by {', '.join(culprits)}"))
    for block in _first_blocks(design):
        codes, nlev = block.factor.codes, block.nlevels
        wy = model.weights * design.y
        total = np.bincount(codes, model.weights, minlength=nlev)
        succ = np.bincount(codes, wy, minlength=nlev)
        if fit.family == "binomial":
            none = (succ <= 0) & (total > 0)
            every = (succ >= total) & (total > 0)
        else:
            none = (succ <= 0) & (total > 0)
            every = np.zeros(nlev, dtype=bool)
        bad = none | every
        counts = np.bincount(codes, minlength=nlev)
        if not bad.any() or np.median(counts) < 2:  # observation-level factors: one row per level
            continue
        severity: Severity = "warning" if bad.mean() >= _SEPARATED_SHARE else "info"
        labels = [block.factor.levels[j] for j in np.flatnonzero(bad)]
        described = ("all failures" if fit.family == "binomial" else "all zero") if not every.any() else (
            "no variation")
        out.append(Finding(
            "group_separation", severity, (block.group,),
            {"factor": block.group, "levels": labels[:20], "n_levels": int(bad.sum()), "of": nlev,
             "all_zero": [block.factor.levels[j] for j in np.flatnonzero(none)][:20],
             "all_one": [block.factor.levels[j] for j in np.flatnonzero(every)][:20]},
            f"In {int(bad.sum())} of {nlev} levels of {block.group} ({', '.join(labels[:8])}"
            f"{', ...' if len(labels) > 8 else ''}) the response shows {described}: their own effects are infinite "
            "in the limit. The random effect keeps their conditional modes finite by shrinking them towards the "
            f"others; treating {block.group} as fixed effects (a GLM) cannot estimate them.",
            (ctx.editor.penalised("a prior keeps the covariance and the modes finite", block.term.text),),
            title=f"{int(bad.sum())} level(s) of {block.group} without variation in the response"))
    return out


def _first_blocks(design: Design) -> list[ReBlock]:
    seen, out = set(), []
    for block in design.blocks:
        if block.group not in seen:
            seen.add(block.group)
            out.append(block)
    return out


def _overdispersion(fit: GlmmFit, ctx: Context) -> list[Finding]:
    model = fit.glmm
    if fit.family == "binomial" and not np.any(model.weights > 1):
        return []  # 0/1 responses carry no information on dispersion
    df = fit.df_resid
    if df <= 0:
        return []
    chi2 = fit.pearson_chi2
    ratio = chi2 / df
    p_value = float(stats.chi2.sf(chi2, df))
    if not (ratio > DISPERSION_RATIO and p_value < DISPERSION_P):
        return []
    design = model.design
    formula = design.formula.text.strip()
    remedies: tuple[Remedy, ...] = (
        Remedy("observation_effect", f"{formula} + (1 | obs)",
               "a random effect with one level per row (add a column obs = 1..n) absorbs the extra variation",
               "(1 | obs)"),
    )
    if fit.family == "poisson":
        remedies += (Remedy("negative_binomial", None,
                            "a negative-binomial GLMM (glmmTMB, lme4's glmer.nb) models the extra variance directly"),)
    return [Finding(
        "overdispersion", "warning", ("dispersion",),
        {"pearson_chi2": chi2, "df": df, "ratio": ratio, "p_value": p_value},
        f"Pearson χ² / residual df = {ratio:.2f} (χ² = {chi2:.1f} on {df} df, p = {p_value:.2g}): the counts vary "
        f"more than the {fit.family} distribution allows given the random effects. Standard errors and tests of "
        "the fixed effects are then too small.",
        remedies, title=f"overdispersion (ratio {ratio:.2f})")]


def _agreement(fit: GlmmFit, optimizers: tuple[str, ...]
               ) -> tuple[list[OptimizerRun], list[Finding], dict[str, GlmmFit]]:
    from ..glmm_fitting import fit_glmm_model

    model = fit.glmm
    runs = [OptimizerRun(fit.optimizer.algorithm, "fit", fit.objective, fit.converged, fit.optimizer.nevals,
                         _estimates(fit), tuple(float(t) for t in fit.theta_internal))]
    # stage 2 again from where the fit's stage 2 started (stage 1's optimum when Newton ran)
    start = np.array(fit.derivatives.optimizer_x if fit.optimizer.status == "newton"
                     else fit.optimizer.x0, dtype=np.float64)
    refits: dict[str, GlmmFit] = {}
    for name in optimizers:
        try:
            other = fit_glmm_model(model, optimizer=name, start=start, newton_first=False)
            refits[name] = other
        except Exception:  # noqa: BLE001 - a failed refit is itself evidence
            runs.append(OptimizerRun(name, "lme4", None, False, 0))
            continue
        runs.append(OptimizerRun(name, "lme4", other.objective, other.converged, other.optimizer.nevals,
                                 _estimates(other), tuple(float(t) for t in other.theta_internal)))
    values = [r.objective for r in runs if r.objective is not None]
    best = min(values)
    out: list[Finding] = []
    if fit.objective > best + _AGREE:
        out.append(Finding("optimum_not_reached", "warning", (), {"objective": fit.objective, "best": best},
                           f"Another optimiser reached −2 log L = {best:.4f}, below the fit's {fit.objective:.4f}.",
                           (Remedy("other_optimizer", None, "refit with the optimiser that reached the lower value"),),
                           title="another optimiser found a lower criterion"))
    return runs, out, refits


def _estimates(fit: GlmmFit) -> dict[str, float]:
    out = {f"sd {c.group}: {c.term}": float(c.sd) for c in fit.random_effects}
    out.update({n: float(b) for n, b in zip(fit.fixed_names, fit.beta, strict=True)})
    return out


def diagnose_glmm(fit: GlmmFit, optimizers: tuple[str, ...] | None = None) -> Diagnosis:
    """Diagnose a GLMM fit (see the module's description of the checks).

    Parameters
    ----------
    optimizers : tuple of str, optional
        Optimisers of the agreement check (default: Nelder–Mead and Sbplx; ``()`` skips it).
    """
    from .checks.registry import CHECKS

    started = time.perf_counter()
    design = fit.glmm.design
    ctx = Context(design, fit, False, None, (), False)
    findings: list[Finding] = []
    with np.errstate(all="ignore"):
        runs, agree, refits = _agreement(fit, AGREEMENT_OPTIMIZERS if optimizers is None else optimizers)
        findings += agree
        findings += _convergence(fit)
        findings += _lme4_gradient(fit, refits.get("bobyqa"))
        findings += _boundary(fit, ctx)
        findings += _separation(fit, ctx)
        findings += _overdispersion(fit, ctx)
        findings += _eigen(fit)
        for name in ("support", "fixed"):
            findings += [f for f in CHECKS[name](ctx)]
    findings.sort(key=lambda f: -severity_rank(f.severity))
    ordered = tuple(findings)
    agreeing = sum(1 for r in runs if r.objective is not None and r.objective <= min(
        x.objective for x in runs if x.objective is not None) + _AGREE)
    status, text = verdict(ordered, agreeing, True, None)
    values = [r.objective for r in runs if r.objective is not None]
    return Diagnosis(
        formula=design.formula.text, reml=False, nobs=design.nobs, verdict=text, status=status,
        findings=ordered, variance_components=(), support=ctx.support, information=None, runs=tuple(runs),
        objective_spread=(max(values) - min(values)) if len(values) > 1 else None, estimate_spread={},
        effective_df=None, residual_df=None, seconds=time.perf_counter() - started)
