"""fitting.py turns an unexpected numerical exception of the engine into a one-line FitError."""

from __future__ import annotations

import pytest
from support import load

import lmmdx
from lmmdx import fitting


@pytest.mark.parametrize("error", [ZeroDivisionError("float division by zero"), ValueError("bad\nsecond line")])
def test_engine_exception_becomes_one_line_fit_error(monkeypatch, error):
    def broken(*args, **kwargs):
        raise error

    monkeypatch.setattr(fitting, "minimize", broken)
    with pytest.raises(lmmdx.FitError) as info:
        lmmdx.fit("Reaction ~ Days + (1 | Subject)", load("sleepstudy.csv"))
    message = str(info.value)
    assert message.startswith(fitting.ENGINE_FAILURE) and "\n" not in message
    assert type(error).__name__ in message and "Reaction ~ Days" in message
