"""Small pieces several commands share."""

from __future__ import annotations

from sipgate_tui.api import Timeouts
from sipgate_tui.errors import InputError

MAX_TIMEOUT = 600.0


def timeouts_from_option(seconds: float | None) -> Timeouts:
    """``--timeout SECONDS`` as connect and read bounds; None keeps the defaults (5 s / 15 s)."""
    if seconds is None:
        return Timeouts()
    if not 0 < seconds <= MAX_TIMEOUT:
        raise InputError(
            "invalid-timeout",
            f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds.",
            hint="For example --timeout 10.",
        )
    return Timeouts.both(seconds)
