"""Long work started from a page (an attempt, a dossier, verify), run in the background.

The page that started it shows its progress and, when it ends, its result. Jobs live in the
memory of one `preuves serve` process: what they produce is in the workspace, not here.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evidence.errors import PreuvesError
from preuves.web.security import without_server_paths

log = logging.getLogger(__name__)

MAX_KEPT = 200  # finished jobs remembered, oldest forgotten first

Progress = Callable[[str, int, int], None]


@dataclass
class Job:
    id: str
    kind: str
    case_id: int
    title: str
    started_at: datetime
    step: str = "en attente"
    done: int = 0
    total: int = 0
    finished: bool = False
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


class JobRunner:
    """A few worker threads; each job reports progress as (step, done, total)."""

    def __init__(self, home: Path, workers: int = 2) -> None:
        self._home = home  # error messages name files relative to it
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="preuves-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(
        self, kind: str, case_id: int, title: str, work: Callable[[Progress], dict[str, Any]]
    ) -> Job:
        job = Job(secrets.token_urlsafe(12), kind, case_id, title, datetime.now(UTC))
        with self._lock:
            self._jobs[job.id] = job
            finished = [j.id for j in self._jobs.values() if j.finished]
            for old in finished[: max(0, len(finished) - MAX_KEPT)]:
                del self._jobs[old]
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, work: Callable[[Progress], dict[str, Any]]) -> None:
        def progress(step: str, done: int, total: int) -> None:
            job.step, job.done, job.total = step, done, total

        try:
            job.result = work(progress)
        except PreuvesError as exc:
            job.error = without_server_paths(str(exc), self._home)
        except Exception as exc:  # shown on the page: a job must never die silently
            log.exception("job %s (%s) failed", job.id, job.kind)
            first_line = str(exc).splitlines()[0] if str(exc) else ""
            job.error = without_server_paths(f"erreur inattendue : {type(exc).__name__}: {first_line}", self._home)
        finally:
            job.finished = True

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
