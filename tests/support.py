"""Test helpers: the reference data and lme4's fits, copied from ../shared into tests/data."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "lme4_reference.json").read_text())
INFERENCE_REFERENCE = json.loads((DATA / "lme4_inference_reference.json").read_text())


def load(name: str) -> pd.DataFrame:
    """A CSV from tests/data."""
    return pd.read_csv(DATA / name)
