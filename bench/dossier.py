"""Benchmark: a dossier of 1,000 captures, against one WeasyPrint document embedding the PNGs.

Five real attempts are made with Chromium on the local simulated site (one per page state); then
1,000 captures are recorded with distinct times reusing those screenshots' bytes and what each attempt read
on the page (the decisive text's box, the server's clock, the labels: the inset and the rows a real capture
page shows), through `evidence.records.record_capture` like real attempts. The dossier is built as the tool
builds it (one document per pièce, JPEG copies, worker processes); the baseline lays every capture out in
one WeasyPrint document with the original PNGs. Each build runs in a child process of its own,
whose memory (with its own children) is sampled.

Run: `python bench/dossier.py [--captures 1000]`. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dossier_builder.build import MAX_FILE_BYTES, build_dossier
from dossier_builder.facts import facts_of
from dossier_builder.piece_files import Shot, frame_for
from dossier_builder.render import render_html, write_pdf
from dossier_builder.review import MAIL_LIMIT_BYTES
from evidence.models import Target
from evidence.observations import PageObservations
from evidence.records import (
    CaptureFacts,
    NewArtefact,
    TargetSpec,
    add_case,
    record_capture,
)
from evidence.workspace import init_workspace, open_workspace

CASE = "Banc d'essai"
MODES = ("noslot", "slots", "overload", "captcha", "502")
KEPT_KINDS = ("screenshot", "screenshot_annotated", "html")
TARGET_WALL_S = 20  # for 1,000 captures on a quiet 2-core machine (issue 18)


Sample = tuple[str, str | None, int | None, PageObservations, list[NewArtefact]]


def real_captures(home: Path) -> tuple[str, list[Sample]]:
    """Five real attempts; returns the page URL and, per attempt, its state, text, status, observations and
    files."""
    # Imported here, not at the top: the build's worker processes ("spawn") import this script again, and
    # `preuves dossier` loads neither the browser nor the simulated site.
    from capture.attempt import capture_target
    from capture.chromium import BrowserService
    from capture.settings import CaptureSettings
    from simsite.server import SimulatedSite

    workspace, _ = init_workspace(home)
    settings = CaptureSettings(min_interval=timedelta(0), attempt_timeout_s=30)
    samples = []
    with SimulatedSite(mode="noslot") as site, BrowserService() as browser:
        url = f"{site.base_url}/booking/create/4963"
        case, _ = add_case(workspace, "échantillons", TargetSpec(url, "ezbooking", "16162"))
        with workspace.reading() as session:
            target = session.get(Target, case.target_id)
        for mode in MODES:
            site.mode = mode
            capture = capture_target(workspace, target, browser, settings).capture
            files = [
                NewArtefact(a.kind, a.media_type, data=workspace.blobs.read(a.sha256), filename=a.filename)
                for a in capture.artefacts
                if a.kind in KEPT_KINDS
            ]
            observations = PageObservations.from_json(capture.observations)
            samples.append((capture.state, capture.evidence_text, capture.http_status, observations, files))
    workspace.close()
    return url, samples


def record_many(home: Path, count: int) -> None:
    """`count` captures every 2 h 37 min from 2 November 2026, cycling through the real samples."""
    url, samples = real_captures(home / "samples")
    workspace, _ = init_workspace(home / "ws")
    case, _ = add_case(workspace, CASE, TargetSpec(url, "ezbooking", "16162", "Val-d'Oise"))
    start = datetime(2026, 11, 2, 6, 40, tzinfo=UTC)
    for n in range(count):
        state, text, status, observations, files = samples[n % len(samples)]
        moment = start + timedelta(minutes=157 * n)
        if observations.server_date is not None:  # the server's clock read at this attempt's time
            skew = timedelta(milliseconds=observations.clock_skew_ms or 0)
            observations = replace(observations, server_date=(moment + skew).replace(microsecond=0))
        facts = CaptureFacts(
            target_id=case.target_id,
            attempt_no=n + 1,
            started_at=moment,
            finished_at=moment + timedelta(seconds=5),
            url_requested=url,
            final_url=url + "/2",
            http_status=status,
            state=state,
            platform="ezbooking",
            evidence_text=text,
            observations=observations,
        )
        record_capture(workspace, facts, files)
    workspace.close()


def build_tool(home: Path, out: Path) -> dict[str, object]:
    workspace = open_workspace(home / "ws")
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def progress(step: str, done: int, total: int) -> None:
        stages[step] = round(time.perf_counter() - started, 2)  # when the step last reported

    result = build_dossier(workspace, CASE, out, progress=progress)
    workspace.close()
    sizes = {p.name: p.stat().st_size for p in out.iterdir()}
    bundle = {name: size for name, size in sizes.items() if name != result.review.name}
    return {
        "files": len(sizes),
        "pieces": len(result.pieces),
        "pages": result.review_pages,
        "largest_bundle_file": max(bundle, key=bundle.__getitem__),
        "largest_bundle_bytes": max(bundle.values()),
        "review_copy_bytes": sizes[result.review.name],
        "largest_bytes": max(sizes.values()),
        "total_bytes": sum(sizes.values()),
        "stage_end_s": stages,
    }


def build_baseline(home: Path, out: Path) -> dict[str, object]:
    """Every capture in one WeasyPrint document, each original annotated PNG embedded as is."""
    workspace = open_workspace(home / "ws")
    facts = facts_of(workspace, CASE)
    links = out / "png"
    links.mkdir(parents=True)
    shots = []
    for attempt in facts.attempts:
        link = links / f"capture-{attempt.id}.png"
        link.symlink_to(workspace.home / attempt.shown.blob_path)
        shots.append(Shot(attempt, f"png/{link.name}"))
    piece = next(piece for piece in facts.pieces if piece.kind == "captures")
    html = render_html("captures.html", frame_for(facts, piece), facts=facts, piece=piece, shots=shots)
    dest = out / "un-seul-document.pdf"
    pages = write_pdf(html, dest, base_dir=out)
    workspace.close()
    return {"pages": pages, "largest_bytes": dest.stat().st_size, "total_bytes": dest.stat().st_size}


def measure(command: list[str]) -> dict[str, object]:
    """Run `command`; wall time, and the peak of its memory summed over it and its children."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    watched = psutil.Process(process.pid)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                total = watched.memory_info().rss + sum(
                    child.memory_info().rss for child in watched.children(recursive=True)
                )
            except psutil.Error:
                total = 0
            peak = max(peak, total)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{command} failed ({process.returncode})")
    result = json.loads(output.strip().splitlines()[-1])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["wall_s"] = round(time.perf_counter() - started, 2)
    result["cpu_s"] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)
    result["peak_rss_mib"] = round(peak / 2**20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=1000)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--step", choices=("tool", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:  # a child process: one build, its figures as JSON
        build = build_tool if args.step == "tool" else build_baseline
        print(json.dumps(build(args.home, args.home / f"out-{args.step}")))
        return
    with tempfile.TemporaryDirectory(prefix="bench-dossier-") as tmp:
        home = Path(tmp)
        started = time.perf_counter()
        record_many(home, args.captures)
        setup_s = round(time.perf_counter() - started, 2)
        me = [sys.executable, __file__, "--home", str(home), "--step"]
        load_before = [round(load, 2) for load in os.getloadavg()]
        tool = measure([*me, "tool"])
        load_after = [round(load, 2) for load in os.getloadavg()]
        figures: dict[str, object] = {
            "captures": args.captures,
            "cores": os.cpu_count(),
            "setup_s": setup_s,
            "tool": tool,
            # Télérecours' limit binds the filed files; the review copy is the lawyer's, never filed.
            "every_bundle_file_under_32_mo": tool["largest_bundle_bytes"] <= MAX_FILE_BYTES,
            "review_copy_under_32_mo": tool["review_copy_bytes"] <= MAIL_LIMIT_BYTES,
            "wall_target_s": TARGET_WALL_S,
            "wall_target_met": tool["wall_s"] <= TARGET_WALL_S,
            "load_average_start": load_before,
            "load_average_end": load_after,
        }
        if not args.skip_baseline:
            baseline = measure([*me, "baseline"])
            figures["baseline_one_document_png"] = baseline
            figures["ratio_baseline_over_tool"] = {
                "wall": round(baseline["wall_s"] / tool["wall_s"], 2),
                "peak_rss": round(baseline["peak_rss_mib"] / tool["peak_rss_mib"], 2),
                "largest_file": round(baseline["largest_bytes"] / tool["largest_bundle_bytes"], 2),
            }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
