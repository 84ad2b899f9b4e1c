"""The seam to the diagnosis: a verdict per candidate."""

from __future__ import annotations

import warnings

from support import load

import lmmdx
from lmmdx.remedy.seams import verdict


def test_verdict_names_a_singular_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmmdx.fit("y ~ x + (x | group)", load("seed_example.csv"))
        ok = lmmdx.fit("y ~ x + (1 | group)", load("seed_example.csv"))
    assert verdict(fit) == "singular fit"
    assert verdict(ok) == "ok"
