"""The figures statisticians look at, as matplotlib figures (the optional extra ``lmmdx[report]``).

One module per figure, each a function of records (no pyplot, no global state) with a
one-line ``CAPTION`` saying what to look for; :func:`.canvas.to_svg` renders them for the
HTML report. The accessors below are what ``fit.plot``, ``diagnosis.plot`` and
``report.plot`` return:

* :class:`FitPlots` — ``groups()`` (per-group data with the model's and the pooled lines),
  ``caterpillar()`` (conditional modes with intervals), ``residuals()`` (residuals vs
  fitted, QQ plots of the residuals and of each random effect), ``profile()`` (ζ plots);
* :class:`DiagnosisPlots` — ``pca()`` (rePCA variance shares), ``optimizers()`` (the
  agreement runs), or both when called;
* :class:`RemedyPlots` — ``forest()`` (each effect across the usable candidates), also when called.

matplotlib is imported when a figure is drawn, never before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure

    from ...diagnose import Diagnosis
    from ...inference.profile import ProfileTrace
    from ...remedy.result import RemedyReport
    from ...result import Fit

__all__ = ["DiagnosisPlots", "FitPlots", "RemedyPlots"]


class FitPlots:
    """The figures of a :class:`~lmmdx.result.Fit` (``fit.plot``)."""

    def __init__(self, fit: Fit) -> None:
        self._fit = fit

    def groups(self, factor: str | None = None, covariate: str | None = None, max_panels: int = 12) -> Figure:
        """Per-group data with the model's line for each level and the pooled line
        (see :func:`.groups.group_panels` for the defaults)."""
        from .groups import group_figure, group_panels

        return group_figure(group_panels(self._fit, factor, covariate, max_panels))

    def caterpillar(self, group: str | None = None, level: float = 0.95) -> Figure:
        """Conditional modes of each term with ``level`` intervals, one per level, sorted."""
        from .caterpillar import caterpillar

        fit = self._fit
        return caterpillar(fit.conditional_modes, fit.conditional_variances(), level, group)

    def residuals(self) -> Figure:
        """Residuals vs fitted and normal QQ plots of the residuals and of each random effect."""
        from .residuals import residual_figure

        fit = self._fit
        return residual_figure(fit.fitted, fit.residuals, fit.sigma, fit.conditional_modes)

    def profile(self, level: float = 0.95, traces: Sequence[ProfileTrace] | None = None) -> Figure:
        """ζ plots of the variance parameters (profiled now unless ``traces`` are given)."""
        from .profile import profile_figure

        return profile_figure(self._fit.profile(level, "theta_") if traces is None else traces, level)


class DiagnosisPlots:
    """The figures of a :class:`~lmmdx.diagnose.Diagnosis` (``diagnosis.plot``)."""

    def __init__(self, diagnosis: Diagnosis, tolerance: float) -> None:
        self._diagnosis = diagnosis
        self._tolerance = tolerance

    def __call__(self) -> Figure:
        """The rePCA shares (terms with several effects) and the optimiser runs in one figure."""
        from .canvas import new_figure, styled
        from .optimizers import draw_runs
        from .pca import draw_pca, vector_terms

        d = self._diagnosis
        terms = vector_terms(d.pca)

        @styled
        def draw() -> Figure:
            panels = len(terms) + (1 if d.runs else 0)
            if not panels:
                raise ValueError("the diagnosis has neither components nor optimiser runs to draw")
            fig = new_figure(3.0 * len(terms) + (5.5 if d.runs else 0), 2.8)
            grid = fig.add_gridspec(1, panels, width_ratios=[1.0] * len(terms) + ([1.8] if d.runs else []))
            for i, component in enumerate(terms):
                draw_pca(fig.add_subplot(grid[0, i]), component)
            if d.runs:
                draw_runs(fig.add_subplot(grid[0, panels - 1]), d.runs, self._tolerance)
            return fig

        return draw()

    def pca(self) -> Figure:
        """Variance shares of the principal components of each term (lme4's rePCA)."""
        from .pca import pca_figure

        return pca_figure(self._diagnosis.pca)

    def optimizers(self) -> Figure:
        """The criterion of each optimiser run relative to the best."""
        from .optimizers import runs_figure

        return runs_figure(self._diagnosis.runs, self._tolerance)


class RemedyPlots:
    """The figures of a :class:`~lmmdx.remedy.RemedyReport` (``report.plot``)."""

    def __init__(self, report: RemedyReport) -> None:
        self._report = report

    def __call__(self, effects: Sequence[str] | None = None) -> Figure:
        """The forest plot."""
        return self.forest(effects)

    def forest(self, effects: Sequence[str] | None = None) -> Figure:
        """Each effect of interest across the usable candidates, estimate and 95% CI, recommended highlighted."""
        from .forest import forest_figure

        return forest_figure(self._report, None if effects is None else tuple(effects))
