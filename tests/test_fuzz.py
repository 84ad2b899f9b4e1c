"""Fuzzing (issue 7): formulas from the supported grammar on hostile data never crash.

Hypothesis draws a data frame (missing values, infinities, constant columns,
one-level factors, all-equal responses, unicode and spaced column names,
empty strings, huge and tiny magnitudes, booleans, dates) and a formula over its
columns (fixed terms, ``a:b``, ``a*b``, ``I(x^2)``, ``log(x)``, ``0 +``, random
terms ``(1 | g)``, ``(x | g)``, ``(x || g)``, ``(0 + x | g)``, ``(1 | g/h)``,
``(1 | g:h)``; names backtick-quoted when needed). Every call of
:func:`lmmdx.fit` returns a :class:`~lmmdx.Fit` or raises a one-line
:class:`~lmmdx.LmmdxError`; the command line (run in-process on a CSV) exits 0
or 2 and never prints a traceback.

Profiles: ``ci`` (default; 300 + 150 cases, derandomised so CI is reproducible)
and ``long`` (``HYPOTHESIS_PROFILE=long``: 5,000 + 2,000 random cases), see README.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lmmdx
from lmmdx.cli.main import main
from lmmdx.fitting import ENGINE_FAILURE

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=300, derandomize=True, **_COMMON)
settings.register_profile("long", max_examples=5000, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "long"):
    PROFILE = "ci"
SETTINGS = settings.get_profile(PROFILE)
#: Cases of the API test; the CLI test runs half as many (it writes and reads a CSV each time).
API_CASES = SETTINGS.max_examples
CLI_CASES = max(API_CASES // 2, 1)

_SYNTACTIC = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")

NAMES = ["x", "z", "w", "my x", "größe", "温度", "x.1", "dose_mg", "a b c", "Ω", "t"]
GROUP_NAMES = ["g", "h", "site id", "Gruppe", "群", "k"]
RESPONSE_NAMES = ["y", "log y", "réponse", "Y"]

# Kinds of columns; benign kinds are listed several times so that about half of the
# cases reach the optimiser while every hostile kind still comes up often.
NUMERIC_KINDS = ["normal"] * 18 + ["int"] * 4 + ["nan", "inf", "constant", "huge", "tiny", "zero", "negative"]
OTHER_KINDS = ["bool"] * 3 + ["cat"] * 6 + ["date", "one_level", "empty_strings", "unicode_levels", "mixed"]
GROUP_KINDS = ["few"] * 14 + ["ints", "ints", "unicode_levels", "unicode_levels", "empty_strings", "bool",
                             "many", "one_level", "nan", "unique"]
RESPONSE_KINDS = ["normal"] * 20 + ["constant", "nan", "inf", "huge", "tiny", "all_nan", "int", "bool", "text"]
SIZES = [40, 60, 80, 24] * 4 + [0, 1, 2, 3, 5, 8, 12, 20]
RANDOM_TERM_COUNTS = [1] * 12 + [2] * 7 + [0]  # no random-effects term in 1 case of 20


def quote(name: str) -> str:
    return name if _SYNTACTIC.match(name) else f"`{name}`"


def numeric_column(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.normal(size=n)
    if kind == "int":
        return rng.integers(0, 10, size=n)
    if kind == "nan":
        return np.where(rng.random(n) < 0.3, np.nan, base)
    if kind == "inf":
        return np.where(rng.random(n) < 0.1, np.inf, base)
    if kind == "constant":
        return np.full(n, 3.5)
    if kind == "huge":
        return base * 1e150
    if kind == "tiny":
        return base * 1e-150
    if kind == "zero":
        return np.zeros(n)
    if kind == "negative":
        return -np.abs(base) - 1.0
    return base


def other_column(kind: str, n: int, rng: np.random.Generator) -> pd.Series | np.ndarray:
    if kind == "bool":
        return rng.random(n) < 0.5
    if kind == "date":
        return pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, size=n), unit="D"))
    if kind == "cat":
        return rng.choice(["a", "b", "c"], size=n)
    if kind == "one_level":
        return np.array(["only"] * n, dtype=object)
    if kind == "empty_strings":
        return rng.choice(["", "u", " "], size=n)
    if kind == "unicode_levels":
        return rng.choice(["α", "β γ", "日本"], size=n)
    return np.array([["a", 1, 2.5, None][i % 4] for i in range(n)], dtype=object)  # mixed


def group_column(kind: str, n: int, rng: np.random.Generator) -> pd.Series | np.ndarray:
    if kind == "many":
        return rng.integers(0, max(n // 2, 1), size=n).astype(str)
    if kind == "one_level":
        return np.array(["g1"] * n)
    if kind == "nan":
        return np.where(rng.random(n) < 0.2, None, rng.choice(["a", "b", "c"], size=n)).astype(object)
    if kind == "empty_strings":
        return rng.choice(["", "x", " "], size=n)
    if kind == "unicode_levels":
        return rng.choice(["α", "β", "γ δ", "日本"], size=n)
    if kind == "ints":
        return rng.integers(1, 5, size=n)
    if kind == "bool":
        return rng.random(n) < 0.5
    if kind == "unique":
        return np.arange(n).astype(str)
    return rng.choice(["a", "b", "c", "d"], size=n)


def response_column(kind: str, n: int, rng: np.random.Generator) -> pd.Series | np.ndarray:
    base = rng.normal(loc=10.0, size=n)
    if kind == "constant":
        return np.full(n, 2.0)
    if kind == "nan":
        return np.where(rng.random(n) < 0.2, np.nan, base)
    if kind == "inf":
        return np.where(rng.random(n) < 0.1, -np.inf, base)
    if kind == "huge":
        return base * 1e200
    if kind == "tiny":
        return base * 1e-200
    if kind == "all_nan":
        return np.full(n, np.nan)
    if kind == "int":
        return rng.integers(0, 3, size=n)
    if kind == "bool":
        return rng.random(n) < 0.5
    if kind == "text":
        return rng.choice(["1", "two", ""], size=n)
    return base


@st.composite
def cases(draw: st.DrawFn) -> tuple[pd.DataFrame, str]:
    """A data frame and a formula over its columns."""
    # Kinds and sizes come from weighted choices of a drawn seed: hypothesis's own choices
    # favour the ends of a list, and half of the cases should reach the optimiser.
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = int(rng.choice(SIZES))
    columns: dict[str, object] = {}
    response = draw(st.sampled_from(RESPONSE_NAMES))
    columns[response] = response_column(str(rng.choice(RESPONSE_KINDS)), n, rng)
    covariates = draw(st.lists(st.sampled_from(NAMES), min_size=0, max_size=3, unique=True))
    for name in covariates:
        kind = str(rng.choice(NUMERIC_KINDS + OTHER_KINDS))
        columns[name] = (numeric_column(kind, n, rng) if kind in NUMERIC_KINDS
                         else other_column(kind, n, rng))
    groups = draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=1, max_size=2, unique=True))
    for name in groups:
        columns[name] = group_column(str(rng.choice(GROUP_KINDS)), n, rng)
    frame = pd.DataFrame({k: (v if isinstance(v, pd.Series) else list(v) if n else []) for k, v in columns.items()})
    if draw(st.booleans()):  # sometimes pandas dtypes as a CSV reader would give them
        frame = frame.convert_dtypes()

    terms = [quote(c) for c in covariates]
    fixed: list[str] = []
    for name in terms:
        form = draw(st.sampled_from(["{}", "{}", "log({})", "I({}^2)", "{}:{}", "{}*{}"]))
        other = draw(st.sampled_from(terms))
        fixed.append(form.format(name, other) if form.count("{}") == 2 else form.format(name))
    intercept = draw(st.sampled_from(["", "1", "0", "-1"]))
    if intercept == "-1":
        fixed.append("- 1") if fixed else fixed.append("1")
    elif intercept:
        fixed.insert(0, intercept)
    random_terms: list[str] = []
    for _ in range(int(rng.choice(RANDOM_TERM_COUNTS))):
        group = quote(draw(st.sampled_from(groups)))
        if len(groups) > 1 and draw(st.booleans()):
            other = quote(next(g for g in groups if quote(g) != group))
            group = f"{group}{draw(st.sampled_from(['/', ':']))}{other}"
        lhs = draw(st.sampled_from(["1", "{}", "0 + {}", "1 + {} + {}", "{} + {}"]))
        if terms:
            lhs = lhs.format(*(draw(st.sampled_from(terms)) for _ in range(lhs.count("{}"))))
        else:
            lhs = "1"
        bar = draw(st.sampled_from(["|", "|", "||"]))
        random_terms.append(f"({lhs} {bar} {group})")
    rhs = " + ".join(fixed).replace("+ - 1", "- 1")
    rhs = " + ".join(p for p in [rhs, *random_terms] if p) or "1"
    return frame, f"{quote(response)} ~ {rhs}"


def check_fit(frame: pd.DataFrame, formula: str, reml: bool) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = lmmdx.fit(formula, frame, reml=reml)
        except lmmdx.LmmdxError as exc:
            result = exc
    leaked = [f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, lmmdx.LmmdxWarning)]
    assert not leaked, leaked  # only lmmdx's own warnings reach the user
    if isinstance(result, lmmdx.LmmdxError):
        message = str(result)
        assert message and "\n" not in message, repr(message)
        assert ENGINE_FAILURE not in message, message  # an engine exception caught by the guard
        return
    assert isinstance(result, lmmdx.Fit)
    assert np.isfinite(result.objective)
    json.dumps(result.to_dict(), allow_nan=False)
    assert result.summary()


@settings(SETTINGS, max_examples=API_CASES)
@given(cases(), st.booleans())
def test_fit_returns_a_fit_or_a_one_line_error(case, reml):
    frame, formula = case
    check_fit(frame, formula, reml)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@settings(SETTINGS, max_examples=CLI_CASES)
@given(cases(), st.booleans(), st.sampled_from(["fit", "fit", "fit", "batch", "check-invariance"]))
def test_cli_never_prints_a_traceback(case, json_output, command):
    frame, formula = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        frame.to_csv(path, index=False)
        argv = [command, str(path), formula] + (["--json"] if json_output else [])
        if command == "batch":
            response = frame.columns[0]  # the formula's response, as a response column
            argv += ["--responses", response, "--out", str(Path(folder) / "out.csv"), "--workers", "1"]
        code, out, err = run_cli(argv)
    assert code in (0, 2), (code, err)
    assert "Traceback" not in out + err
    if code == 2:
        assert out == "" and len(err.strip().splitlines()) == 1, err
    elif json_output:
        payload = json.loads(out)
        assert payload["formula"] == formula or command == "batch"


@pytest.mark.parametrize(("frame", "formula"), [
    (pd.DataFrame({"y": [1.0] * 6, "g": list("aabbcc")}), "y ~ 1 + (1 | g)"),
])
def test_examples(frame, formula):
    check_fit(frame, formula, True)
