"""Fits and diagnoses shared by the diagnosis tests (computed once per test worker, then cached)."""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd
from support import load

from lmmdx.design import build_design
from lmmdx.diagnose import Diagnosis, diagnose, diagnose_design
from lmmdx.fitting import fit_design
from lmmdx.formula import parse_formula
from lmmdx.result import Fit

CASES = {
    "seed": ("seed_example.csv", "y ~ x + (x | group)"),
    "seed_zerocorr": ("seed_example.csv", "y ~ x + (x || group)"),
    "sleep": ("sleepstudy.csv", "Reaction ~ Days + (Days | Subject)"),
    "dyestuff": ("Dyestuff.csv", "Yield ~ 1 + (1 | Batch)"),
    "dyestuff2": ("Dyestuff2.csv", "Yield ~ 1 + (1 | Batch)"),
    "penicillin": ("Penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    "pastes": ("Pastes.csv", "strength ~ 1 + (1 | batch/cask)"),
    "cake": ("cake.csv", "angle ~ recipe * temperature + (1 | recipe:replicate)"),
}


def one_per_level(n: int = 60, seed: int = 4) -> pd.DataFrame:
    """A random intercept for a factor with one observation per level."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.normal(size=n), "x": rng.normal(size=n), "id": [f"u{i}" for i in range(n)]})


def between_covariate(seed: int = 5) -> pd.DataFrame:
    """x constant within each of 10 groups of 6 (a group-level covariate)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(10), 6)
    x = rng.normal(size=10)[g]
    y = 1.0 + x + rng.normal(size=10)[g] + rng.normal(size=60)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{k}" for k in g]})


@cache
def fitted(name: str, reml: bool = True) -> Fit:
    data, formula = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_design(build_design(parse_formula(formula), load(data)), reml=reml)


@cache
def diagnosed(name: str) -> Diagnosis:
    return diagnose(fitted(name))


@cache
def diagnosed_frame(kind: str) -> Diagnosis:
    frame, formula = {"one_per_level": (one_per_level(), "y ~ x + (1 | id)"),
                      "between": (between_covariate(), "y ~ x + (x | g)")}[kind]
    return diagnose_design(build_design(parse_formula(formula), frame, check_identifiable=False))
