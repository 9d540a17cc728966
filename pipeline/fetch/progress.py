"""A rich progress display for scraping: per body, requests done of those known so far, the
rate, the time left for the known work, and how many failed.

Discovery finds work as it goes (a listing adds its work items), so the total grows during the
run and "time left" is for the requests known at that moment.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["RichScrapeProgress"]


class _RateColumn(ProgressColumn):
    """Requests per second (rich's own speed column shows bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f} req/s" if speed else "-- req/s", style="progress.data.speed")


class RichScrapeProgress:
    """Implements :class:`pipeline.fetch.scrape.Progress` with one rich bar per body.

    Use as a context manager; ``console`` defaults to stderr so stdout stays for results.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<6}"),
            BarColumn(),
            MofNCompleteColumn(),
            _RateColumn(),
            TextColumn("failed {task.fields[failed]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichScrapeProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _task(self, body: str) -> TaskID:
        if body not in self.tasks:
            self.tasks[body] = self.progress.add_task(body, total=0, failed=0)
        return self.tasks[body]

    def _state(self, task: TaskID) -> Task:
        return next(t for t in self.progress.tasks if t.id == task)

    def expect(self, body: str, n: int) -> None:
        task = self._task(body)
        self.progress.update(task, total=(self._state(task).total or 0) + n)

    def done(self, body: str, ok: bool) -> None:
        task = self._task(body)
        state = self._state(task)
        if state.completed + 1 > (state.total or 0):
            self.progress.update(task, total=state.completed + 1)  # more than announced
        failed = int(state.fields.get("failed", 0)) + (0 if ok else 1)
        self.progress.update(task, advance=1, failed=failed)
