"""Progress for the routine commands: a tqdm bar on a terminal, plain lines otherwise.

On a terminal (stderr is a TTY) each phase or loop shows a live bar on stderr;
otherwise (cron, CI, a pipe, a log collector) nothing animates and each phase
ends with one plain line on stdout: ``<phase>: <what was done> (<seconds>s)``.
``--no-progress`` forces the plain form.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import OutputWrapper
from tqdm import tqdm


@contextmanager
def quiet_logs(verbosity: int) -> Iterator[None]:
    """Below ``-v 2``, only warnings and errors are logged while a command runs:
    the per-chunk INFO lines would bury the progress and the summary."""
    root = logging.getLogger()
    level = root.level
    if verbosity < 2:
        root.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        root.setLevel(level)


class Progress:
    def __init__(self, stdout: OutputWrapper, *, interactive: bool | None = None):
        self.stdout = stdout
        self.interactive = sys.stderr.isatty() if interactive is None else interactive
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    @contextmanager
    def bar(self, description: str, *, total: int, unit: str = "it") -> Iterator[_Bar]:
        """A bar of ``total`` steps; the caller reports steps with ``update(n)``
        and may set the closing line with ``done(text)``."""
        started = time.perf_counter()
        bar = tqdm(total=total, desc=description, unit=unit, file=sys.stderr, disable=not self.interactive, leave=False, dynamic_ncols=True)
        handle = _Bar(bar, default=f"{total} {unit}")
        try:
            yield handle
        finally:
            bar.close()
        self.stdout.write(f"{description}: {handle.summary} ({time.perf_counter() - started:.1f}s)")

    @contextmanager
    def phase(self, description: str) -> Iterator[_Bar]:
        """A step without a count (a spinner-like bar on a terminal)."""
        with self.bar(description, total=1, unit="step") as handle:
            handle.summary = "done"
            yield handle
            handle.update(1)


class _Bar:
    def __init__(self, bar: tqdm, *, default: str):
        self._bar = bar
        self.summary = default

    def update(self, n: int = 1) -> None:
        self._bar.update(n)

    def done(self, summary: str) -> None:
        self.summary = summary
