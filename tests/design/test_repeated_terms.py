"""A random effect given twice for one grouping factor is refused in one line (issue 12: the
300-fold ``(1 | g)`` formula searched a 300-dimensional ridge for minutes)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lmmdx

RNG = np.random.default_rng(12)
DATA = pd.DataFrame({"y": RNG.normal(size=60), "x": RNG.normal(size=60), "g": np.repeat(list("abcdef"), 10),
                     "h": np.tile(list("uvw"), 20)})


@pytest.mark.parametrize(("formula", "message"), [
    ("y ~ x + (1 | g) + (1 | g)", r"\(1 \| g\) and \(1 \| g\) both give g a random \(Intercept\)"),
    ("y ~ x + (1 | g) + (x || g)", r"both give g a random \(Intercept\)"),
    ("y ~ x + (x | g) + (0 + x | g)", r"\(1 \+ x \| g\) and \(0 \+ x \| g\) both give g a random x"),
    ("y ~ x + " + " + ".join(["(1 | g)"] * 300), "write each random effect once"),
])
def test_repeated_random_effects_are_refused(formula, message):
    with pytest.raises(lmmdx.FormulaError, match=message):
        lmmdx.fit(formula, DATA)


@pytest.mark.filterwarnings("ignore::lmmdx.LmmdxWarning")
@pytest.mark.parametrize("formula", ["y ~ x + (1 | g) + (0 + x | g)", "y ~ x + (1 | g) + (1 | h)",
                                     "y ~ x + (1 | g) + (1 | g:h)"])
def test_distinct_random_effects_are_accepted(formula):
    assert lmmdx.fit(formula, DATA).nobs == 60
