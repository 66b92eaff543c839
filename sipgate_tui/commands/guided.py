"""Bare ``sipgate-tui``: the guided path. No credentials yet -> login, then the call flow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

from sipgate_tui.api import (
    HttpStatusError,
    NetworkError,
    SipgateClient,
    Timeouts,
    UserInfo,
    is_classic_pbx_refusal,
)
from sipgate_tui.commands import call, login
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import Credentials, CredentialsMissing
from sipgate_tui.errors import Cancelled, ExitCode, InputError

USAGE = (
    "Usage: sipgate-tui [OPTIONS] COMMAND. Commands: call, calls, hangup, history, contacts, "
    "devices, numbers, login, status, profiles, logout, config, favourites, handler, demo. "
    "Run `sipgate-tui --help` for details."
)


def run(ctx: AppContext) -> ExitCode:
    """Log in first if needed, then place a call, asking for everything on the way."""
    if not ctx.can_prompt():
        raise InputError(
            "no-command",
            f"No command given, and the guided mode needs questions: {ctx.why_no_prompts()}.",
            hint=USAGE,
        )
    try:
        ctx.find_credentials()
    except CredentialsMissing:
        # The login's check already asked who the token is and looked at the phones: the
        # call that follows at once uses those answers instead of asking again.
        ctx = replace(ctx, make_client=_sharing_reads(ctx.make_client))
        login.run(login.LoginOptions(), ctx)
        try:
            return call.run(call.CallOptions(), ctx)
        except Cancelled as cancelled:
            raise cancelled.reworded(f"{cancelled.message} You are logged in, though.") from None
    return call.run(call.CallOptions(), ctx)


MakeClient = Callable[[Credentials, Timeouts], SipgateClient]


def _sharing_reads(make_client: MakeClient) -> MakeClient:
    """Clients whose answers to ``userinfo`` and to the device list are kept for the next
    client of the same token (each answer used once more: the login's, by the call)."""
    kept: dict[tuple[str, str], object] = {}

    def make(credentials: Credentials, timeouts: Timeouts) -> SipgateClient:
        return cast(SipgateClient, _SharedReads(make_client(credentials, timeouts), kept))

    return make


class _SharedReads:
    """A client (everything is passed through) that keeps one answer of ``userinfo`` and of
    ``GET /{userId}/devices`` (probed by the login) for the call's identical request."""

    def __init__(self, client: SipgateClient, kept: dict[tuple[str, str], object]) -> None:
        self._client, self._kept = client, kept

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _key(self, what: str) -> tuple[str, str]:
        return (self._client.token_id, what)

    def userinfo(self) -> UserInfo:
        """Who the token is: the kept answer (once), else sipgate's."""
        kept = self._kept.pop(self._key("userinfo"), None)
        if isinstance(kept, UserInfo):
            return kept
        info = self._client.userinfo()
        self._kept[self._key("userinfo")] = info
        return info

    def probe_refusal(
        self, path: str, params: dict[str, str | int] | None = None
    ) -> tuple[int, bool]:
        """The login's scope probe; for the device list, its answer is kept for the call."""
        if params or not path.endswith("/devices"):
            return self._client.probe_refusal(path, params)
        try:
            self._kept[self._key(path)] = self._client.get_json(path)
        except HttpStatusError as error:
            return error.status, is_classic_pbx_refusal(error)
        except NetworkError:
            return self._client.probe_refusal(path, params)
        return 200, False

    def get_json(self, path: str, params: dict[str, str | int] | None = None) -> Any:
        """A kept answer for this very request (once), else sipgate's."""
        kept = None if params else self._kept.pop(self._key(path), None)
        return kept if kept is not None else self._client.get_json(path, params)
