"""Small pieces several commands share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipgate_tui.api import SipgateClient, Timeouts
from sipgate_tui.credentials import FoundCredentials
from sipgate_tui.errors import InputError

if TYPE_CHECKING:
    from sipgate_tui.api import ApiError
    from sipgate_tui.context import AppContext
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


@dataclass(frozen=True)
class Session:
    """Credentials found, and a client that uses them, for the length of one command."""

    found: FoundCredentials
    client: SipgateClient
    timeouts: Timeouts

    @property
    def token_id(self) -> str:
        """The token id in use (never the token)."""
        return self.found.credentials.token_id

    def read_problem(self, error: ApiError, ctx: AppContext, *, what: str, scope: str) -> AppError:
        """What to show when a read of this session failed (``what``: 'list your phones')."""
        return reading_problem(
            error, found=self.found, timeouts=self.timeouts, ctx=ctx, what=what, scope=scope
        )


@contextlib.contextmanager
def open_session(ctx: AppContext, timeouts: Timeouts) -> Iterator[Session]:
    """Find the credentials (raising when there are none), make a client, close it after."""
    found = ctx.find_credentials()
    client = ctx.make_client(found.credentials, timeouts)
    try:
        yield Session(found, client, timeouts)
    finally:
        client.close()
