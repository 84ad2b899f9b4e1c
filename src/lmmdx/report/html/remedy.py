"""The remedies as HTML: the candidates side by side, the effects, the sensitivity verdict and the
recommendation, from the ``--json`` payload (:meth:`RemedyReport.to_dict`) and the report's notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .page import esc, num, p_value, table

if TYPE_CHECKING:
    from ...remedy.result import RemedyReport

__all__ = ["remedy_html", "remedy_tables_html"]


def _candidates(payload: dict[str, Any]) -> str:
    selected = payload["selected"]
    rows, marks = [], []
    for c in payload["candidates"]:
        rows.append([f"<b>{esc(c['name'])}</b>" if c["name"] == selected else esc(c["name"]),
                     f"<code>{esc(c['formula'])}</code>", esc(c["method"]), num(c["converged"]), num(c["singular"]),
                     num(c["n_cov_params"]), num(c["loglik"], 6), num(c["aic"], 6), num(c["bic"], 6),
                     esc(c["verdict"])])
        marks.append(c["name"] == selected)
    return table(["Candidate", "Formula", "Method", "Conv.", "Singular", "Var-cov params", "logLik", "AIC", "BIC",
                  "Verdict"], rows, [False, False, False, False, False, True, True, True, True, False], marks)


def _effects(payload: dict[str, Any]) -> str:
    selected = payload["selected"]
    terms = [e["term"] for e in payload["candidates"][0]["effects"]] if payload["candidates"] else []
    out = []
    for term in terms:
        rows, marks = [], []
        for c in payload["candidates"]:
            e = next(x for x in c["effects"] if x["term"] == term)
            ci = (f"[{num(e['ci_lower'])}, {num(e['ci_upper'])}]" if e["ci_lower"] is not None else "–")
            rows.append([esc(c["name"]), num(e["estimate"]), num(e["std_error"]), num(e["df"], 3), ci,
                         p_value(e["p_value"])])
            marks.append(c["name"] == selected)
        out.append(f"<h4>Effect of <code>{esc(term)}</code></h4>"
                   + table(["Candidate", "Estimate", "SE", "df", "95% CI", "p"], rows,
                           [False, True, True, True, True, True], marks))
    return "".join(out)


def remedy_tables_html(report: RemedyReport) -> tuple[str, str]:
    """The comparison (candidates and effects) and the conclusion (sensitivity, recommendation, reasons)."""
    payload = report.to_dict()
    sens = payload["sensitivity"]
    chosen = report.selected_candidate
    reasons = "".join(f"<li>{esc(r)}</li>" for r in payload["recommendation"])
    why = "".join(f"<li><b>{esc(c['name'])}</b>: {esc(c['reason'])}</li>" for c in payload["candidates"])
    notes = "".join(f"<li>{esc(n)}</li>" for n in report.notes)
    comparison = (_candidates(payload) + '<p class="sub">Highlighted: recommended. Rows whose method or fixed part '
                  "differs have incomparable logLik/AIC/BIC.</p>" + _effects(payload))
    conclusion = (
        f"<h3>Sensitivity: {esc(sens['verdict'])}</h3><ul>"
        + "".join(f"<li>{esc(r)}</li>" for r in sens["reasons"]) + "</ul>"
        + f"<h3>Recommendation: {esc(chosen.name)}</h3><p><code>{esc(chosen.formula)}</code> "
          f"({esc(chosen.method)})</p><ul>{reasons}</ul>"
        + f"<details><summary>why each candidate</summary><ul>{why}</ul></details>"
        + (f"<details><summary>notes</summary><ul>{notes}</ul></details>" if notes else "")
    )
    return comparison, conclusion


def remedy_html(report: RemedyReport, forest: str = "") -> str:
    """Tables, the forest plot's HTML (when given) and the conclusion (also ``RemedyReport._repr_html_``)."""
    comparison, conclusion = remedy_tables_html(report)
    kind = "REML" if report.reml else "maximum likelihood"
    return (f'<div class="lmmdx-remedy"><p>Remedies for <code>{esc(report.formula)}</code> (fit by {kind})</p>'
            f"{comparison}{forest}{conclusion}</div>")
