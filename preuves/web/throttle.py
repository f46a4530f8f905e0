"""How many password checks the login page lets through, and to whom.

Three counts of recent attempts, each kept for WINDOW_S seconds:
- per (username, client address): MAX_PAIR_FAILURES wrong passwords lock that pair only, so a
  stranger cannot lock a user out — the same user from their own address can still sign in;
- per client address: MAX_ADDRESS_FAILURES, whatever the usernames (guessing many names);
- per username, from every address together: past SLOW_AFTER failures, at most one check every
  SLOW_INTERVAL_S seconds (a distributed attack is slowed down, never turned into a lock-out).

An attempt is counted before its password is checked, under one lock: parallel requests cannot
get more checks through than the limits. A success forgets the pair's failures. Every count is
bounded (MAX_KEYS keys, the oldest forgotten first), so no stream of made-up names fills memory.
A success takes its attempt back from the address and username counts: colleagues behind one
address who sign in all day are never slowed down.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

WINDOW_S = 15 * 60
MAX_PAIR_FAILURES = 5
MAX_ADDRESS_FAILURES = 30
SLOW_AFTER = 10
SLOW_INTERVAL_S = 5.0
MAX_KEYS = 50_000

PAIR_LOCKED = "Trop d'essais pour cet identifiant depuis cette adresse : réessayez dans un quart d'heure."
ADDRESS_LOCKED = "Trop d'essais depuis cette adresse : réessayez dans un quart d'heure."
SLOWED_DOWN = "Cet identifiant reçoit beaucoup d'essais : réessayez dans quelques secondes."


class RecentAttempts:
    """Times of recent attempts per key, within a window, for at most `max_keys` keys."""

    def __init__(self, window_s: float, max_keys: int) -> None:
        self._window_s = window_s
        self._max_keys = max_keys
        self._times: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def recent(self, key: Hashable, now: float) -> deque[float]:
        times = self._times.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self._window_s:
            times.popleft()
        if not times:
            del self._times[key]
        return times

    def add(self, key: Hashable, now: float, keep: int) -> None:
        """Record an attempt; only the last `keep` times of a key matter to its limit."""
        times = self._times.setdefault(key, deque(maxlen=keep))
        times.append(now)
        self._times.move_to_end(key)
        while len(self._times) > self._max_keys:
            self._times.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._times.pop(key, None)

    def discount(self, key: Hashable) -> None:
        """Take back one attempt of `key` (a success is not a failure)."""
        times = self._times.get(key)
        if times:
            times.pop()

    def __len__(self) -> int:
        return len(self._times)


def address_key(address: str) -> str:
    """IPv6 clients are counted per /64: one machine can use any address of its network."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class LoginThrottle:
    """The three counts above, shared by the threads of one server."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._pairs = RecentAttempts(WINDOW_S, max_keys)
        self._addresses = RecentAttempts(WINDOW_S, max_keys)
        self._usernames = RecentAttempts(WINDOW_S, max_keys)

    def begin(self, username: str, address: str) -> str | None:
        """Count an attempt before its check; or give the French reason it is refused (not counted)."""
        client = address_key(address)
        now = self._clock()
        with self._lock:
            if len(self._addresses.recent(client, now)) >= MAX_ADDRESS_FAILURES:
                return ADDRESS_LOCKED
            if len(self._pairs.recent((username, client), now)) >= MAX_PAIR_FAILURES:
                return PAIR_LOCKED
            tried = self._usernames.recent(username, now)
            if len(tried) >= SLOW_AFTER and now - tried[-1] < SLOW_INTERVAL_S:
                return SLOWED_DOWN
            self._pairs.add((username, client), now, MAX_PAIR_FAILURES)
            self._addresses.add(client, now, MAX_ADDRESS_FAILURES)
            self._usernames.add(username, now, SLOW_AFTER)
        return None

    def succeeded(self, username: str, address: str) -> None:
        """The password was right: the pair starts afresh, and this attempt was no failure."""
        client = address_key(address)
        with self._lock:
            self._pairs.forget((username, client))
            self._addresses.discount(client)
            self._usernames.discount(username)

    def tracked(self) -> int:
        """How many keys are remembered (for the tests of the bound)."""
        with self._lock:
            return len(self._pairs) + len(self._addresses) + len(self._usernames)
