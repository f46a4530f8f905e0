"""The five states a captured booking page can be in, with their French labels."""

from enum import StrEnum


class State(StrEnum):
    """What a captured page shows; the value is what the journal stores."""

    NOSLOT = "noslot"
    SLOTS = "slots"
    CAPTCHA = "captcha"
    ERROR = "error"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        """French label for banners and exhibit documents."""
        return STATE_LABELS[self]


STATE_LABELS: dict[State, str] = {
    State.NOSLOT: "aucun créneau",
    State.SLOTS: "créneaux disponibles",
    State.CAPTCHA: "captcha",
    State.ERROR: "erreur",
    State.UNKNOWN: "indéterminé",
}
