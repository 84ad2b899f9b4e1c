"""The fit as lme4-style HTML tables, from its ``--json`` payload (:meth:`Fit.to_dict`)."""

from __future__ import annotations

from typing import Any

from .page import esc, key_values, num, p_value, table

__all__ = ["fit_html", "fixed_effects_html", "optimizer_html", "random_effects_html", "statistics_html"]


def fixed_effects_html(payload: dict[str, Any]) -> str:
    """Estimates, SEs, Satterthwaite df, t and p (``!`` where the Wald approximation is broken)."""
    rows = payload["fixed_effects"]
    with_df = any("df" in r for r in rows)
    header = ["", "Estimate", "Std. Error"] + (["df"] if with_df else []) + ["t value"] + (
        ["Pr(&gt;|t|)"] if with_df else [])
    body = []
    for r in rows:
        cells = [f"<code>{esc(r['term'])}</code>", num(r["estimate"]), num(r["std_error"])]
        if with_df:
            cells.append(num(r.get("df"), 4))
        cells.append(num(r["t_value"]))
        if with_df:
            mark = "" if r.get("wald_reliable", True) else ' <b title="not reliable">!</b>'
            cells.append(p_value(r.get("p_value")) + mark)
        body.append(cells)
    out = table(header, body, [False] + [True] * (len(header) - 1))
    if with_df:
        out += '<p class="sub">t tests with Satterthwaite\'s degrees of freedom (as lmerTest).</p>'
    if any(not r.get("wald_reliable", True) for r in rows):
        out += ('<p class="sub"><b>!</b> not reliable: the fit is singular or its variance parameters are not '
                "identified, so the Wald approximation behind these p-values is broken; see the profile "
                "intervals and the remedies below.</p>")
    return out


def random_effects_html(payload: dict[str, Any]) -> str:
    """Variance and SD of each random effect and the residual, with the correlations of each term."""
    corrs: dict[tuple[str, str], list[str]] = {}
    for c in payload["correlations"]:
        corrs.setdefault((c["group"], c["term2"]), []).append(f"{c['corr']:.2f}" if c["corr"] is not None else "–")
    rows, last = [], None
    for r in payload["random_effects"]:
        group = r["group"] if r["group"] != last else ""
        last = r["group"]
        term = r["term"] if r["term"] is not None else ""
        corr = " ".join(corrs.get((r["group"], term), []))
        rows.append([esc(group), f"<code>{esc(term)}</code>", num(r["variance"]), num(r["sd"]), corr])
    groups = ", ".join(f"{esc(g)}: {n:,} levels" for g, n in payload["ngroups"].items())
    return (table(["Groups", "Name", "Variance", "Std.Dev.", "Corr"], rows, [False, False, True, True, False])
            + f'<p class="sub">Number of observations: {payload["nobs"]:,}; {groups}.</p>')


def statistics_html(payload: dict[str, Any]) -> str:
    """Criterion, log-likelihood, AIC, BIC, σ, and the fit's flags."""
    items = [("method", "REML" if payload["reml"] else "maximum likelihood")]
    items.append(("REML criterion" if payload["reml"] else "deviance (−2 log L)", num(payload["objective"], 6)))
    items += [("log-likelihood", num(payload["loglik"], 6)), ("AIC", num(payload["aic"], 6)),
              ("BIC", num(payload["bic"], 6)), ("residual SD σ", num(payload["sigma"])),
              ("converged", num(payload["converged"])), ("singular", num(payload["singular"]))]
    if payload.get("n_missing"):
        items.append(("rows dropped (missing values)", num(payload["n_missing"])))
    if payload.get("dropped_fixed"):
        items.append(("aliased columns dropped", esc(", ".join(payload["dropped_fixed"]))))
    return key_values(items)


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return key_values((str(k), _value(v)) for k, v in value.items())
    if isinstance(value, list):
        if len(value) > 12:
            return esc(", ".join(str(v) for v in value[:12])) + f", … ({len(value)} values)"
        return ", ".join(_value(v) for v in value)
    return num(value, 6) if isinstance(value, (int, float)) and not isinstance(value, bool) else num(value)


def optimizer_html(payload: dict[str, Any]) -> str:
    """The optimiser's record, every field the payload holds (so that new fields show up)."""
    record = payload.get("optimizer") or {}
    return key_values((str(k), _value(v)) for k, v in record.items())


def fit_html(payload: dict[str, Any], heading: str = "h3") -> str:
    """The fit's tables (for the report, and for ``Fit._repr_html_`` in a notebook)."""
    kind = "REML" if payload["reml"] else "maximum likelihood"
    warnings = "".join(f"<li>{esc(w)}</li>" for w in payload.get("warnings", []))
    return (
        f'<div class="lmmdx-fit"><p>Linear mixed model fit by {kind}: <code>{esc(payload["formula"])}</code></p>'
        f"<{heading}>Fixed effects</{heading}>{fixed_effects_html(payload)}"
        f"<{heading}>Random effects</{heading}>{random_effects_html(payload)}"
        f"<{heading}>Fit statistics</{heading}>{statistics_html(payload)}"
        f"<{heading}>Optimiser record</{heading}>{optimizer_html(payload)}"
        + (f"<{heading}>Warnings</{heading}><ul>{warnings}</ul>" if warnings else "")
        + "</div>"
    )
