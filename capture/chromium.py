"""One Chromium per process, reused by every attempt, restarted if it crashes.

Playwright's async API runs in a dedicated thread with its own event loop, so that the CLI (one
attempt) and the watcher (attempts on different hosts in parallel, from scheduler threads) share
one browser; each attempt gets a fresh, empty context.

The Playwright driver (and Chromium under it) is started in a session of its own: Ctrl-C at a
terminal signals the whole foreground process group, and the browser must not die under an
attempt in progress — the watcher stops after it (see `preuves watch`). The driver still ends
with this process: it quits when its pipe to us closes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TypeVar

import psutil
from playwright.async_api import Browser, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from capture.browser_diagnosis import driver_failure, driver_problem, launch_failure
from evidence.errors import BadInput, PreuvesError

DEBIAN_CHROMIUM = "/usr/lib/chromium/chromium"
INSTALL_HINT = (
    "aucun Chromium trouvé : installez-le avec « apt-get install chromium » (Debian/Ubuntu) "
    "ou « python -m playwright install chromium »"
)
# Keep Chromium from calling Google on its own: the only host contacted is the booking site.
LAUNCH_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--disable-gpu",
]

T = TypeVar("T")


def browser_environment() -> dict[str, str]:
    """This process's environment (read now: the display of an assisted capture, a proxy), and Chromium's own
    pages (in place of a site it cannot reach: kept as evidence) and windows in French where its translations
    are installed (Debian's chromium-l10n, which the set-up installs with Chromium). The sites' pages follow the
    context's locale, fr-FR, whatever this says."""
    return {**os.environ, "LANGUAGE": "fr"}


def require_display() -> None:
    """An assisted capture opens a window: refuse at once where there is no screen to show it."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise BadInput("mode assisté : aucun écran disponible (variable DISPLAY absente)")


class _DetachedChildrenLoop(asyncio.SelectorEventLoop):
    """An event loop whose child processes start in a new session (out of the terminal's
    process group); Playwright starts its driver through the running loop. The loop notes their process ids:
    another Playwright in the same process (a test's, a benchmark's) runs a driver of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.started: set[int] = set()

    async def subprocess_exec(self, protocol_factory, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        kwargs.setdefault("start_new_session", True)
        transport, protocol = await super().subprocess_exec(protocol_factory, *args, **kwargs)
        self.started.add(transport.get_pid())
        return transport, protocol


class BrowserUnavailable(PreuvesError):
    """No usable Chromium on this machine."""

    exit_code = 2


def playwright_chromium_path(playwright: Playwright) -> str | None:
    path = playwright.chromium.executable_path
    return path if path and Path(path).is_file() else None


def find_chromium(playwright: Playwright, configured: str | None) -> str:
    """The configured path, else Playwright's own Chromium, else Debian's."""
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise BrowserUnavailable(f"Chromium introuvable à l'emplacement configuré : {configured}")
        return configured
    for candidate in (playwright_chromium_path(playwright), DEBIAN_CHROMIUM):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise BrowserUnavailable(INSTALL_HINT)


@dataclass(frozen=True)
class Recycling:
    """When to start the browser and its driver afresh: a watcher runs for weeks, and Chromium's resident memory
    grows with the attempts (52 MiB per 100 in bench/watch.py), its driver's too. Checked between attempts only."""

    after_attempts: int = 100
    above_mib: int = 600  # browser, its helpers and the Playwright driver together (PSS: shared pages shared out)
    check_memory_every: int = 10  # attempts; reading every process's memory map takes 20–150 ms


class BrowserService:
    """A Chromium in a background event loop; `run` executes one coroutine against it."""

    def __init__(
        self, chromium_path: str | None = None, headless: bool = True, recycling: Recycling = Recycling()
    ) -> None:
        self._configured = chromium_path
        self.headless = headless
        self.recycling = recycling
        self._running = 0  # attempts in progress on the current browser
        self._served = 0  # attempts made on the current browser
        self._idle: asyncio.Event | None = None
        self.restarts = 0
        self._loop = _DetachedChildrenLoop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chromium", daemon=True)
        self._thread.start()
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._lock: asyncio.Lock | None = None
        self.version: str = ""
        self.executable: str = ""

    def run(self, job: Callable[[Browser], Awaitable[T]]) -> T:
        """Run `job(browser)` in the browser's loop and wait for its result (thread-safe)."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(self._run(job), self._loop)
        return future.result()

    @property
    def attempts_in_progress(self) -> int:
        return self._running

    def beside(self, job: Callable[[Browser], Awaitable[T]]) -> T:
        """Run `job(browser)` on the browser of the attempt in progress, not counted as an attempt: what a
        person does in an assisted attempt's window. It never starts, restarts or recycles the browser."""

        async def run() -> T:
            if self._browser is None or not self._running:
                raise BrowserUnavailable("aucune tentative en cours dans ce navigateur")
            return await job(self._browser)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    async def _run(self, job: Callable[[Browser], Awaitable[T]]) -> T:
        browser = await self._ensure_browser()
        try:
            return await job(browser)
        finally:
            self._running -= 1
            self._served += 1
            if self._running == 0 and self._idle is not None:
                self._idle.set()

    async def _ensure_browser(self) -> Browser:
        """The browser for one more attempt (counted as running); started, restarted or recycled as needed."""
        if self._lock is None:
            self._lock = asyncio.Lock()
            self._idle = asyncio.Event()
        async with self._lock:
            if self._browser is not None and self._browser.is_connected() and self._recycling_due():
                await self._recycle()
            if self._browser is None or not self._browser.is_connected():
                await self._start()
            assert self._browser is not None
            self._running += 1
            self._idle.clear()  # type: ignore[union-attr]
            return self._browser

    def _recycling_due(self) -> bool:
        if self._served >= self.recycling.after_attempts:
            return True
        checked = self._served > 0 and self._served % self.recycling.check_memory_every == 0
        return checked and self.memory_mib() > self.recycling.above_mib

    async def _recycle(self) -> None:
        """Wait for the attempts in progress (the lock keeps new ones out), then stop browser and driver."""
        assert self._idle is not None
        while self._running:
            await self._idle.wait()
        await self._shutdown()
        self.restarts += 1

    def memory_mib(self) -> float:
        """Memory of this service's driver and everything under it (Chromium and its helpers), in MiB: the
        proportional set size (PSS, Linux), where each shared page counts once in all; elsewhere the resident size."""
        driver_path = self._driver_path()
        total = 0
        for child in psutil.Process().children():
            try:
                if child.pid not in self._loop.started or child.exe() != driver_path:
                    continue
                for process in (child, *child.children(recursive=True)):
                    info = process.memory_full_info()
                    total += getattr(info, "pss", info.rss)
            except psutil.Error:  # a helper process ended meanwhile
                continue
        return total / (1024 * 1024)

    @staticmethod
    @cache
    def _driver_path() -> str:
        from playwright._impl._driver import compute_driver_executable

        return os.path.realpath(compute_driver_executable()[0])

    async def _start(self) -> None:
        """Start the driver (if needed) and a Chromium; a machine where either cannot start says why."""
        if self._playwright is None:
            # The driver is tried on its own first (40 ms): started by Playwright, a driver that cannot
            # load prints the loader's English error on our terminal before Playwright's own exception.
            problem = await asyncio.to_thread(driver_problem)
            if problem:
                raise BrowserUnavailable(problem)
            try:
                self._playwright = await async_playwright().start()
            except Exception as exc:  # Playwright raises a bare Exception when its driver dies at once
                raise BrowserUnavailable(await asyncio.to_thread(driver_failure, exc)) from exc
        executable = find_chromium(self._playwright, self._configured)
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=executable,
                headless=self.headless,
                args=LAUNCH_ARGS + (["--no-sandbox"] if os.geteuid() == 0 else []),
                env=browser_environment(),
            )
        except PlaywrightError as exc:
            raise BrowserUnavailable(launch_failure(executable, exc)) from exc
        self.version = self._browser.version
        self.executable = executable
        self._served = 0

    async def _shutdown(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
            self._loop.started.clear()  # the driver has ended: its process id may be given to another

    def kill_browser(self) -> None:
        """Simulate (or force) a browser crash: the next attempt starts a new one."""

        async def close() -> None:
            if self._browser is not None:
                await self._browser.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result()

    def close(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)

    def __enter__(self) -> BrowserService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
