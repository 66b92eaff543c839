"""Small pieces several commands share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipgate_tui.api import Timeouts
from sipgate_tui.errors import InputError

if TYPE_CHECKING:
    from sipgate_tui.api import ApiError
    from sipgate_tui.context import AppContext
    from sipgate_tui.credentials import FoundCredentials
    from sipgate_tui.errors import AppError

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


def reading_problem(
    error: ApiError,
    *,
    found: FoundCredentials,
    timeouts: Timeouts,
    ctx: AppContext,
    what: str,
    scope: str,
) -> AppError:
    """The problem to show when a request of a listing command (not the call) failed."""
    from sipgate_tui.credentials import profile_command
    from sipgate_tui.problems import read_problem

    return read_problem(
        error,
        what=what,
        scope=scope,
        connect_timeout=timeouts.connect,
        read_timeout=timeouts.read,
        credentials_source=found.source,
        login_command=profile_command(ctx.options.profile, "login"),
    )
