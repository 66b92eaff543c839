"""Small pieces several commands share."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sipgate_tui.api import SipgateClient, Timeouts
from sipgate_tui.credentials import FoundCredentials, profile_command
from sipgate_tui.errors import InputError

if TYPE_CHECKING:
    from sipgate_tui.account_type import AccountKind
    from sipgate_tui.api import ApiError
    from sipgate_tui.context import AppContext
    from sipgate_tui.errors import AppError

MAX_TIMEOUT = 600.0


def timeouts_from_option(seconds: float | None) -> Timeouts:
    """``--timeout SECONDS`` as the bound of each whole request (connecting, sending and the
    answer's last byte) and of each wait in it; None keeps the defaults (5 s to connect, 15 s
    per wait, 20 s per request)."""
    if seconds is None:
        return Timeouts()
    if not 0 < seconds <= MAX_TIMEOUT:
        raise InputError(
            "invalid-timeout",
            f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds.",
            hint="For example --timeout 10.",
        )
    return Timeouts.both(seconds)


class Session:
    """Credentials found, and a client that uses them, for the length of one command."""

    # A plain class, not a dataclass: it is created on every dial's import, where each
    # dataclass costs about a millisecond (measured with -X importtime).
    __slots__ = ("client", "found", "timeouts")

    def __init__(self, found: FoundCredentials, client: SipgateClient, timeouts: Timeouts) -> None:
        self.found, self.client, self.timeouts = found, client, timeouts

    @property
    def token_id(self) -> str:
        """The token id in use (never the token)."""
        return self.found.credentials.token_id

    def account_kind(self, ctx: AppContext) -> AccountKind:
        """The account type this token is known (forced or learnt) to have; no probes."""
        from sipgate_tui.account_type import account_kind, remembered_of, setting_of

        store = ctx.make_settings()
        remembered = remembered_of(store, self.token_id)
        return account_kind(ctx.options.account_type, setting_of(store), remembered, ctx.env)

    def read_problem(
        self, error: ApiError, ctx: AppContext, *, what: str, scope: str | None
    ) -> AppError:
        """What to show when a read of this session failed (``what``: 'list your phones';
        ``scope``: the one it needs, if any). Not for the call request: see problems."""
        from sipgate_tui.problems import read_problem  # its tables: only when something failed

        return read_problem(
            error,
            what=what,
            scope=scope,
            connect_timeout=self.timeouts.connect,
            read_timeout=self.timeouts.read,
            credentials_source=self.found.source,
            login_command=profile_command(ctx.options.profile, "login"),
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
