"""``python -m simsite --port 8080 --mode noslot``: serve the simulated site until Ctrl-C.

The first line printed is the base URL alone, so that a script can read it.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from simsite.home import ENTRY_POINTS
from simsite.requestlog import LoggedRequest
from simsite.server import CONTROL_PREFIX, MODES, SimulatedSite


def _print_request(request: LoggedRequest) -> None:
    warning = "  <-- étape de réservation (interdite à l'outil)" if request.is_completion else ""
    print(f"{request.time:%H:%M:%S} {request.method} {request.path}{warning}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simsite", description="Site simulé de prise de rendez-vous.")
    parser.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port d'écoute, 0 = port libre (défaut : 8080)")
    parser.add_argument("--mode", choices=MODES, default="noslot", help="état initial des pages (défaut : noslot)")
    parser.add_argument("--quiet", action="store_true", help="ne pas afficher chaque requête reçue")
    args = parser.parse_args(argv)

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C interrupts the stop
        stop.set()

    # Ctrl-C and SIGTERM only ask to stop: a KeyboardInterrupt could land anywhere (in a print, say).
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    site = SimulatedSite(args.mode, args.host, args.port, on_request=None if args.quiet else _print_request)
    with site:
        print(site.base_url, flush=True)
        print(f"Site simulé en écoute, mode « {site.mode} ». Pages :", flush=True)
        for path, label in ENTRY_POINTS:
            print(f"  {site.base_url}{path}  ({label})", flush=True)
        print(
            f"Changer de mode : curl -d mode=slots {site.base_url}{CONTROL_PREFIX}mode "
            f"(modes : {', '.join(MODES)}). Journal : {site.base_url}{CONTROL_PREFIX}log",
            flush=True,
        )
        print("Ctrl-C pour arrêter.", flush=True)
        stop.wait()
    print("Site simulé arrêté.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
