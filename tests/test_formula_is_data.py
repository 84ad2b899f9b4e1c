"""A formula is data: no formula runs code, in any command, in any part of the formula.

Terms are evaluated only through lmmdx's allow-list (README, "What a formula may call"): an
unknown function is refused when the formula is parsed, before the data are read, with one
line naming it. Each case here would have run a shell command through formulaic's Python
evaluation (issue 10, item 7; issue 11): the test watches for the marker file it would create.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from support import run_cli

import lmmdx
from lmmdx.formula import FUNCTIONS

ATTACKS = {
    "__import__": "I(__import__('os').system('touch {marker}'))",
    "np.f2py.os.system": "I(np.f2py.os.system('touch {marker}'))",
    "eval": "eval('__import__(\"os\").system(\"touch {marker}\")')",
    "open": "I(open('{marker}', 'w'))",
    "exec": "exec('import os')",
    "getattr": "getattr(x, '__class__')",
}
PLACES = {
    "fixed": "y ~ x + {attack} + (1 | g)",
    "scale": "y ~ x + scale({attack}) + (1 | g)",
    "random": "y ~ x + ({attack} | g)",
    "response": "{attack} ~ x + (1 | g)",
}


@pytest.fixture
def data_file(tmp_path):
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(8), 6)
    frame = pd.DataFrame({"y": rng.normal(size=48) + rng.normal(size=8)[g], "x": rng.normal(size=48), "g": g})
    path = tmp_path / "good.csv"
    frame.to_csv(path, index=False)
    return path


def hostile(function: str, place: str, marker: str) -> str:
    return PLACES[place].format(attack=ATTACKS[function].format(marker=marker))


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("function", list(ATTACKS))
def test_api_refuses_and_runs_nothing(tmp_path, data_file, function, place):
    marker = tmp_path / "pwned"
    formula = hostile(function, place, str(marker))
    with pytest.raises(lmmdx.FormulaError, match=f"unknown function '{function}'") as info:
        lmmdx.fit(formula, pd.read_csv(data_file))
    assert "\n" not in str(info.value) and "may call only these functions" in str(info.value)
    assert not marker.exists()


COMMANDS = {
    "fit": lambda data, f, out: ["fit", data, f],
    "diagnose": lambda data, f, out: ["diagnose", data, f],
    "remedy": lambda data, f, out: ["remedy", data, f],
    "compare-first": lambda data, f, out: ["compare", data, f, "y ~ x + (1 | g)"],
    "compare-second": lambda data, f, out: ["compare", data, "y ~ x + (1 | g)", f],
    "check-invariance": lambda data, f, out: ["check-invariance", data, f],
    "batch": lambda data, f, out: ["batch", data, f, "--responses", "y", "--out", out],
    "batch-by": lambda data, f, out: ["batch", data, f, "--by", "g", "--out", out],
}


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("function", ["__import__", "np.f2py.os.system"])
def test_every_command_refuses_with_exit_2(capsys, tmp_path, data_file, command, place, function):
    marker = tmp_path / "pwned"
    out = tmp_path / "out.csv"
    argv = COMMANDS[command](str(data_file), hostile(function, place, str(marker)), str(out))
    code, stdout, stderr = run_cli(capsys, *argv)
    assert code == 2
    assert stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and f"unknown function '{function}'" in lines[0]
    assert not marker.exists() and not out.exists()


def test_unknown_function_is_not_an_unknown_column(data_file):
    with pytest.raises(lmmdx.FormulaError, match="unknown function 'foo'.*poly.*scale"):
        lmmdx.fit("y ~ foo(x) + (1 | g)", pd.read_csv(data_file))


@pytest.mark.parametrize("formula", [
    "y ~ I(9**9**9) + (1 | g)",
    "y ~ I(x ** 1e308) + (1 | g)",
    "y ~ I(10 ** 400 * x) + (1 | g)",
    "y ~ I(" + "(" * 60 + "x" + ")" * 60 + ") + (1 | g)",
    "y ~ I(" + "+".join(["x"] * 150) + ") + (1 | g)",
    "y ~ I(" + "^".join(["x"] * 150) + ") + (1 | g)",
    "y ~ " + " * ".join(f"x{i}" for i in range(40)) + " + (1 | g)",
    "y ~ I([x for x in range(10**9)]) + (1 | g)",
    "y ~ I({1, 2}) + (1 | g)",
    "y ~ I(lambda: 1) + (1 | g)",
])
def test_no_formula_means_unbounded_work(data_file, formula):
    """Each is fitted or refused in one line (none is evaluated as Python, none grows without bound)."""
    try:
        lmmdx.fit(formula, pd.read_csv(data_file))
    except lmmdx.LmmdxError as exc:
        assert "\n" not in str(exc)


def test_the_allow_list_is_documented():
    readme = (pytest.importorskip("pathlib").Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## What a formula may call", 1)[1].split("\n## ", 1)[0]
    for name in FUNCTIONS:
        if not name.startswith(("np.", "numpy.")):
            assert f"`{name}(" in section, name
