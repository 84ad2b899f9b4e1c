"""The rich progress bar: drawn on a terminal's stderr, absent otherwise."""

from __future__ import annotations

import io

import rich.console

from lmmdx.cli.progress import progress_bar


def test_disabled_or_not_a_terminal_yields_none(capsys):
    with progress_bar(enabled=False) as callback:
        assert callback is None
    with progress_bar() as callback:  # pytest's stderr is not a terminal
        assert callback is None
    assert capsys.readouterr() == ("", "")


def test_draws_on_a_terminal(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(rich.console.Console, "is_terminal", property(lambda self: True))
    monkeypatch.setattr("sys.stderr", stream)
    with progress_bar(label="fitting") as callback:
        assert callback is not None
        callback(0, 10)
        callback(10, 10)
    assert "fitting" in stream.getvalue()
