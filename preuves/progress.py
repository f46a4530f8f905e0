"""A progress bar for long commands (dossier, export), shown only on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from preuves import interrupts
from preuves.console import err

ProgressCallback = Callable[[str, int, int], None]


@contextmanager
def progress_bar() -> Iterator[ProgressCallback]:
    """Yield a `progress(step, done, total)` callback drawing one bar on stderr."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    task: TaskID | None = None

    def progress(step: str, done: int, total: int) -> None:
        # Only on a terminal (elsewhere Rich would leave blank lines), and from the first step on:
        # an error found before (no capture…) stays one clean line.
        nonlocal task
        interrupts.check()  # a Ctrl-C lost on the way stops the work at its next step
        if not err.is_terminal:
            return
        if task is None:
            bar.start()
            task = bar.add_task(step)
        bar.update(task, description=step.capitalize(), completed=done, total=total)

    try:
        yield progress
    finally:
        if task is not None:  # stopping a bar never shown would still print a blank line
            bar.stop()


def spinner(text: str) -> AbstractContextManager[object]:
    """A turning wheel with `text` while work of unknown length runs (a terminal only)."""
    return err.status(text) if err.is_terminal else nullcontext()
