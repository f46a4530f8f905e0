"""Benchmark: how fast the command line answers (issue 18 §6): `preuves --help`, and `preuves status` on a
workspace with one case and `--attempts` recorded attempts (with their files), each a new process, as a user
runs them.

The runs alternate (`--help`, `status`, `status --json`, then again) so that the machine's load weighs on each
alike; for each, the median and best wall time over `--runs` runs and the median CPU time (user + system of the
child process). The commands are run by this interpreter (`python -m preuves`) from a folder outside any
checkout, so they are the code its environment installed: run this script with another checkout's Python to
measure that one (before / after).

Run: `python bench/startup.py [--runs 15] [--attempts 100]`. The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evidence.records import NewArtefact
from evidence.workspace import init_workspace
from recorded_attempts import record_attempts

TARGET_S = 0.4
COMMANDS = {"help": ["--help"], "status": ["status"], "status_json": ["status", "--json"]}


def timed(argv: list[str], folder: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `preuves ARGV` in a new process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "preuves", *argv], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--attempts", type=int, default=100)
    args = parser.parse_args()
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        folder, home = Path(tmp), Path(tmp) / "ws"
        workspace, _ = init_workspace(home)
        try:
            record_attempts(workspace, args.attempts, lambda number: [
                NewArtefact("screenshot", "image/png", data=f"png {number}".encode()),
                NewArtefact("html", "text/html", data=f"<p>{number}</p>".encode()),
            ])
        finally:
            workspace.close()
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
        for name, argv in COMMANDS.items():  # warm-up: the files' pages in the cache, the .pyc written
            timed(argv if name == "help" else ["--home", str(home), *argv], folder)
        for run in range(args.runs):
            for name, argv in COMMANDS.items():
                figures[name].append(timed(argv if name == "help" else ["--home", str(home), *argv], folder))
            print(f"run {run + 1}/{args.runs}", file=sys.stderr)
    result: dict[str, object] = {"bench": "startup", "runs": args.runs, "attempts": args.attempts}
    for name, runs in figures.items():
        walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
        result[name] = {
            "wall_median_s": round(statistics.median(walls), 3),
            "wall_best_s": round(min(walls), 3),
            "cpu_median_s": round(statistics.median(cpus), 3),
        }
    result["target_s"] = TARGET_S
    result["target_met"] = all(result[name]["wall_median_s"] <= TARGET_S for name in COMMANDS)  # type: ignore[index]
    result["load_average_start"] = [round(value, 2) for value in load_start]
    result["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
