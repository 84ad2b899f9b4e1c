"""The HTML report: self-contained, every part present, numbers from the records; notebook cells; CLI."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from report_support import seed_diagnosis, seed_fit, seed_remedies
from support import DATA
from support import run_cli as run

from lmmdx.report.figures import caterpillar, forest, groups, invariance, optimizers, pca, profile, residuals
from lmmdx.report.html import document
from lmmdx.report.html.diagnosis import light_colour

FIGURES = {"groups": groups, "caterpillar": caterpillar, "residuals": residuals, "profile": profile, "pca": pca,
           "optimizers": optimizers, "forest": forest, "invariance": invariance}


@pytest.fixture(scope="module")
def parts() -> document.ReportParts:
    return document.collect(seed_fit(), invariance=True, source="seed_example.csv")


@pytest.fixture(scope="module")
def page(parts) -> str:
    return document.render(parts)


def test_the_page_is_self_contained(page):
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "@import" not in page
    assert re.findall(r"url\((.)", page) == ["#"] * page.count("url(")  # only references inside the page
    for link in re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)""", page):
        assert link.startswith(("#", "data:")), link
    addresses = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, addresses  # namespaces
    assert len(page.encode()) < 1_000_000


def test_every_figure_is_there_with_its_caption(page):
    for name, module in FIGURES.items():
        block = re.search(rf'<figure class="fig" id="fig-{name}" data-figure="{name}">(.*?)</figure>', page, re.DOTALL)
        assert block is not None, name
        assert html.escape(module.CAPTION) in block.group(1)
        assert block.group(1).count("<svg") == 1
    assert page.count('<figure class="fig"') == len(FIGURES)


def test_the_fit_tables_hold_the_fit_numbers(page):
    fit = seed_fit()
    tests = fit.coef_tests()
    for t in tests:
        assert f"<code>{t.term}</code>" in page
        assert f"{t.df:#.4g}" in page and f"{t.estimate:#.4g}" in page
    assert f"{fit.objective:#.6g}" in page
    assert "FTOL_REACHED" in page or fit.optimizer.status in page
    assert "Optimiser record" in page and f"<td>{fit.optimizer.nevals}</td>" in page


def test_the_verdict_light_follows_the_worst_finding(page):
    payload = seed_diagnosis().to_dict()
    colour = light_colour(payload)
    assert colour == {"info": "green", "warning": "yellow", "error": "red"}[payload["severity"]]
    assert colour != "green"  # the seed fit is singular
    assert page.count(f'data-light="{colour}"') == 2  # header and diagnosis
    for f in payload["findings"]:
        assert f'data-code="{f["code"]}"' in page
    assert light_colour({"severity": None}) == "green"


def test_the_remedies_highlight_the_recommendation(page):
    report = seed_remedies()
    row = re.search(r'<tr class="selected"><td><b>([^<]+)</b>', page)
    assert row is not None and row.group(1) == report.selected
    assert f"Sensitivity: {report.sensitivity.verdict}" in page
    assert f"Recommendation: {report.selected}" in page


def test_the_profile_intervals_are_listed(parts, page):
    assert parts.profiles is not None and len(parts.profiles) == 4
    for trace in parts.profiles:
        assert html.escape(trace.parameter) in page and f"{trace.upper:.4g}" in page


def test_large_fits_skip_the_profiles_and_say_so(monkeypatch):
    limit = document.PROFILE_MAX_NOBS
    assert document.profiles_wanted(limit, None) and not document.profiles_wanted(limit + 1, None)
    assert document.profiles_wanted(limit + 1, True) and not document.profiles_wanted(10, False)
    monkeypatch.setattr(document, "PROFILE_MAX_NOBS", 100)
    small = document.collect(seed_fit())
    assert small.profiles is None and "160 observations" in small.notes["profiles"]
    text = document.render(small)
    assert 'id="fig-profile"' not in text and "Profiles not computed" in text


