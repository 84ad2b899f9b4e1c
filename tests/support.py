"""Test helpers: the reference data and lme4's fits, copied from ../shared into tests/data."""

from __future__ import annotations

import functools
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lmmdx.engine import TermData

if TYPE_CHECKING:
    import lmmdx

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "lme4_reference.json").read_text())
INFERENCE_REFERENCE = json.loads((DATA / "lme4_inference_reference.json").read_text())


def load(name: str) -> pd.DataFrame:
    """A CSV from tests/data."""
    return pd.read_csv(DATA / name)


def random_problem(rng: np.random.Generator, shapes: list[tuple[int, int]], n: int = 60, p: int = 2) -> tuple:
    """y, X and TermData for random terms of the given (levels, k) shapes (every level observed)."""
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    y = rng.normal(size=n)
    terms = []
    for nlev, k in shapes:
        codes = np.concatenate([np.arange(nlev), rng.integers(0, nlev, n - nlev)])
        rng.shuffle(codes)
        values = np.column_stack([np.ones(n), rng.normal(size=(n, k - 1))]) if k > 1 else np.ones((n, 1))
        terms.append(TermData(codes, values, nlev))
    return y, X, terms


CASES = [
    [(6, 1)],
    [(6, 2)],
    [(5, 3)],
    [(8, 2), (4, 1)],
    [(8, 1), (5, 1), (3, 1)],
    [(7, 2), (5, 2)],
    [(6, 1), (4, 3)],
]


@functools.cache
def reference_fit(key: str) -> lmmdx.Fit:
    """The lmmdx fit of an inference-reference case (cached per test process)."""
    import lmmdx

    case = INFERENCE_REFERENCE[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(case["formula"], load(case["data"]), reml=case["reml"])

def same_parameter(ours: str, theirs: str) -> bool:
    """lme4 names nested groups inner-first (``cask:batch``), lmmdx outer-first (``batch:cask``)."""
    if "|" not in ours or "|" not in theirs:
        return ours == theirs
    (head_a, group_a), (head_b, group_b) = ours.split("|"), theirs.split("|")
    return head_a == head_b and sorted(group_a.split(":")) == sorted(group_b.split(":"))


def run_cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """Run ``lmmdx ARGV`` in-process; its exit code, stdout and stderr."""
    from lmmdx.cli.main import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
