"""What the simulated site's own log shows of the tool: polite, and never booking, never typing.

- Politeness: attempts driven from several threads at once on one host, with a 3 s interval: the
  site never sees two attempts at once, nor two attempts closer than the interval; the refused
  ones raise PolitenessRefusal.
- Never books, never cheats: the site does offer slot links, a captcha form and a personal-details
  form; a full capture in "slots" mode (and one on a captcha gate) still asks for none of them and
  submits no text field. (The session fixture checks the same over the whole run.)
"""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar

import pytest
from sqlalchemy import select

from capture.attempt import capture_target
from capture.politeness import PolitenessRefusal
from capture.settings import CaptureSettings
from capture.states import State
from evidence.models import Capture, Target
from evidence.records import TargetSpec, add_case
from simsite.server import SimulatedSite

pytestmark = pytest.mark.browser

COUNTER = "16162"
INTERVAL = timedelta(seconds=3)
# The interval runs from one attempt's start on the tool's clock (before its browser context exists)
# to the next one's; the site sees each attempt's first request a little later, by a start-up time
# that varies (0.2 s measured on a loaded machine): see docs/reliability.md.
START_UP_TOLERANCE = timedelta(seconds=1)
THREADS = 4
RUN_S = 7.0


def make_target(workspace, url: str, platform: str = "ezbooking", counter: str | None = COUNTER) -> Target:
    case, _ = add_case(workspace, "Dupont", TargetSpec(url, platform, counter))
    with workspace.reading() as session:
        return session.get_one(Target, case.target_id)


def test_attempts_from_several_threads_are_polite(workspace, site, browser):
    target = make_target(workspace, f"{site.base_url}/booking/create/7001")
    settings = CaptureSettings(min_interval=INTERVAL, attempt_timeout_s=12)
    refusals: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    began = datetime.now(UTC)
    end = time.monotonic() + RUN_S

    def keep_trying() -> None:
        while time.monotonic() < end:
            try:
                capture_target(workspace, target, browser, settings)
            except PolitenessRefusal as refusal:
                with lock:
                    refusals.append(str(refusal))
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failures.append(exc)
                return
            time.sleep(0.1)

    threads = [threading.Thread(target=keep_trying) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    with workspace.reading() as session:
        captures = list(session.scalars(select(Capture).where(Capture.target_id == target.id).order_by(Capture.id)))
    windows = [(c.started_at, c.finished_at) for c in captures]
    requests = [r for r in site.requests if r.time >= began]
    assert len(captures) >= 2
    assert any("déjà en cours" in r for r in refusals) and any("trop récente" in r for r in refusals)
    # Never two at once: the attempts' windows do not overlap, and every request the site received
    # falls inside one of them.
    for (_, finished), (started, _) in zip(windows, windows[1:], strict=False):
        assert finished <= started
    assert all(any(s <= r.time <= f for s, f in windows) for r in requests)
    # Never closer than the interval: from the tool's clock and from the site's log.
    starts = [s for s, _ in windows]
    assert all(b - a >= INTERVAL for a, b in zip(starts, starts[1:], strict=False))
    firsts = [min(r.time for r in requests if s <= r.time <= f) for s, f in windows]
    gaps = [b - a for a, b in zip(firsts, firsts[1:], strict=False)]
    print(f"{len(captures)} tentatives, {len(refusals)} refus ; écarts vus par le site : "
          f"{[round(g.total_seconds(), 2) for g in gaps]} s")
    assert all(gap >= INTERVAL - START_UP_TOLERANCE for gap in gaps), gaps


# ------------------------------------------------------------------------------- never books, never types


def _fetch(opener: urllib.request.OpenerDirector, url: str, form: dict[str, str] | None = None) -> str:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    with opener.open(url, data=data, timeout=5) as response:
        return response.read().decode("utf-8")


def test_the_site_offers_what_the_tool_must_never_use():
    """On a separate site (its log is not the session's): slot links, captcha forms, personal details."""
    with SimulatedSite(mode="slots") as other:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        base = f"{other.base_url}/booking/create/4963"
        _fetch(opener, base)
        _fetch(opener, base, {"condition": "on", "nextButton": "Effectuer une demande de rendez-vous"})
        table = _fetch(opener, f"{base}/1", {"planning": COUNTER, "nextButton": "Etape suivante"})
        table = _fetch(opener, f"{base}/4") if "/5/" not in table else table
        assert re.search(r'href="/booking/create/4963/5/\d+"', table)
        assert 'class="g-recaptcha"' in _fetch(opener, f"{base}/6")
        details = _fetch(opener, f"{base}/8")
        assert all(f'type="text" name="{name}"' in details for name in ("lastname", "firstname", "email"))
        gate = _fetch(opener, f"{other.base_url}/rdvpref/reservation/demarche/7788/cgu/")
        assert 'name="captchaFormulaireExtInput"' in gate
        assert other.completion_requests() != []  # this site was asked for them: its log says so


def test_a_capture_on_slots_or_a_captcha_sends_none_of_it(workspace, site, browser, fast_settings):
    began = datetime.now(UTC)
    site.mode = "slots"
    slots = capture_target(workspace, make_target(workspace, f"{site.base_url}/booking/create/4963"),
                           browser, fast_settings)
    assert slots.classification.state is State.SLOTS
    site.mode = "noslot"
    rdvpref = TargetSpec(f"{site.base_url}/rdvpref/reservation/demarche/7788/", "rdvpref")
    case, _ = add_case(workspace, "Martin", rdvpref)
    with workspace.reading() as session:
        gate = session.get_one(Target, case.target_id)
    assert capture_target(workspace, gate, browser, fast_settings).classification.state is State.CAPTCHA
    seen = [r for r in site.requests if r.time >= began]
    assert any(r.path.endswith("/booking/create/4963/4") or r.path.endswith("/3") for r in seen)
    assert [r for r in seen if r.is_completion] == []
    assert [f for r in seen for f in r.text_fields()] == []
