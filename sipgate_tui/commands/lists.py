"""``sipgate-tui devices`` and ``sipgate-tui numbers``: what the account has, as tables or JSON."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sipgate_tui import render
from sipgate_tui.account import Device, list_devices, list_numbers
from sipgate_tui.api import ApiError, SipgateClient
from sipgate_tui.commands.common import Session, open_session, timeouts_from_option
from sipgate_tui.context import AppContext
from sipgate_tui.errors import ExitCode
from sipgate_tui.lookups import keep_devices
from sipgate_tui.user_id import UserId, cached_user_id, remember_learnt

T = TypeVar("T")


@dataclass(frozen=True)
class ListOptions:
    """Options of ``devices`` and ``numbers``."""

    json: bool = False
    timeout: float | None = None


def devices(options: ListOptions, ctx: AppContext) -> ExitCode:
    """The user's phones: id, name, type, online, do-not-disturb, phonelines."""

    def fetch(session: Session) -> list[Device]:
        # Every type once the account is known to be Neo: its desktop app shows only then.
        neo = session.account_kind(ctx).neo
        found = list_devices(session.client, _user_id(ctx, session.client), all_types=neo)
        keep_devices(ctx.make_settings(), session.client.token_id, found)
        return found

    items = _fetch(
        options,
        ctx,
        fetch,
        what="list your phones",
        scope="devices:read",
        waiting="Loading your phones…",
    )
    if options.json:
        ctx.emit_json([device.raw for device in items])
    else:
        ctx.show(render.devices_table(items))
    return ExitCode.OK


def numbers(options: ListOptions, ctx: AppContext) -> ExitCode:
    """The account's numbers (all pages), in international format."""
    items = _fetch(
        options,
        ctx,
        lambda session: list_numbers(session.client),
        what="list your numbers",
        scope="numbers:read",
        waiting="Loading your numbers…",
    )
    if options.json:
        ctx.emit_json([number.raw for number in items])
    else:
        ctx.show(render.numbers_table(items))
    return ExitCode.OK


def _fetch(
    options: ListOptions,
    ctx: AppContext,
    fetch: Callable[[Session], T],
    *,
    what: str,
    scope: str,
    waiting: str,
) -> T:
    with open_session(ctx, timeouts_from_option(options.timeout)) as session:
        try:
            with ctx.waiting(waiting):
                return fetch(session)
        except ApiError as error:
            raise session.read_problem(error, ctx, what=what, scope=scope) from None


def _user_id(ctx: AppContext, client: SipgateClient) -> str:
    """The user id, from the state file's cache when it belongs to this token."""
    store = ctx.make_settings()
    user = UserId(client, cached_user_id(store, client.token_id))
    user_id = user.get()
    remember_learnt(store, client.token_id, user)
    return user_id
