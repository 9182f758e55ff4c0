"""A rich progress display for rebuilds (the library reports progress through a plain callback)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RichProgress:
    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[chunks]} chunks embedded"), console=console, transient=False,
        )
        self._task = self._progress.add_task("indexing files", total=None, chunks=0)

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._progress.stop()

    def __call__(self, what: str, done: int, total: int) -> None:
        if what == "files":
            self._progress.update(self._task, completed=done, total=total)
        else:
            self._progress.update(self._task, chunks=done)
