"""The seed example's report in a real headless browser (Chromium, driven by Playwright), offline.

Skipped when Chromium or Playwright is missing, except under ``LMMDX_REQUIRE_BROWSER=1``
(set by ``.ci/run``, which installs Chromium when it is missing): there it fails instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from report_support import seed_fit

#: The figures of the seed example's report with the invariance self-test.
FIGURES = {"groups", "caterpillar", "residuals", "profile", "pca", "optimizers", "forest", "invariance"}
#: Launch flags that work in a container without a display, a sandbox or network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    path = os.environ.get("LMMDX_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Playwright (pip install playwright)")
    if path is None:
        missing.append("Chromium (apt-get install chromium)")
    if missing:
        message = "the browser test needs " + " and ".join(missing)
        if os.environ.get("LMMDX_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    assert path is not None
    return path


def test_the_report_renders_in_chromium_offline(tmp_path):
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    report = tmp_path / "seed.html"
    seed_fit().report(str(report), invariance=True)
    url = report.resolve().as_uri()
    errors: list[str] = []
    requested: list[str] = []
    blocked: list[str] = []

    def route(r):  # every request that is not the page itself is refused
        if r.request.url == url:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=chromium, headless=True, args=FLAGS, offline=True,
            viewport={"width": 1200, "height": 900}, timeout=120_000)
        try:
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requested.append(r.url))
            page.goto(url, wait_until="load", timeout=120_000)
            figures = page.query_selector_all("figure.fig")
            names = [f.get_attribute("data-figure") for f in figures]
            sizes = {}
            for name, fig in zip(names, figures, strict=True):
                svg = fig.query_selector("svg")
                assert svg is not None, name
                box = svg.bounding_box()
                sizes[name] = (box["width"], box["height"]) if box else (0.0, 0.0)
                assert fig.query_selector("figcaption").inner_text().strip(), name
                drawn = svg.evaluate("e => e.getBBox().width * e.getBBox().height")
                assert drawn > 0, name
            light = page.query_selector(".verdict .light")
            colour = light.evaluate("e => getComputedStyle(e).backgroundColor")
            light_box = light.bounding_box()
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            context.close()
    assert errors == []
    assert blocked == [] and requested == [url]
    assert set(names) == FIGURES and len(names) == len(FIGURES)
    for name, (width, height) in sizes.items():
        assert width > 100 and height > 50, (name, width, height)
    assert colour in {"rgb(199, 124, 2)", "rgb(192, 57, 43)", "rgb(27, 127, 59)"}
    assert light_box is not None and light_box["width"] > 0
    assert _png_size(shot)[1] > 3000 and shot.stat().st_size > 50_000


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
