"""The diagnosis as HTML, from its ``--json`` payload (:meth:`Diagnosis.to_dict`): the verdict with a
traffic light, each finding with its explanation, evidence and remedies, and the tables behind them."""

from __future__ import annotations

from typing import Any

from .page import esc, key_values, light, num, table

__all__ = ["diagnosis_html", "findings_html", "light_colour", "support_html", "verdict_html"]

#: The verdict's traffic light from the worst severity among the findings.
_LIGHTS = {None: "green", "info": "green", "warning": "yellow", "error": "red"}
_WORDS = {"green": "no problem that changes the numbers", "yellow": "some numbers are fragile",
          "red": "some reported numbers are wrong or undefined"}


def light_colour(payload: dict[str, Any]) -> str:
    """``green``, ``yellow`` or ``red`` from the worst finding's severity."""
    return _LIGHTS.get(payload.get("severity"), "red")


def verdict_html(payload: dict[str, Any]) -> str:
    """The traffic light, the status and the verdict in words."""
    colour = light_colour(payload)
    return (f'<div class="verdict" data-light="{colour}">{light(colour, _WORDS[colour])}<div>'
            f"<b>{esc(payload['status'].replace('_', ' '))}</b> ({esc(_WORDS[colour])})<br>"
            f"{esc(payload['verdict'])}</div></div>")


def _evidence(evidence: dict[str, Any]) -> str:
    if not evidence:
        return ""
    return "<details><summary>evidence</summary>" + key_values(
        (k, _plain(v)) for k, v in evidence.items()) + "</details>"


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{esc(k)}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return num(value)


def findings_html(findings: list[dict[str, Any]]) -> str:
    """Each finding: severity, title, parameters, explanation, evidence and ranked remedies."""
    if not findings:
        return "<p>No findings.</p>"
    out = []
    for f in findings:
        params = (f'<div class="params">parameters: {esc(", ".join(f["parameters"]))}</div>'
                  if f["parameters"] else "")
        remedies = "".join(
            f"<li><code>{esc(r['action'])}</code> "
            + (f"fit <code>{esc(r['formula'])}</code>: " if r.get("formula") else "")
            + f"{esc(r['reason'])}</li>" for r in f["remedies"])
        out.append(
            f'<div class="finding {esc(f["severity"])}" data-code="{esc(f["code"])}">'
            f'<span class="badge {esc(f["severity"])}">{esc(f["severity"])}</span>'
            f"<b>{esc(f.get('title') or f['code'])}</b> <code>{esc(f['code'])}</code>{params}"
            f"<div>{esc(f['explanation'])}</div>{_evidence(f.get('evidence') or {})}"
            + (f"<div>Remedies, best first:<ol>{remedies}</ol></div>" if remedies else "") + "</div>")
    return "".join(out)


def support_html(support: list[dict[str, Any]]) -> str:
    """The data-support table with each factor's traffic light and the reasons behind it."""
    rows = []
    for s in support:
        obs = s["obs_per_level"]
        rows.append([f"<span class=\"rating\">{light(s['rating'], s['rating'])} {esc(s['rating'])}</span>", esc(s["factor"]), num(s["levels"]),
                     f"{num(obs['min'])} / {num(obs['median'])} / {num(obs['max'])}", num(s["n_params"]),
                     esc("; ".join(s["reasons"]))])
    return table(["Rating", "Factor", "Levels", "Obs/level min / median / max", "Var-cov params", "Why"], rows,
                 [False, False, True, True, True, False])


def _components(payload: dict[str, Any]) -> str:
    rows = [[esc(c["parameter"]), num(c["estimate"]), num(c["sd_or_corr"]), num(c["std_error"]), num(c["z_value"]),
             esc("" if c["status"] == "ok" else c["status"])] for c in payload["variance_components"]]
    if not rows:
        return ""
    out = ("<h3>Variance components</h3>"
           + table(["Parameter", "Estimate", "SD / corr", "Std. error", "z", "Status"], rows,
                   [False, True, True, True, True, False])
           + '<p class="sub">Variance/covariance scale; asymptotic standard errors from the observed '
             "information.</p>")
    info = payload.get("information")
    if info:
        items = [("condition number (unit diagonal)", num(info["condition_number"])),
                 ("positive definite", num(info["positive_definite"]))]
        if info["boundary"]:
            items.append(("held on the boundary", esc(", ".join(info["boundary"]))))
        items += [("not determined by the data", esc(c["description"])) for c in info["near_null"]]
        out += key_values(items)
    return out


def _runs(payload: dict[str, Any]) -> str:
    runs = payload["optimizer_runs"]
    if not runs:
        return ""
    best = min((r["objective"] for r in runs if r["objective"] is not None), default=None)
    rows = [[esc(r["optimizer"]), esc(r["start"]), num(r["objective"], 8),
             num(None if best is None or r["objective"] is None else r["objective"] - best, 3),
             num(r["converged"]), num(r["evaluations"])] for r in runs]
    spread = payload.get("objective_spread")
    return ("<h3>Optimiser agreement</h3>"
            + table(["Optimiser", "Start", "Criterion", "− best", "Converged", "Evaluations"], rows,
                    [False, False, True, True, False, True])
            + (f'<p class="sub">Criterion spread over the runs: {num(spread)}.</p>' if spread is not None else ""))


def diagnosis_html(payload: dict[str, Any], heading: str = "h3", figures: dict[str, str] | None = None) -> str:
    """The diagnosis (``figures``: HTML of the rePCA and optimiser figures, placed with their tables)."""
    figures = figures or {}
    edf = payload.get("effective_df")
    extra = (f'<p class="sub">Effective degrees of freedom (trace of the hat matrix): {num(edf)}; residual '
             f'degrees of freedom left: {num(payload.get("residual_df"))} of {payload["nobs"]:,}.</p>'
             if edf is not None else "")
    return (
        f'<div class="lmmdx-diagnosis">{verdict_html(payload)}'
        f"<{heading}>Findings (worst first)</{heading}>{findings_html(payload['findings'])}"
        f"<{heading}>Data support</{heading}>{support_html(payload['support'])}"
        '<p class="sub">green: identifiable; yellow: risk of a singular fit; red: not identifiable.</p>'
        f"{_components(payload)}{figures.get('pca', '')}{_runs(payload)}{figures.get('optimizers', '')}{extra}"
        "</div>"
    )
