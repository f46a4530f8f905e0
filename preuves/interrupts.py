"""Ctrl-C during a command: always the same end — « Interrompu. », exit 130, no traceback.

Python raises KeyboardInterrupt wherever the main thread happens to be. Raised inside a `__del__`
(WeasyPrint's font clean-up, during `dossier`), it is only printed as « Exception ignored » and
the work goes on: the dossier was then completed as if nothing had been asked. So the interrupt
is also remembered, and the long commands' progress callbacks call `check()`, which raises it
again at their next step; the work's own clean-up (nothing half-written) then runs.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class _State:
    interrupted = False


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed during this command, even if it was lost."""
    if _State.interrupted:
        raise KeyboardInterrupt


@contextmanager
def remembered() -> Iterator[None]:
    """For the duration of a command run in the main thread: Ctrl-C raises KeyboardInterrupt as
    usual and is remembered; one swallowed in a `__del__` is remembered and not printed."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield  # not ours to handle: another thread, or started in the background with Ctrl-C ignored
        return
    _State.interrupted = False
    previous_handler, previous_hook = signal.getsignal(signal.SIGINT), sys.unraisablehook

    def interrupt(signum: int, frame: FrameType | None) -> None:
        _State.interrupted = True
        raise KeyboardInterrupt

    def unraisable(what: Any) -> None:
        if isinstance(what.exc_value, KeyboardInterrupt):
            _State.interrupted = True
        else:
            previous_hook(what)

    signal.signal(signal.SIGINT, interrupt)
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous_handler)
        sys.unraisablehook = previous_hook
        _State.interrupted = False
