"""The layering of ARCHITECTURE.md, enforced: no module imports from a layer above it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_layers_hold():
    pytest.importorskip("importlinter")
    exe = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_formula_package_needs_no_numeric_library():
    for path in (ROOT / "src" / "lmmdx" / "formula").glob("*.py"):
        text = path.read_text()
        for name in ("numpy", "pandas", "formulaic", "scipy"):
            assert f"import {name}" not in text, f"{path.name} imports {name}"


def test_engine_is_pure_numerics():
    for path in (ROOT / "src" / "lmmdx" / "engine").glob("*.py"):
        text = path.read_text()
        for banned in ("import pandas", "print(", "open(", "import logging"):
            assert banned not in text, f"{path.name} uses {banned!r}"


def test_package_type_checks():
    """mypy (configured in pyproject.toml) passes on src/."""
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_passes_ruff():
    pytest.importorskip("ruff")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "src", "tests", "bench"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
