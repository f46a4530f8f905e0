"""Why the browser or its driver did not start, said in one French line with the fix.

Playwright's driver is a Node.js program shipped inside the Python package; on a minimal system it may lack a
shared library (libatomic.so.1 on a fresh Debian), and Playwright then only says « Connection closed while
reading from the driver ». Chromium, likewise, names a missing library in its own log. This module runs the
driver once more to read its error, finds the library named, and gives the Debian package that holds it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

# The libraries the bundled driver and Chromium need that a minimal Debian may lack, and their packages.
LIBRARY_PACKAGES = {
    "libatomic.so.1": "libatomic1",
    "libnss3.so": "libnss3",
    "libnssutil3.so": "libnss3",
    "libsmime3.so": "libnss3",
    "libnspr4.so": "libnspr4",
    "libgbm.so.1": "libgbm1",
    "libasound.so.2": "libasound2",
    "libatk-1.0.so.0": "libatk1.0-0",
    "libatk-bridge-2.0.so.0": "libatk-bridge2.0-0",
    "libatspi.so.0": "libatspi2.0-0",
    "libcups.so.2": "libcups2",
    "libdrm.so.2": "libdrm2",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libXcomposite.so.1": "libxcomposite1",
    "libXdamage.so.1": "libxdamage1",
    "libXfixes.so.3": "libxfixes3",
    "libXrandr.so.2": "libxrandr2",
    "libpango-1.0.so.0": "libpango-1.0-0",
    "libcairo.so.2": "libcairo2",
    "libdbus-1.so.3": "libdbus-1-3",
    "libexpat.so.1": "libexpat1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libstdc++.so.6": "libstdc++6",
}
_MISSING_LIBRARY = re.compile(r"error while loading shared libraries: ([^:\s]+)")
_DRIVER_CHECK_TIMEOUT_S = 20


def missing_library(log: str) -> str | None:
    """The file name of the shared library a program's loader could not load, if its log says so."""
    found = _MISSING_LIBRARY.search(log)
    return Path(found.group(1)).name if found else None


def _library_fix(library: str) -> str:
    package = LIBRARY_PACKAGES.get(library)
    if package:
        return f"bibliothèque manquante {library} (installez-la : « sudo apt-get install {package} »)"
    return f"bibliothèque manquante {library} (cherchez le paquet qui la fournit : « apt-file search {library} »)"


def driver_log() -> str:
    """What Playwright's Node.js driver prints when started on its own (empty when it starts fine)."""
    from playwright._impl._driver import compute_driver_executable

    node, _cli = compute_driver_executable()
    try:
        done = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=_DRIVER_CHECK_TIMEOUT_S, check=False
        )
    except OSError as exc:
        return f"{node}: {exc.strerror or exc}"
    except subprocess.TimeoutExpired:
        return f"{node}: no answer within {_DRIVER_CHECK_TIMEOUT_S} s"
    return "" if done.returncode == 0 else done.stderr


def driver_problem() -> str | None:
    """The line saying why the driver cannot start, or None when it starts."""
    log = driver_log()
    return _driver_line(log) if log else None


def driver_failure(error: BaseException) -> str:
    """The line for a driver that started, then died before Playwright could talk to it."""
    return _driver_line(driver_log() or str(error))


def _driver_line(log: str) -> str:
    library = missing_library(log)
    if library:
        return f"le pilote du navigateur (Playwright) ne démarre pas : {_library_fix(library)}"
    detail = next((line.strip() for line in log.splitlines() if line.strip()), "")
    return (
        "le pilote du navigateur (Playwright) ne démarre pas"
        + (f" ({detail})" if detail else "")
        + " : réinstallez l'environnement avec « make setup »"
    )


def launch_failure(executable: str, error: BaseException) -> str:
    """The line for a Chromium that would not start."""
    log = str(error)
    library = missing_library(log)
    if library:
        return f"Chromium ne démarre pas ({executable}) : {_library_fix(library)}"
    return (
        f"Chromium ne démarre pas ({executable}) : réinstallez-le (« sudo apt-get install --reinstall chromium ») "
        "ou indiquez un autre navigateur dans preuves.toml (chromium_path)"
    )