def test_figures_show_themselves_in_a_notebook():
    from matplotlib.figure import Figure

    fig = seed_fit().plot.residuals()
    assert isinstance(fig, Figure)
    assert fig._repr_svg_().startswith("<svg")


def test_notebook_cells():
    fit = seed_fit()
    cell = fit._repr_html_()
    assert cell.startswith('<div class="lmmdx"><style>') and "Fixed effects" in cell and "<h4>" in cell
    cell = seed_diagnosis()._repr_html_()
    assert 'data-light="' in cell and "singular_fit" in cell
    cell = seed_remedies()._repr_html_()
    assert 'id="fig-forest"' in cell and "<svg" in cell and 'class="selected"' in cell


def test_fit_report_writes_the_file(tmp_path):
    out = tmp_path / "seed.html"
    text = seed_fit().report(str(out), profile=False)
    assert out.read_text(encoding="utf-8") == text and 'id="fig-caterpillar"' in text


# -- command line ----------------------------------------------------------------------------------
def test_cli_report(capsys, tmp_path):
    out = tmp_path / "r.html"
    code, stdout, err = run(capsys, "report", str(DATA / "seed_example.csv"), "y ~ x + (x | group)", "-o", str(out),
                            "--no-profile")
    assert code == 0 and err == ""
    assert stdout.startswith(f"Wrote {out} (") and stdout.rstrip().endswith("kB).")
    text = out.read_text(encoding="utf-8")
    assert "<code>seed_example.csv</code>" in text and 'id="fig-forest"' in text and "fig-invariance" not in text


@pytest.mark.parametrize(("target", "message"), [
    ("r.txt", "the report must end in .html"),
    ("missing/r.html", "no such folder"),
])
def test_cli_report_refuses_a_bad_output_in_one_line(capsys, tmp_path, target, message):
    code, stdout, err = run(capsys, "report", str(DATA / "seed_example.csv"), "y ~ x + (x | group)", "-o",
                            str(tmp_path / target))
    assert code == 2 and stdout == "" and len(err.strip().splitlines()) == 1 and message in err


def test_cli_report_without_matplotlib_is_one_line(capsys, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run(capsys, "report", str(DATA / "seed_example.csv"), "y ~ x + (x | group)", "-o",
                       str(tmp_path / "r.html"))
    assert code == 2 and err.strip() == ("lmmdx: error: figures and HTML reports need matplotlib, which is not "
                                         "installed: pip install 'lmmdx[report]'")


def test_cli_batch_report(capsys, tmp_path):
    frame = pd.read_csv(DATA / "sleepstudy.csv")
    rng = np.random.default_rng(7)
    subject = pd.factorize(frame["Subject"])[0]
    for i in range(12):
        slope_sd = 0.0 if i % 2 else 6.0
        frame[f"r{i}"] = (250 + 10 * frame["Days"] + rng.normal(0, 25, 18)[subject]
                          + slope_sd * rng.normal(size=18)[subject] * frame["Days"] + rng.normal(0, 25, len(frame)))
    frame["r12"] = 1.0
    data = tmp_path / "wide.csv"
    frame.to_csv(data, index=False)
    page = tmp_path / "summary.html"
    code, _, err = run(capsys, "batch", str(data), "y ~ Days + (Days | Subject)", "--responses", "r*",
                       "--out", str(tmp_path / "out.csv"), "--workers", "1", "--no-progress", "--report", str(page))
    assert code == 0, err
    text = page.read_text(encoding="utf-8")
    assert 'id="fig-codes"' in text and "<svg" in text
    worst = re.search(r'<section id="worst">(.*?)</section>', text, re.DOTALL).group(1)
    rows = re.findall(r"<tr><td>(r\d+)</td>", worst)
    assert rows[0] == "r12"  # the constant response failed: worst first
    table = pd.read_csv(tmp_path / "out.csv")
    flagged = set(table.loc[table["codes"].notna() | table["error"].notna(), "response"])
    assert set(rows) == flagged
