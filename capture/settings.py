"""Capture settings, read from the workspace's `[capture]` section."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from evidence.errors import BadInput

# Politeness floor: outside the test suite (which builds CaptureSettings directly) no host is
# asked more often than this, whatever the configuration says.
MIN_INTERVAL_FLOOR = timedelta(minutes=2)
MAX_INTERVAL_MINUTES = 24 * 60


@dataclass(frozen=True)
class CaptureSettings:
    min_interval: timedelta = timedelta(minutes=10)
    attempt_timeout_s: int = 90
    viewport: tuple[int, int] = (1366, 768)
    chromium_path: str | None = None
    # Assisted captures wait for a person; they get a longer limit.
    assisted_timeout_s: int = 600
    # The pause after an anti-bot refusal, doubled at each refusal in a row (capture/politeness.py).
    block_pause: timedelta = timedelta(minutes=30)

    @classmethod
    def from_config(cls, section: dict[str, Any]) -> CaptureSettings:
        try:
            minutes = int(section.get("min_interval_minutes", 10))
            timeout = int(section.get("attempt_timeout_seconds", 90))
            width, height = (int(v) for v in section.get("viewport", (1366, 768)))
            chromium = section.get("chromium_path") or None
            block_minutes = int(section.get("block_pause_minutes", 30))
        except (TypeError, ValueError, OverflowError) as exc:
            raise BadInput(f"preuves.toml, section [capture] : valeur invalide ({exc})") from exc
        if not 0 <= minutes <= MAX_INTERVAL_MINUTES:
            raise BadInput(f"preuves.toml : min_interval_minutes doit être entre 2 et {MAX_INTERVAL_MINUTES}")
        if not 5 <= timeout <= 600:
            raise BadInput("preuves.toml : attempt_timeout_seconds doit être entre 5 et 600")
        if not (320 <= width <= 3840 and 320 <= height <= 4320):
            raise BadInput("preuves.toml : viewport doit être [largeur, hauteur] en pixels")
        if not 1 <= block_minutes <= MAX_INTERVAL_MINUTES:
            raise BadInput(f"preuves.toml : block_pause_minutes doit être entre 1 et {MAX_INTERVAL_MINUTES}")
        return cls(
            min_interval=max(timedelta(minutes=minutes), MIN_INTERVAL_FLOOR),
            attempt_timeout_s=timeout,
            viewport=(width, height),
            chromium_path=str(chromium) if chromium else None,
            block_pause=timedelta(minutes=block_minutes),
        )
