"""The progress bar appears only on a terminal, and only after its delay."""

from __future__ import annotations

import io
import sys

from lmmdx.cli.progress import DelayedProgress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_before_the_delay_or_off_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with DelayedProgress("fitting", delay=60.0) as progress:
        progress(1, 3, "a")
    assert progress._bar is None
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with DelayedProgress("fitting", delay=0.0) as progress:
        progress(1, 3, "a")
    assert progress._bar is None


def test_bar_on_a_terminal_after_the_delay(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with DelayedProgress("fitting", delay=0.0) as progress:
        progress(1, 2, "first")
        progress(2, 2, "second")
        assert progress._bar is not None
    assert progress._bar.finished
