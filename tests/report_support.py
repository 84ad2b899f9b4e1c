"""Fits, diagnoses and remedies shared by the report tests (computed once per test worker)."""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd
from support import load

import lmmdx

SEED = ("seed_example.csv", "y ~ x + (x | group)")


def quiet_fit(formula: str, data: pd.DataFrame) -> lmmdx.Fit:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lmmdx.LmmdxWarning)
        return lmmdx.fit(formula, data)


@cache
def seed_fit() -> lmmdx.Fit:
    return quiet_fit(SEED[1], load(SEED[0]))


@cache
def seed_diagnosis() -> lmmdx.Diagnosis:
    return seed_fit().diagnose()


@cache
def seed_remedies() -> lmmdx.RemedyReport:
    return seed_fit().remedies()


@cache
def seed_profiles() -> tuple:
    return seed_fit().profile(0.95, "theta_")


def many_levels(levels: int, per_level: int, slope_sd: float = 0.5, seed: int = 3) -> pd.DataFrame:
    """y = 1 + x + b0[g] + b1[g] x + e with ``levels`` groups of ``per_level`` rows."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(levels), per_level)
    x = rng.normal(size=g.size)
    y = 1 + x + rng.normal(size=levels)[g] + slope_sd * rng.normal(size=levels)[g] * x + rng.normal(size=g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"L{k:04d}" for k in g]})
