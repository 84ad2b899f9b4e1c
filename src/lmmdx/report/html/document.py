"""The HTML report of a fit: gather its parts through the Fit's public methods, then render them.

:func:`collect` asks the fit for its diagnosis, remedies, profiles and (on request) its
invariance self-test — the Fit's own methods, which delegate to the layers above — so this
module imports nothing above the report layer. :func:`render` turns the parts into one
self-contained page (:mod:`.page`) with the figures of :mod:`lmmdx.report.figures`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import LmmdxError
from ..figures.canvas import require_matplotlib, to_svg
from .diagnosis import diagnosis_html, light_colour, verdict_html
from .fit import fit_html
from .page import Section, esc, figure, note, page, table
from .remedy import remedy_tables_html

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.figure import Figure

    from ...diagnose import Diagnosis
    from ...inference.profile import ProfileTrace
    from ...invariance import InvarianceCheck
    from ...remedy import RemedyReport
    from ...result import Fit

__all__ = ["PROFILE_MAX_NOBS", "ReportParts", "collect", "profiles_wanted", "render", "write_report"]

#: Profiles are computed by default up to this many observations (each point of a profile is a
#: refit of the model; beyond, ``profile=True`` asks for them).
PROFILE_MAX_NOBS = 20_000
_VERSION = "0.1.0"


@dataclass(frozen=True, slots=True)
class ReportParts:
    """Everything the report shows.

    Attributes
    ----------
    fit : Fit
    payload : dict
        The fit's ``--json`` object (fixed effects with Satterthwaite df and p).
    diagnosis : Diagnosis
        With the invariance self-test's findings when it was run.
    remedies : RemedyReport or None
        None when the remedies could not be fitted (``notes`` says why).
    profiles : tuple of ProfileTrace or None
        Profiles of the variance parameters (None when not computed).
    invariance : InvarianceCheck or None
    notes : dict of str to str
        Why a part is missing, by part.
    seconds : dict of str to float
        Time each part took (shown nowhere; for the benchmark).
    source : str or None
        Where the data came from (a file name), for the header.
    """

    fit: Fit
    payload: dict[str, Any]
    diagnosis: Diagnosis
    remedies: RemedyReport | None
    profiles: tuple[ProfileTrace, ...] | None
    invariance: InvarianceCheck | None
    notes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    source: str | None = None


def profiles_wanted(nobs: int, profile: bool | None) -> bool:
    """Whether the report profiles the variance parameters: as asked, else up to :data:`PROFILE_MAX_NOBS`."""
    return nobs <= PROFILE_MAX_NOBS if profile is None else bool(profile)


def collect(fit: Fit, invariance: bool = False, profile: bool | None = None, source: str | None = None) -> ReportParts:
    """Compute the parts of the report (the diagnosis, remedies, profiles, invariance check).

    Parameters
    ----------
    fit : Fit
    invariance : bool
        Run the invariance self-test and add its findings to the diagnosis.
    profile : bool, optional
        Profile the variance parameters; default: when ``fit.nobs`` ≤ :data:`PROFILE_MAX_NOBS`.
    source : str, optional
        The data's name for the header.
    """
    require_matplotlib()
    notes: dict[str, str] = {}
    seconds: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any], optional: bool = True) -> Any:
        start = time.perf_counter()
        try:
            return work()
        except LmmdxError as exc:
            if not optional:
                raise
            notes[name] = str(exc)
            return None
        finally:
            seconds[name] = time.perf_counter() - start

    payload = timed("satterthwaite", fit.to_dict)
    if payload is None:  # the tables without df and p-values
        payload = fit.to_dict(ddf=None)
    diagnosis = timed("diagnosis", fit.diagnose, optional=False)
    check = timed("invariance", fit.check_invariance) if invariance else None
    if check is not None:
        diagnosis = diagnosis.with_findings(check.findings)
    remedies = timed("remedies", fit.remedies)
    wanted = profiles_wanted(fit.nobs, profile)
    traces = timed("profiles", lambda: fit.profile(0.95, "theta_")) if wanted else None
    if not wanted:
        notes["profiles"] = (f"not computed: each point of a profile is a refit, and this fit has {fit.nobs:,} "
                             f"observations (more than {PROFILE_MAX_NOBS:,}); ask with profile=True or run "
                             "lmmdx fit --ci profile")
    return ReportParts(fit, payload, diagnosis, remedies, traces, check, notes, seconds, source)


def _figure(name: str, title: str, caption: str, draw: Callable[[], Figure]) -> str:
    try:
        fig = draw()
    except ValueError as exc:
        return note(f"{title}: {exc}")
    return figure(name, title, caption, to_svg(fig, salt=f"lmmdx-{name}"))


def _header(parts: ReportParts) -> str:
    fit = parts.fit
    kind = "REML" if fit.reml else "maximum likelihood"
    source = f" on <code>{esc(parts.source)}</code>" if parts.source else ""
    groups = ", ".join(f"{esc(g)} ({n:,} levels)" for g, n in fit.ngroups.items())
    return (f"<h1>lmmdx report</h1><p class=\"sub\"><code>{esc(fit.formula)}</code>{source}, fitted by {kind}: "
            f"{fit.nobs:,} observations; {groups}.</p>" + verdict_html(parts.diagnosis.to_dict()))


def _fit_figures(parts: ReportParts) -> str:
    from ..figures import caterpillar, groups, profile, residuals

    fit = parts.fit
    out = [
        _figure("groups", "Per-group data and lines", groups.CAPTION, fit.plot.groups),
        _figure("caterpillar", "Conditional modes (caterpillar plot)", caterpillar.CAPTION, fit.plot.caterpillar),
        _figure("residuals", "Residuals and QQ plots", residuals.CAPTION, fit.plot.residuals),
    ]
    if parts.profiles:
        traces = parts.profiles
        out.append(_figure("profile", "Profiles of the variance parameters", profile.CAPTION,
                           lambda: fit.plot.profile(0.95, traces)))
        rows = [[esc(t.parameter), f"{t.estimate:.4g}", f"{t.lower:.4g}", f"{t.upper:.4g}"] for t in traces]
        out.append("<h3>Profile-likelihood 95% intervals (ML)</h3>"
                   + table(["Parameter", "ML estimate", "2.5 %", "97.5 %"], rows, [False, True, True, True]))
    if "profiles" in parts.notes:
        out.append(note("Profiles " + parts.notes["profiles"]))
    return "".join(out)


def _diagnosis(parts: ReportParts) -> str:
    from ..figures import optimizers, pca

    d = parts.diagnosis
    plots = d.plot
    figs = {}
    if d.pca:
        figs["pca"] = _figure("pca", "Principal components of each random term (rePCA)", pca.CAPTION, plots.pca)
    if d.runs:
        figs["optimizers"] = _figure("optimizers", "Optimiser agreement", optimizers.CAPTION, plots.optimizers)
    return diagnosis_html(d.to_dict(), figures=figs)


def _remedies(parts: ReportParts) -> str:
    from ..figures import forest

    report = parts.remedies
    if report is None:
        return note("The remedies could not be fitted: " + parts.notes.get("remedies", "unknown reason"))
    comparison, conclusion = remedy_tables_html(report)
    forest_html = _figure("forest", "Effects of interest across the candidates", forest.CAPTION, report.plot.forest)
    return comparison + forest_html + conclusion


def _invariance(parts: ReportParts) -> str:
    from ..figures import invariance

    check = parts.invariance
    if check is None:
        return note("The invariance self-test could not run: " + parts.notes.get("invariance", "unknown reason"))
    rows = [[esc(v["name"]), esc(v["description"]), f"{v['objective_difference']:.1e}"
             if v["objective_difference"] is not None else "–",
             f"{v['estimate_difference']:.1e}" if v["estimate_difference"] is not None else "–", esc(v["worst"] or v["note"] or "")]
            for v in check.to_dict()["variants"]]
    verdict = ("No finding: everything agrees to the tolerance." if check.finding is None
               else check.finding.explanation)
    return (f"<p>{esc(verdict)}</p>"
            + _figure("invariance", "Invariance self-test", invariance.CAPTION,
                      lambda: invariance.invariance_figure(check))
            + table(["Variant", "What changed", "Criterion", "Estimates", "Moved most / note"], rows,
                    [False, False, True, True, False]))


def render(parts: ReportParts) -> str:
    """The report as one self-contained HTML document."""
    sections = [Section("fit", "Fit", fit_html(parts.payload)),
                Section("diagnosis", "Diagnosis", _diagnosis(parts)),
                Section("figures", "Figures", _fit_figures(parts)),
                Section("remedies", "Remedies", _remedies(parts))]
    if parts.invariance is not None or "invariance" in parts.notes:
        sections.append(Section("invariance", "Invariance self-test", _invariance(parts)))
    light = light_colour(parts.diagnosis.to_dict())
    footer = (f"Written by lmmdx {_VERSION}. Self-contained: styles and figures (SVG) are inline; nothing is "
              f"fetched when it is viewed. Verdict light: {light}.")
    return page(f"lmmdx report: {parts.fit.formula}", _header(parts), sections, footer)


def write_report(fit: Fit, path: str | None = None, invariance: bool = False, profile: bool | None = None,
                 source: str | None = None) -> str:
    """Collect, render and (when ``path`` is given) write the report; returns the HTML."""
    text = render(collect(fit, invariance=invariance, profile=profile, source=source))
    if path is not None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return text
