"""The plans followed in a thread of their own until asked to stop (`preuves watch`, `preuves serve`).

Python runs signal handlers in the main thread only, between two of its bytecodes: a main thread
doing a pass over the plans, inside a C call that waits for the database, heard SIGTERM only once
the pass ended. So the main thread does no watching: it waits (`preuves watch`) or serves the
dashboard (`preuves serve`), and hears a signal at once.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capture.watch import PlanRunner


class Watcher:
    """`capture.scheduler.serve` in a daemon thread; its failure is raised again by `wait`.

    With `say_failure`, a failure is also said as soon as it happens: the dashboard's main thread serves on
    and would tell it only when stopped, while `preuves watch`'s, waiting, tells it at once.
    """

    def __init__(self, runner: PlanRunner, stopping: threading.Event, *, say_failure: bool = False) -> None:
        self.stopping = stopping
        self._say_failure = say_failure
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(runner,), name="preuves-watch", daemon=True)
        self._thread.start()

    def _run(self, runner: PlanRunner) -> None:
        from capture.scheduler import serve

        try:
            serve(runner, self.stopping)
        except BaseException as exc:
            self._failure = exc
            if self._say_failure:
                runner.report(f"Surveillance des plans arrêtée : {exc}")

    def wait(self) -> None:
        """Until the watcher has stopped and the attempts in progress have finished."""
        self._thread.join()
        if self._failure is not None:
            raise self._failure

    def stop(self) -> None:
        self.stopping.set()
        self.wait()
