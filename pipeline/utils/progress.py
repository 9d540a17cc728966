"""Progress bars for long stages (enrich, embed): count, rate and time left, on a terminal only.

Usage::

    with progress_bar("embed", total=len(texts), enabled=show) as advance:
        for batch in batches:
            ...
            advance(len(batch))

The bar is drawn (on stderr, with ``rich``) only when the caller asks for it (``enabled``) and
stderr is a terminal; otherwise ``advance`` does nothing, so logs and tests stay clean.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["Advance", "progress_bar", "wants_bar"]

Advance = Callable[[int], None]


def _ignore(_n: int) -> None:
    return None


def wants_bar(enabled: bool) -> bool:
    """True when ``enabled`` and stderr is an interactive terminal."""
    return bool(enabled) and sys.stderr.isatty()


@contextmanager
def progress_bar(description: str, total: int, enabled: bool = False) -> Iterator[Advance]:
    """A bar of ``total`` units named ``description``; yields ``advance(n_units)``.

    Silent (yields a no-op) when ``enabled`` is false, ``total`` is 0 or stderr is not a
    terminal. The bar disappears when the block ends; the stage's timing line stays.
    """
    if total <= 0 or not wants_bar(enabled):
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total, rate="")

        def advance(n: int) -> None:
            bar.advance(task, n)
            speed = bar.tasks[0].speed
            bar.update(task, rate=f"{speed:,.0f}/s" if speed else "")

        yield advance
