"""A progress bar on stderr that appears only for runs long enough to need one."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Self

__all__ = ["SHOW_AFTER_SECONDS", "DelayedProgress"]

#: Runs shorter than this show no progress bar.
SHOW_AFTER_SECONDS = 1.0


class DelayedProgress:
    """``progress(done, total, label)`` callback: a rich bar once the run has lasted a while.

    Shown only when stderr is a terminal; use as a context manager so the bar is closed.
    """

    def __init__(self, description: str, delay: float = SHOW_AFTER_SECONDS) -> None:
        self.description = description
        self.delay = delay
        self.start = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int, label: str) -> None:
        if self._bar is None:
            if time.perf_counter() - self.start < self.delay or not sys.stderr.isatty():
                return
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=total)
        self._bar.update(self._task, completed=done, total=total, description=f"{self.description}: {label}")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
