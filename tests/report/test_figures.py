"""Each figure shows what its caption claims, on data with a known answer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.image import AxesImage
from report_support import many_levels, quiet_fit, seed_diagnosis, seed_fit, seed_profiles, seed_remedies
from scipy import stats
from support import DATA

from lmmdx.errors import LmmdxError
from lmmdx.report.figures import (
    batch,
    caterpillar,
    forest,
    groups,
    invariance,
    optimizers,
    pca,
    profile,
    residuals,
)
from lmmdx.report.figures.canvas import ACCENT, MAX_MARKS, require_matplotlib, to_svg

Z95 = float(stats.norm.ppf(0.975))


def _segments(ax) -> list[np.ndarray]:
    return [s for c in ax.collections if isinstance(c, LineCollection) for s in c.get_segments()]


# -- caterpillar ---------------------------------------------------------------------------------
def test_caterpillar_has_one_sorted_interval_per_level_and_effect():
    fit = seed_fit()
    fig = fit.plot.caterpillar()
    (modes,) = fit.conditional_modes
    (var,) = fit.conditional_variances()
    order = np.argsort(modes.values[:, 0])
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["group: (Intercept)", "group: x"]
    for col, ax in enumerate(fig.axes):
        segments = _segments(ax)
        assert len(segments) == len(modes.levels) == 8
        centres = np.array([s[:, 0].mean() for s in segments])
        rows = np.array([s[0, 1] for s in segments])
        np.testing.assert_array_equal(rows, np.arange(8))
        np.testing.assert_allclose(centres, modes.values[order, col], rtol=1e-12)
        half = np.array([np.ptp(s[:, 0]) / 2 for s in segments])
        np.testing.assert_allclose(half, Z95 * np.sqrt(var[order, col, col]), rtol=1e-12)
    first = np.array([s[:, 0].mean() for s in _segments(fig.axes[0])])
    assert np.all(np.diff(first) >= 0)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [modes.levels[i] for i in order]


def test_caterpillar_draws_many_levels_as_a_band():
    fit = quiet_fit("y ~ x + (1 | g)", many_levels(caterpillar.BAND_LEVELS + 100, 3))
    (ax,) = fit.plot.caterpillar().axes
    assert not _segments(ax)
    assert any(isinstance(c, PolyCollection) for c in ax.collections)
    (line,) = [line for line in ax.get_lines() if np.size(line.get_xdata()) > 2]
    assert line.get_xdata().size == caterpillar.BAND_LEVELS + 100
    assert np.all(np.diff(line.get_xdata()) >= 0)


def test_caterpillar_of_one_factor_and_of_an_unknown_one():
    fit = quiet_fit("diameter ~ 1 + (1 | plate) + (1 | sample)", __import__("support").load("Penicillin.csv"))
    assert len(fit.plot.caterpillar().axes) == 2
    (ax,) = fit.plot.caterpillar(group="sample").axes
    assert len(_segments(ax)) == 6
    with pytest.raises(ValueError, match="no random-effects term"):
        fit.plot.caterpillar(group="nope")


# -- per-group lines -----------------------------------------------------------------------------
def test_group_lines_are_the_model_and_the_pooled_fit():
    fit = seed_fit()
    data = groups.group_panels(fit)
    assert (data.factor, data.covariate, data.nlevels, len(data.panels)) == ("group", "x", 8, 8)
    slopes = dict(zip(fit.conditional_modes[0].levels, fit.conditional_modes[0].values[:, 1], strict=True))
    icpts = dict(zip(fit.conditional_modes[0].levels, fit.conditional_modes[0].values[:, 0], strict=True))
    design = fit.model.design
    pooled = np.linalg.lstsq(design.X, design.y, rcond=None)[0]
    for panel in data.panels:
        assert panel.n == panel.x.size == panel.y.size == 20
        np.testing.assert_allclose(panel.model, (fit.beta[0] + icpts[panel.level], fit.beta[1] + slopes[panel.level]),
                                   rtol=1e-9)
        np.testing.assert_allclose(panel.pooled, pooled, rtol=1e-9)
    fig = groups.group_figure(data)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 8
    for ax, panel in zip(visible, data.panels, strict=True):
        points, model, pooled_line = ax.get_lines()
        assert points.get_xdata().size == 20
        xs = model.get_xdata()
        np.testing.assert_allclose(model.get_ydata(), panel.model[0] + panel.model[1] * xs)
        np.testing.assert_allclose(pooled_line.get_ydata(), panel.pooled[0] + panel.pooled[1] * xs)


def test_group_lines_show_at_most_twelve_levels_and_a_few_thousand_points():
    fit = quiet_fit("y ~ x + (x | g)", many_levels(40, 400))
    data = groups.group_panels(fit)
    assert len(data.panels) == groups.MAX_PANELS == 12 and data.nlevels == 40
    slopes = [p.model[1] for p in data.panels]
    assert slopes == sorted(slopes)
    all_slopes = fit.beta[1] + fit.conditional_modes[0].values[:, 1]
    assert slopes[0] == pytest.approx(all_slopes.min()) and slopes[-1] == pytest.approx(all_slopes.max())
    assert sum(p.x.size for p in data.panels) <= MAX_MARKS
    assert all(p.n == 400 for p in data.panels)
    fig = fit.plot.groups()
    assert "12 of 40 levels" in fig.get_suptitle()


def test_group_panel_without_a_covariate_shows_level_means():
    fit = quiet_fit("Yield ~ 1 + (1 | Batch)", __import__("support").load("Dyestuff.csv"))
    data = groups.group_panels(fit)
    assert data.covariate is None and len(data.panels) == 6
    means = {lvl: fit.fitted[fit.model.design.blocks[0].factor.codes == i].mean()
             for i, lvl in enumerate(fit.model.design.blocks[0].factor.levels)}
    for panel in data.panels:
        assert panel.model == (pytest.approx(means[panel.level]), 0.0)
    (ax,) = fit.plot.groups().axes
    assert [t.get_text() for t in ax.get_xticklabels()] == [p.level for p in data.panels]


# -- residuals -----------------------------------------------------------------------------------
def test_residual_figure_has_the_points_and_a_qq_panel_per_effect():
    fit = seed_fit()
    fig = fit.plot.residuals()
    assert len(fig.axes) == 2 + 2
    scatter = fig.axes[0].get_lines()[0]
    np.testing.assert_allclose(scatter.get_xdata(), fit.fitted)
    np.testing.assert_allclose(scatter.get_ydata(), fit.residuals)
    qq = fig.axes[1].get_lines()[0]
    np.testing.assert_allclose(np.sort(fit.residuals / fit.sigma), qq.get_ydata())
    assert [ax.get_title(loc="left") for ax in fig.axes[2:]] == ["Random effect group: (Intercept)",
                                                               "Random effect group: x"]


def test_residual_figure_bins_large_data():
    fit = quiet_fit("y ~ x + (1 | g)", many_levels(50, 100))
    fig = fit.plot.residuals()
    assert any(isinstance(a, AxesImage) for a in fig.axes[0].get_images())
    assert all(np.size(line.get_xdata()) <= 20 for line in fig.axes[0].get_lines())
    assert fig.axes[1].get_lines()[0].get_xdata().size == residuals.QQ_POINTS
    assert "5,000 points in 90 × 60 bins" in fig.axes[0].get_xlabel()


def test_qq_points_of_normal_quantiles_lie_on_the_diagonal():
    probs = (np.arange(1, 2001) - 0.5) / 2000
    theory, sample = residuals.qq_points(stats.norm.ppf(probs)[::-1])
    assert theory.size == residuals.QQ_POINTS
    np.testing.assert_allclose(theory, sample, atol=1e-12)


# -- profiles ------------------------------------------------------------------------------------
def test_profile_panels_mark_the_interval_limits():
    traces = seed_profiles()
    assert [t.parameter for t in traces] == ["sd_(Intercept)|group", "cor_x.(Intercept)|group", "sd_x|group", "sigma"]
    fig = seed_fit().plot.profile(traces=traces)
    assert len(fig.axes) == 4
    for ax, trace in zip(fig.axes, traces, strict=True):
        vertical = [line.get_xdata()[0] for line in ax.get_lines() if line.get_color() == ACCENT]
        assert vertical == [trace.lower, trace.upper]
        assert trace.lower <= trace.estimate <= trace.upper
        zeta = ax.get_lines()[0]
        np.testing.assert_array_equal(zeta.get_xdata(), trace.values)
    sigma = traces[-1]
    assert np.interp(sigma.lower, sigma.values, sigma.zeta) == pytest.approx(-Z95, abs=0.05)
    assert np.interp(sigma.upper, sigma.values, sigma.zeta) == pytest.approx(Z95, abs=0.05)
    assert traces[1].upper == 1.0  # the singular fit's correlation reaches the edge


# -- diagnosis figures ---------------------------------------------------------------------------
def test_pca_bars_are_the_variance_shares():
    d = seed_diagnosis()
    (ax,) = d.plot.pca().axes
    (component,) = d.pca
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 4
    np.testing.assert_allclose(heights[:2], component.variance_shares)
    np.testing.assert_allclose(heights[2:], component.proportions)
    assert component.variance_shares[0] == pytest.approx(1.0, abs=1e-6)  # rank 1: corr = +1
    assert component.term == "(1 + x | group)"
    assert "1 of 2 supported" in ax.get_title(loc="left")


def test_pca_of_a_well_supported_term_has_two_dimensions():
    fit = quiet_fit("Reaction ~ Days + (Days | Subject)", __import__("support").load("sleepstudy.csv"))
    (component,) = fit.diagnose(optimizers=()).pca
    assert component.supported == 2 and min(component.variance_shares) > 0.01


def test_optimizer_rows_are_the_runs_and_the_tolerance_is_drawn():
    d = seed_diagnosis()
    (ax,) = d.plot.optimizers().axes
    labels, gaps = optimizers.run_gaps(d.runs)
    assert [t.get_text() for t in ax.get_yticklabels()] == labels
    assert len(labels) == len(d.runs) >= 2
    assert np.nanmin(gaps) == 0.0
    dashed = [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert dashed == [1e-3]
    drawn = sum(line.get_xdata().size for line in ax.get_lines() if line.get_linestyle() == "None")
    assert drawn == len(d.runs)
    assert len(d.plot().axes) == 2


# -- remedies ------------------------------------------------------------------------------------
def test_forest_has_one_row_per_usable_candidate_and_highlights_the_recommended():
    report = seed_remedies()
    (ax,) = report.plot.forest().axes
    usable = [c for c in report.candidates if c.usable and c.same_as is None]
    rows = forest.forest_rows(report, "x")
    assert [r.name for r in rows] == [c.name for c in usable]
    assert len(rows) == 5
    labels = ax.get_yticklabels()
    assert len(labels) == len(rows)
    chosen = report.selected_candidate
    target = chosen.same_as or chosen.name
    highlighted = [t.get_text() for t in labels if t.get_color() == ACCENT]
    assert len(highlighted) == 1 and highlighted[0].startswith(target) and chosen.name in highlighted[0]
    segments = _segments(ax)
    for seg, row, c in zip(segments, rows, usable, strict=True):
        e = c.effect("x")
        np.testing.assert_allclose(sorted(seg[:, 0]), [e.ci_lower, e.ci_upper])
        assert row.estimate == e.estimate
    assert "robust" in ax.get_title(loc="left")


# -- invariance and batch ------------------------------------------------------------------------
def test_invariance_rows_are_the_compared_variants():
    check = seed_fit().check_invariance()
    (ax,) = invariance.invariance_figure(check).axes
    assert [t.get_text() for t in ax.get_yticklabels()] == [o.name for o in check.outcomes if o.compared]
    crit = ax.get_lines()[0].get_xdata()
    np.testing.assert_allclose(crit, np.maximum([o.objective_difference for o in check.compared], invariance.FLOOR))


def test_batch_bars_count_the_codes():
    from lmmdx.batch.summary import BatchSummary

    summary = BatchSummary("y ~ x + (x | g)", True, 100, 3, 60, (("boundary", "slope SD of x by g", 30),
                                                                 ("nonconvergence", "", 7)), (("bad", 3),), 0, 0)
    labels, counts, _ = batch.batch_bars(summary)
    assert labels == ["boundary: slope SD of x by g", "nonconvergence", "failed (error)", "clean (no finding)"]
    assert counts == [30, 7, 3, 60]
    (ax,) = batch.batch_figure(summary).axes
    assert [p.get_width() for p in ax.patches] == counts


# -- captions, rendering, lazy import ------------------------------------------------------------
def test_every_figure_has_a_one_line_caption():
    for module in (batch, caterpillar, forest, groups, invariance, optimizers, pca, profile, residuals):
        assert "\n" not in module.CAPTION and module.CAPTION.endswith(".") and 60 < len(module.CAPTION) < 450


def test_svg_is_inline_ready_and_deterministic():
    fig = seed_fit().plot.caterpillar()
    first, second = to_svg(fig, "a"), to_svg(fig, "a")
    assert first == second and first.startswith("<svg") and first.rstrip().endswith("</svg>")
    assert "<?xml" not in first and "DOCTYPE" not in first
    assert "group: (Intercept)" in first  # text kept as text


def test_a_fit_from_the_command_line_never_imports_matplotlib():
    code = ("import sys\nfrom lmmdx.cli.main import main\n"
            f"main(['fit', {str(DATA / 'seed_example.csv')!r}, 'y ~ x + (x | group)'])\n"
            "import lmmdx.report.figures, lmmdx.report.html.document\n"
            "print('matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_without_matplotlib_a_figure_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(LmmdxError, match=r"pip install 'lmmdx\[report\]'"):
        require_matplotlib()
    with pytest.raises(LmmdxError, match="lmmdx.report"):
        seed_fit().plot.caterpillar()
