"""The processes that tests/test_crash_safety.py kills or starves: `python -m tests.crash_child JOB …`.

Kept apart from the test module so that each child starts without importing pytest. Each job says
what it is doing on stdout, one word a line, flushed at once, so that the parent knows roughly
where a SIGKILL landed.

Jobs:
  record HOME TARGET_ID SEED   record captures (real bytes: PNG, HTML, HAR, JSON) until killed;
  capture HOME TARGET_ID       one real capture with Chromium;
  fsize HOME TARGET_ID         one capture under RLIMIT_FSIZE; prints the StoreError it gets;
  repair HOME                  rebuild the lost database from the journal's copy (`preuves repair`).
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import signal
import sys
from datetime import timedelta
from pathlib import Path

from PIL import Image

from evidence.errors import StoreError
from evidence.models import Target
from evidence.records import CaptureFacts, NewArtefact, next_attempt_no, record_capture
from evidence.workspace import Workspace, open_workspace
from tests import capture_samples
from tests.capture_samples import URL

ARTEFACTS_PER_CAPTURE = 4


def _png(rng: random.Random) -> bytes:
    width, height = rng.randint(200, 500), rng.randint(150, 400)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def sample_artefacts(rng: random.Random, number: int) -> list[NewArtefact]:
    """The files of an attempt, all different from any earlier attempt's."""
    html = f"<html><body><p>Tentative {number}</p>{'<p>texte</p>' * rng.randint(100, 5000)}</body></html>"
    har = {"log": {"version": "1.2", "entries": [{"request": {"url": URL, "n": number}}]}}
    environment = {"attempt": number, "nonce": rng.getrandbits(64)}
    files = [
        NewArtefact("screenshot", "image/png", data=_png(rng), filename="capture-brute.png"),
        NewArtefact("html", "text/html; charset=utf-8", data=html.encode(), filename="page.html"),
        NewArtefact("har", "application/json", data=json.dumps(har).encode(), filename="reseau.har"),
        NewArtefact("environment", "application/json", data=json.dumps(environment).encode()),
    ]
    assert len(files) == ARTEFACTS_PER_CAPTURE
    return files


def sample_facts(workspace: Workspace, target_id: int) -> CaptureFacts:
    """The sample attempt, made now."""
    return capture_samples.sample_facts(target_id, next_attempt_no(workspace, target_id), workspace.clock.now())


def _say(*words: object) -> None:
    print(*words, flush=True)


def record_forever(home: Path, target_id: int, seed: int) -> None:
    """Never returns. Says "ready", then "blob" before each blob write, "transaction" when the write
    transaction opens, and "committed <id>" once a capture is kept."""
    rng = random.Random(seed)
    workspace = open_workspace(home)
    put, writing = workspace.blobs.put, workspace.writing

    def traced_put(data: bytes):  # type: ignore[no-untyped-def]
        _say("blob")
        return put(data)

    def traced_writing():  # type: ignore[no-untyped-def]
        _say("transaction")
        return writing()

    workspace.blobs.put = traced_put  # type: ignore[method-assign]
    workspace.writing = traced_writing  # type: ignore[method-assign]
    _say("ready")
    number = 0
    while True:
        number += 1
        capture = record_capture(workspace, sample_facts(workspace, target_id), sample_artefacts(rng, number))
        _say("committed", capture.id)


def capture_once(home: Path, target_id: int) -> None:
    """Says "walking" once Chromium's service is up, "committed <id>" once the capture is kept."""
    from capture.attempt import capture_target
    from capture.chromium import BrowserService
    from capture.settings import CaptureSettings

    workspace = open_workspace(home)
    with workspace.reading() as session:
        target = session.get_one(Target, target_id)
    with BrowserService() as browser:
        _say("walking")
        outcome = capture_target(workspace, target, browser, CaptureSettings(min_interval=timedelta(0)))
        _say("committed", outcome.capture.id)


def record_under_file_size_limit(home: Path, target_id: int) -> None:
    """A 1 MB screenshot under a 512 KB RLIMIT_FSIZE: prints « StoreError: … »."""
    workspace = open_workspace(home)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, 512 * 1024))
    files = [NewArtefact("screenshot", "image/png", data=os.urandom(1024 * 1024))]
    try:
        record_capture(workspace, sample_facts(workspace, target_id), files)
    except StoreError as exc:
        print(f"{type(exc).__name__}: {exc}")


def repair(home: Path) -> None:
    """Says "ready", then "repaired <seq>" once the repair's entry is committed and the database in place."""
    from evidence.repair import repair_workspace

    _say("ready")
    result = repair_workspace(home)
    _say("repaired", result.entry.seq if result.entry else 0)


if __name__ == "__main__":
    job, home = sys.argv[1], Path(sys.argv[2])
    target = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if job == "repair":
        repair(home)
    elif job == "record":
        record_forever(home, target, int(sys.argv[4]))
    elif job == "capture":
        capture_once(home, target)
    elif job == "fsize":
        record_under_file_size_limit(home, target)
    else:
        sys.exit(f"unknown job {job!r}")
