"""Text and ``--json`` payload of a :class:`~lmmdx.remedy.result.RemedyReport`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .payload import clean
from .text import table

if TYPE_CHECKING:
    from ..remedy.result import Candidate, EffectEstimate, RemedyReport

__all__ = ["remedy_payload", "remedy_text"]


def _num(value: float, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _sig(value: float, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.{digits - 1}e}"
    return f"{value:#.{digits}g}".rstrip(".")


def _p(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    return "<1e-4" if value < 1e-4 else f"{value:.4f}"


def _flag(value: bool) -> str:
    return "yes" if value else "no"


def _model_rows(report: RemedyReport) -> list[list[str]]:
    rows = []
    for c in report.candidates:
        mark = "*" if c.name == report.selected else " "
        rows.append(
            [
                f"{mark}{c.name}",
                c.formula,
                c.method,
                _flag(c.converged),
                _flag(c.singular),
                str(c.n_cov_params),
                _num(c.loglik),
                _num(c.aic),
                _num(c.bic),
                c.verdict,
            ]
        )
    return rows


def _effect_row(c: Candidate, e: EffectEstimate, selected: str) -> list[str]:
    mark = "*" if c.name == selected else " "
    ci = f"[{_sig(e.ci_lower)}, {_sig(e.ci_upper)}]" if e.estimable else "-"
    return [f"{mark}{c.name}", _sig(e.estimate), _sig(e.std_error), _num(e.df, 1), ci, _p(e.p_value)]


def remedy_text(report: RemedyReport) -> str:
    """The candidates side by side, the effects of interest, the verdict and the recommendation."""
    kind = "REML" if report.reml else "maximum likelihood"
    lines = [f"Remedies for {report.formula} (fit by {kind})", ""]
    header = [
        "candidate",
        "formula",
        "method",
        "conv",
        "singular",
        "n_cov",
        "logLik",
        "AIC",
        "BIC",
        "verdict",
    ]
    lines += table(header, _model_rows(report), "lllllrrrrl")
    for term in report.effects:
        lines += ["", f"Effect of {term}:"]
        rows = [_effect_row(c, c.effect(term), report.selected) for c in report.candidates]
        lines += table(["candidate", "estimate", "SE", "df", "95% CI", "p"], rows, "lrrrrr")
    lines += [
        "",
        (
            "* recommended. Rows whose method differs (or with different fixed effects) have "
            "incomparable logLik/AIC/BIC."
        ),
        "",
        "Why each candidate:",
    ]
    for c in report.candidates:
        lines.append(f"  {c.name}: {c.reason}")
    lines += ["", f"Sensitivity: {report.sensitivity.verdict}"]
    lines += [f"  {r}" for r in report.sensitivity.reasons]
    if report.notes:
        lines += ["", "Notes:", *(f"  {n}" for n in report.notes)]
    chosen = report.selected_candidate
    lines += ["", f"Recommendation: {chosen.name} ({chosen.formula}, {chosen.method})"]
    lines += [f"  - {r}" for r in report.recommendation]
    for term in report.effects:
        e = chosen.effect(term)
        if e.estimable:
            lines.append(
                f"  {term}: {_sig(e.estimate)} (95% CI {_sig(e.ci_lower)} to {_sig(e.ci_upper)}, "
                f"df {_num(e.df, 1)}, p {_p(e.p_value)})"
            )
    return "\n".join(lines)


def _effect_payload(e: EffectEstimate) -> dict[str, Any]:
    return {
        "term": e.term,
        "estimate": e.estimate,
        "std_error": e.std_error,
        "df": e.df,
        "ci_lower": e.ci_lower,
        "ci_upper": e.ci_upper,
        "p_value": e.p_value,
    }


def remedy_payload(report: RemedyReport) -> dict[str, Any]:
    """The report as the ``lmmdx remedy --json`` object."""
    sens = report.sensitivity
    return clean(
        {
            "candidates": [
                {
                    "name": c.name,
                    "formula": c.formula,
                    "method": c.method,
                    "converged": c.converged,
                    "singular": c.singular,
                    "n_cov_params": c.n_cov_params,
                    "loglik": c.loglik,
                    "aic": c.aic,
                    "bic": c.bic,
                    "verdict": c.verdict,
                    "reason": c.reason,
                    "effects": [_effect_payload(e) for e in c.effects],
                }
                for c in report.candidates
            ],
            "selected": report.selected,
            "recommendation": list(report.recommendation),
            "sensitivity": {
                "verdict": sens.verdict,
                "reasons": list(sens.reasons),
                "effects": [
                    {
                        "term": e.term,
                        "sign_change": e.sign_change,
                        "crosses_0_05": e.crosses,
                        "p_min": e.p_min,
                        "p_max": e.p_max,
                    }
                    for e in sens.effects
                ],
            },
        }
    )
