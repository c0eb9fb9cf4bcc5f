"""A progress bar on stderr for long scans: count, rate, cache hits, elapsed time and ETA.

Shown only when stderr is a terminal (logs and CI output stay clean) and not asked to be quiet.
Sources are listed while they are scanned, so the total is known only when the listing was read
ahead to its end (scanning.step does that for listings of up to LIST_AHEAD objects when the bar is
shown); then the bar shows N/total and an ETA.
"""

from __future__ import annotations

import sys


class ScanProgress:
    """Context manager; `advance(result, hit)` once per result, in output order."""

    def __init__(self, enabled: bool = True, total: int | None = None, description: str = "scanning"):
        self.enabled = shown(enabled)
        self.total = total
        self.description = description
        self.count = self.hits = self.skipped = 0
        self._bar = None
        self._task = None

    def __enter__(self) -> "ScanProgress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[cache]}"), TimeElapsedColumn()]
            if self.total is not None:
                columns += [TextColumn("ETA"), TimeRemainingColumn()]
            self._bar = Progress(*columns, console=Console(stderr=True), transient=False, refresh_per_second=4)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total, rate="", cache="")
        return self

    def advance(self, result, hit: bool) -> None:
        self.count += 1
        self.hits += hit
        self.skipped += not hasattr(result, "faces")
        if self._bar is None:
            return
        task = self._bar.tasks[0]
        speed = task.speed
        rate = f"{speed:.1f}/s" if speed else ""
        cache = f"{self.hits} cached" if self.hits else ""
        self._bar.update(self._task, advance=1, rate=rate, cache=cache)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()


def shown(enabled: bool) -> bool:
    """Whether a bar asked for would be drawn (only on a terminal)."""
    return enabled and _stderr_is_terminal()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
