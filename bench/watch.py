"""Benchmark: the watcher's own cost and memory over many planned attempts, on a fast-forwarded clock.

500 cases on 50 targets served by 10 simulated sites, one per host name (127.0.0.2 … 127.0.0.11, so that the
per-host politeness applies to each), 4 planned attempts a day per target. A demo workspace runs on a
`SimulatedClock`; the driver advances it one simulated minute at a time (the real watcher re-reads the plans
every POLL_SECONDS = 60 s) and calls `PlanRunner.run_due()`, which performs the attempts due, one after the
other, with real Chromium captures. The politeness interval (10 simulated minutes) is simulated time too.

The sites run in a child process, so that their request logs do not count in the watcher's memory.

Scheduler overhead = wall time of the whole drive loop (less the bench's own memory sampling) minus the time
spent inside `capture_target`, per attempt: polls, claims, plan updates, journal entries for missed
attempts, clock handling.

Progress goes to stderr; the last line of stdout is one JSON object.

    python bench/watch.py [--days D] [--plan-days N] [--tracemalloc] [--scheduler-sync]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402
from apscheduler.jobstores.memory import MemoryJobStore  # noqa: E402
from apscheduler.schedulers.background import BackgroundScheduler  # noqa: E402
from sqlalchemy import select  # noqa: E402

import capture.watch as watch_module  # noqa: E402
from capture.chromium import BrowserService  # noqa: E402
from capture.plan import PlannedTime, save_plan  # noqa: E402
from capture.scheduler import _schedule_pending  # noqa: E402
from capture.politeness import PolitenessRefusal  # noqa: E402
from capture.settings import CaptureSettings  # noqa: E402
from capture.watch import POLL_SECONDS, PlanRunner, WatchSettings  # noqa: E402
from evidence.clock import SimulatedClock  # noqa: E402
from evidence.localtime import PARIS  # noqa: E402
from evidence.models import PlannedAttempt  # noqa: E402
from evidence.records import TargetSpec, add_case  # noqa: E402
from evidence.stats import WINDOWS  # noqa: E402
from evidence.verify import verify_workspace  # noqa: E402
from evidence.workspace import init_workspace  # noqa: E402

HOSTS = 10
TARGETS = 50
CASES = 500
PER_DAY = 4
FIRST_DAY = date(2026, 11, 30)  # a Monday
MIN_INTERVAL = timedelta(minutes=10)
# Attempts on one host within a window are this far apart: more than the politeness interval.
SPACING = timedelta(minutes=12)
COUNTER = "16162"
SAMPLE_EVERY_S = 2.0
MIB = 1024 * 1024
# Issue 18 §1–2 (the limits this bench checks): the scheduler's own cost per attempt, an empty poll, and the browser's memory slope (judged over
# 400 attempts or more: on fewer, the warm-up weighs on it).
LIMITS = {"scheduler_overhead_ms_per_attempt": 20.0, "empty_poll_ms_median": 5.0,
           "chromium_rss_slope_mib_per_100_attempts": 2.0}
SLOPE_JUDGED_FROM = 400
FRAMES = 30  # frames kept per traced allocation (with --tracemalloc)


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


# -- the simulated sites, in their own process ---------------------------------------------------------------

def serve_sites(hosts: list[str], pipe: Connection) -> None:
    """Child process: one simulated site per host; sends their base URLs, serves until told to stop."""
    from simsite.server import SimulatedSite

    sites = [SimulatedSite(mode="noslot", host=host).start() for host in hosts]
    pipe.send([site.base_url for site in sites])
    pipe.recv()  # any message (or the parent's end closing) means stop
    bad = sum(len(site.completion_requests()) + len(site.submitted_text_fields()) for site in sites)
    requests = sum(len(site.requests) for site in sites)
    for site in sites:
        site.stop()
    pipe.send({"requests": requests, "completion_or_text_field": bad})


# -- memory --------------------------------------------------------------------------------------------------

class MemorySampler(threading.Thread):
    """RSS of this process and of the Chromium tree (every child subtree except the sites' process).

    `take()` records a sample between attempts, when no page is open: those are compared from start to end.
    The thread samples at any moment, during attempts too, for the maxima only.
    """

    def __init__(self, excluded_pid: int) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.stop_event = threading.Event()
        self.me = psutil.Process()
        self.excluded_pid = excluded_pid
        self.between: list[tuple[int, int, int]] = []  # (attempts done, watcher RSS, Chromium tree RSS)
        self.kinds: list[dict[str, int]] = []  # Chromium tree RSS by process kind, for each of `between`
        self.max_watcher = 0
        self.max_chromium = 0

    def by_kind(self) -> dict[str, int]:
        """RSS of the browser side by process kind: Playwright's driver, Chromium's browser, renderers …"""
        kinds: Counter[str] = Counter()
        for child in self.me.children():
            if child.pid == self.excluded_pid:
                continue
            try:
                tree = [child, *child.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
            for process in tree:
                try:
                    kinds[process_kind(process)] += process.memory_info().rss
                except psutil.NoSuchProcess:
                    pass
        return dict(kinds)

    def measure(self) -> tuple[int, dict[str, int]]:
        kinds = self.by_kind()
        own = self.me.memory_info().rss
        self.max_watcher = max(self.max_watcher, own)
        self.max_chromium = max(self.max_chromium, sum(kinds.values()))
        return own, kinds

    def take(self, attempts_done: int) -> tuple[int, int]:
        own, kinds = self.measure()
        chromium = sum(kinds.values())
        self.between.append((attempts_done, own, chromium))
        self.kinds.append(kinds)
        return own, chromium

    def run(self) -> None:
        while not self.stop_event.wait(SAMPLE_EVERY_S):
            self.measure()


def timed(function: Callable[..., Any], spent: dict[str, float], name: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - began

    return wrapper


def process_kind(process: psutil.Process) -> str:
    command = process.cmdline()
    name = Path(command[0]).name if command else ""
    if "chrom" not in name:
        return "playwright_driver"
    if "crashpad" in name:
        return "crashpad"
    kind = next((arg.removeprefix("--type=") for arg in command if arg.startswith("--type=")), "browser")
    if kind == "utility":
        service = next((arg for arg in command if arg.startswith("--utility-sub-type=")), "")
        return "utility:" + service.removeprefix("--utility-sub-type=").rsplit(".", 1)[-1]
    return kind


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 when x does not vary)."""
    if len(points) < 2:
        return 0.0
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def quarter_medians(values: list[float]) -> list[float]:
    """Median of each quarter of a series: robust to a renderer process still alive at one sample."""
    size = len(values)
    quarters = [values[size * q // 4:size * (q + 1) // 4] for q in range(4)]
    return [round(statistics.median(part), 1) for part in quarters if part]


def memory_figures(sampler: MemorySampler, total: int) -> dict[str, Any]:
    """Start (after the first attempt: Chromium is up), end, maxima, slopes per 100 attempts, quarter medians.

    The slope is fitted on the samples after the first 10 % of the attempts (warm-up: caches, first pages),
    and again on the second half alone.
    """
    before_browser = sampler.between[0]
    running = [s for s in sampler.between if s[0] >= 1]
    if not running:
        return {"watcher_rss_mib_before_browser": round(before_browser[1] / MIB, 1)}
    kinds = [k for s, k in zip(sampler.between, sampler.kinds, strict=True) if s[0] >= 1]
    steady = [s for s in running if s[0] >= max(total // 10, 2)]
    first, last = running[0], running[-1]
    second_half = [s for s in running if s[0] > total // 2]
    per100 = {
        (name, part): round(slope([(s[0], s[column] / MIB) for s in samples]) * 100, 2)
        for name, column in (("watcher", 1), ("chromium", 2))
        for part, samples in (("steady", steady), ("second_half", second_half))
    }
    main_kinds = ("playwright_driver", "browser", "utility:OnDeviceModelService")
    return {
        "watcher_rss_mib_before_browser": round(before_browser[1] / MIB, 1),
        "watcher_rss_mib_start": round(first[1] / MIB, 1),
        "watcher_rss_mib_end": round(last[1] / MIB, 1),
        "watcher_rss_mib_max": round(sampler.max_watcher / MIB, 1),
        "watcher_rss_slope_mib_per_100_attempts": per100["watcher", "steady"],
        "watcher_rss_slope_second_half_mib_per_100_attempts": per100["watcher", "second_half"],
        "watcher_rss_mib_quarter_medians": quarter_medians([s[1] / MIB for s in running]),
        "chromium_rss_mib_start": round(first[2] / MIB, 1),
        "chromium_rss_mib_end": round(last[2] / MIB, 1),
        "chromium_rss_mib_max": round(sampler.max_chromium / MIB, 1),
        "chromium_rss_slope_mib_per_100_attempts": per100["chromium", "steady"],
        "chromium_rss_slope_second_half_mib_per_100_attempts": per100["chromium", "second_half"],
        "chromium_rss_mib_quarter_medians": {
            "all": quarter_medians([s[2] / MIB for s in running]),
            **{kind: quarter_medians([k.get(kind, 0) / MIB for k in kinds]) for kind in main_kinds},
        },
        "memory_samples_between_attempts": len(running),
    }


def mib_by_kind(kinds: dict[str, int]) -> dict[str, float]:
    return {kind: round(rss / MIB, 1) for kind, rss in sorted(kinds.items())}


def allocation_growth(before: tracemalloc.Snapshot, top: int = 8) -> list[dict[str, Any]]:
    """The biggest net allocation growths since `before`, each named by its innermost frame and ours."""
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    repo = str(Path(__file__).resolve().parent.parent)
    rows = []
    for stat in after.compare_to(before, "traceback")[:top]:
        frames = list(stat.traceback)  # most recent call last
        ours = next(
            (f for f in reversed(frames) if f.filename.startswith(repo) and "/bench/" not in f.filename), None
        )
        rows.append({
            "kib": round(stat.size_diff / 1024, 1),
            "blocks": stat.count_diff,
            "allocated_at": f"{frames[-1].filename}:{frames[-1].lineno}",
            "our_caller": f"{Path(ours.filename).relative_to(repo)}:{ours.lineno}" if ours else None,
        })
    return rows


def scheduler_sync(runner: PlanRunner) -> dict[str, Any]:
    """Time `capture.scheduler`'s plan sync, which `preuves watch` runs at start and every POLL_SECONDS.

    The scheduler is built as `capture.scheduler.serve` builds it (jobs in the watcher's memory) but started
    paused: nothing fires, only the bookkeeping of one job per planned attempt is measured.
    """
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()}, timezone=UTC
    )
    scheduler.start(paused=True)
    try:
        passes = []
        for _ in range(2):
            began = time.perf_counter()
            _schedule_pending(runner, scheduler)
            passes.append(round(time.perf_counter() - began, 2))
        jobs = len(scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)
    return {"first_pass_s": passes[0], "next_pass_s": passes[1], "jobs": jobs}


# -- the plan ------------------------------------------------------------------------------------------------

def plan_for(index_on_host: int, host_no: int, days: float) -> list[PlannedTime]:
    """PER_DAY attempts a day, one per window, staggered so a host's attempts are SPACING apart."""
    times = []
    end = datetime.combine(FIRST_DAY, datetime.min.time(), PARIS) + timedelta(days=days)
    for offset in range(int(days) + 1):
        day = FIRST_DAY + timedelta(days=offset)
        for name, _label, start, _end in WINDOWS[:PER_DAY]:
            at = datetime.combine(day, start, PARIS) + index_on_host * SPACING + timedelta(minutes=host_no)
            if at < end:
                times.append(PlannedTime(at.astimezone(UTC), name, "regular"))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=float, default=0.5,
        help="simulated days from Monday 00:00 (default 0.5, until noon: the morning and midday windows, "
        "100 attempts, about 5 minutes on 2 busy cores; 1 = 200 attempts)",
    )
    parser.add_argument(
        "--plan-days", type=int, default=28,
        help="days covered by the saved plans (default 28, as a 4-week plan): the watcher reads them all",
    )
    parser.add_argument(
        "--tracemalloc", action="store_true",
        help="trace the watcher's allocations after the warm-up and name the biggest growths (slows it down)",
    )
    parser.add_argument(
        "--scheduler-sync", action="store_true",
        help="also time the real-time watcher's plan sync (APScheduler jobs for every planned attempt)",
    )
    args = parser.parse_args()
    if args.days <= 0 or args.plan_days < args.days:
        parser.error("--days must be positive and at most --plan-days")

    load_start = os.getloadavg()
    hosts = [f"127.0.0.{2 + n}" for n in range(HOSTS)]
    parent_end, child_end = multiprocessing.get_context("spawn").Pipe()
    sites_process = multiprocessing.get_context("spawn").Process(
        target=serve_sites, args=(hosts, child_end), name="simsites", daemon=True
    )
    sites_process.start()
    base_urls: list[str] = parent_end.recv()
    sampler = MemorySampler(sites_process.pid or -1)
    sampler.take(0)

    with tempfile.TemporaryDirectory(prefix="preuves-bench-watch-") as tmp:
        workspace, _ = init_workspace(Path(tmp) / "demo", demo=True)
        start = datetime.combine(FIRST_DAY, datetime.min.time(), PARIS).astimezone(UTC)
        clock = SimulatedClock(start)
        workspace.use_clock(clock)
        setup_started = time.perf_counter()
        planned_total = due_total = 0
        for number in range(TARGETS):
            host_no, index_on_host = number % HOSTS, number // HOSTS
            url = f"{base_urls[host_no]}/booking/create/{4963 + index_on_host}"
            spec = TargetSpec(url, "ezbooking", COUNTER)
            for case_no in range(CASES // TARGETS):
                case, _ = add_case(workspace, f"Dossier {number:02d}-{case_no}", spec)
            times = plan_for(index_on_host, host_no, args.plan_days)
            save_plan(workspace, case.target_id, times)
            planned_total += len(times)
            due_total += len(plan_for(index_on_host, host_no, args.days))
        setup_s = time.perf_counter() - setup_started
        log(f"setup: {CASES} cases, {TARGETS} targets on {HOSTS} hosts, {planned_total} planned attempts "
            f"({due_total} due in the {args.days} simulated day(s)) in {setup_s:.1f} s")

        capture_seconds = [0.0]
        refusals = [0]
        original_capture = watch_module.capture_target

        def timed_capture(*call_args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original_capture(*call_args, **kwargs)
            except PolitenessRefusal:
                refusals[0] += 1
                raise
            finally:
                capture_seconds[0] += time.perf_counter() - began

        watch_module.capture_target = timed_capture
        states: Counter[str] = Counter()

        def report(line: str) -> None:
            if line.startswith("Tentative n°"):
                states[line.rsplit(": ", 1)[-1]] += 1

        settings = CaptureSettings(min_interval=MIN_INTERVAL)
        browser = BrowserService()
        runner = PlanRunner(workspace, browser, settings, WatchSettings(), report=report)
        spent = {"pending": 0.0, "claim": 0.0}
        for attribute, name in (("pending", "pending"), ("_claim", "claim")):
            setattr(runner, attribute, timed(getattr(runner, attribute), spent, name))
        end = start + timedelta(days=args.days)
        tick = timedelta(seconds=POLL_SECONDS)
        empty_polls: list[float] = []
        polls = 0
        attempts = 0
        bench_s = 0.0
        traced: tracemalloc.Snapshot | None = None
        sampler.start()
        loop_started = time.perf_counter()
        try:
            while clock.now() < end:
                clock.advance(tick)
                polls += 1
                poll_started = time.perf_counter()
                done = runner.run_due()
                if done == 0:
                    empty_polls.append(time.perf_counter() - poll_started)
                    continue
                bench_started = time.perf_counter()  # the bench's own work, kept out of the overhead
                before = attempts
                attempts += done
                own, chromium = sampler.take(attempts)
                if args.tracemalloc and traced is None and attempts >= max(due_total // 10, 2):
                    tracemalloc.start(FRAMES)
                    traced = tracemalloc.take_snapshot()
                if attempts // 20 != before // 20 or attempts == due_total:
                    log(
                        f"{clock.now().astimezone(PARIS):%d/%m %H:%M} (simulated): {attempts}/{due_total} "
                        f"attempts, {time.perf_counter() - loop_started:.0f} s, watcher {own / MIB:.0f} MiB, "
                        f"Chromium {chromium / MIB:.0f} MiB"
                    )
                bench_s += time.perf_counter() - bench_started
            loop_s = time.perf_counter() - loop_started - bench_s
            pending_s, claim_s = spent["pending"], spent["claim"]
            growth = allocation_growth(traced) if traced is not None else None
        finally:
            sampler.stop_event.set()
            sampler.join()
            watch_module.capture_target = original_capture
            browser.close()
        sync = scheduler_sync(runner) if args.scheduler_sync else None
        with workspace.reading() as session:
            statuses = Counter(session.scalars(select(PlannedAttempt.status)))
        verify_started = time.perf_counter()
        verified = verify_workspace(workspace).ok
        verify_s = time.perf_counter() - verify_started
        workspace.close()

    parent_end.send("stop")
    site_log = parent_end.recv()
    sites_process.join(timeout=10)
    overhead_s = loop_s - capture_seconds[0]
    result = {
        "bench": "watch",
        "simulated_days": args.days,
        "cases": CASES,
        "targets": TARGETS,
        "hosts": HOSTS,
        "attempts_per_day_per_target": PER_DAY,
        "plan_days": args.plan_days,
        "planned": planned_total,
        "due_in_simulated_days": due_total,
        "attempts_done": attempts,
        "plan_statuses": dict(statuses),
        "states": dict(states),
        "politeness_refusals": refusals[0],
        "wall_s_loop": round(loop_s, 1),
        "wall_s_bench_sampling_excluded": round(bench_s, 1),
        "wall_s_in_capture_target": round(capture_seconds[0], 1),
        "capture_target_mean_s": round(capture_seconds[0] / attempts, 3) if attempts else None,
        "scheduler_overhead_ms_per_attempt": round(overhead_s / attempts * 1000, 1) if attempts else None,
        "overhead_parts_ms_per_attempt": {
            "pending_query_all_polls": round(pending_s / attempts * 1000, 1) if attempts else None,
            "claim": round(claim_s / attempts * 1000, 1) if attempts else None,
            "rest": round((overhead_s - pending_s - claim_s) / attempts * 1000, 1) if attempts else None,
        },
        "polls": polls,
        "empty_poll_ms_median": round(statistics.median(empty_polls) * 1000, 2) if empty_polls else None,
        "empty_polls_total_s": round(sum(empty_polls), 1),
        **memory_figures(sampler, attempts),
        "browser_rss_mib_by_process_start": mib_by_kind(next(
            (kinds for (done, _, _), kinds in zip(sampler.between, sampler.kinds, strict=True) if done >= 1), {}
        )),
        "browser_rss_mib_by_process_end": mib_by_kind(sampler.kinds[-1]),
        "allocation_growth_after_warm_up": growth,
        "scheduler_sync": sync,
        "verify_ok": verified,
        "verify_s": round(verify_s, 1),
        "setup_s": round(setup_s, 1),
        "sites_requests": site_log["requests"],
        "sites_saw_completion_or_text_field": site_log["completion_or_text_field"],
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }
    result["limits"] = LIMITS
    result["limits_met"] = {
        name: None if result.get(name) is None or (name.startswith("chromium") and attempts < SLOPE_JUDGED_FROM)
        else result[name] <= limit
        for name, limit in LIMITS.items()
    }
    print(json.dumps(result))
    ok = attempts == due_total and verified and site_log["completion_or_text_field"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
