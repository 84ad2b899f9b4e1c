"""Aggregating the outcomes of a batch into counts per finding code and parameter."""

from __future__ import annotations

import math

from lmmdx.batch.summary import Outcome, summarise

SLOPE = ("boundary", "slope SD of x by g")


def test_counts_read_as_sentences():
    outcomes = ([Outcome((SLOPE,), None, 0)] * 412 + [Outcome((("nonconvergence", ""),), None, 0)] * 3
                + [Outcome((), None, 0)] * 85 + [Outcome((), "the response '<response>' is not numeric", 0)] * 2
                + [Outcome((), None, 4)])
    summary = summarise("y ~ x + (x | g)", True, outcomes)
    assert (summary.n_fits, summary.n_failed, summary.n_clean, summary.n_fitted) == (503, 2, 86, 501)
    assert summary.counts == (("boundary", "slope SD of x by g", 412), ("nonconvergence", "", 3))
    assert summary.clean_share == 86 / 503
    text = summary.text().splitlines()
    assert text[0] == "503 fits of y ~ x + (x | g) (REML): 501 fitted, 2 failed; 86 clean (17.1% of all fits)."
    assert "  412 fits: boundary, slope SD of x by g" in text
    assert "    3 fits: nonconvergence" in text
    assert "    2 fits: the response '<response>' is not numeric" in text
    assert text[-1].startswith("Missing values: 1 fit left out 4 rows")
    assert summary.to_dict()["findings"][0] == {"code": "boundary", "parameter": "slope SD of x by g", "fits": 412}


def test_a_fit_counts_once_per_code_and_parameter():
    twice = Outcome((SLOPE, SLOPE), None, 0)
    assert summarise("f", False, [twice]).counts == (("boundary", "slope SD of x by g", 1),)


def test_empty_batch():
    summary = summarise("f", True, [])
    assert summary.n_fits == 0 and math.isnan(summary.clean_share)
    assert summary.to_dict()["clean_share"] is None
