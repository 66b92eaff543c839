"""``sipgate-tui devices`` and ``sipgate-tui numbers``: what the account has, as tables or JSON."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sipgate_tui import render
from sipgate_tui.account import list_devices, list_numbers
from sipgate_tui.api import ApiError, SipgateClient
from sipgate_tui.commands.common import reading_problem, timeouts_from_option
from sipgate_tui.context import AppContext
from sipgate_tui.errors import AppError, ExitCode

T = TypeVar("T")


@dataclass(frozen=True)
class ListOptions:
    """Options of ``devices`` and ``numbers``."""

    json: bool = False
    timeout: float | None = None


def devices(options: ListOptions, ctx: AppContext) -> ExitCode:
    """The user's phones: id, name, type, online, do-not-disturb, phonelines."""

    def fetch(client: SipgateClient) -> list:
        return list_devices(client, _user_id(ctx, client))

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
        list_numbers,
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
    fetch: Callable[[SipgateClient], T],
    *,
    what: str,
    scope: str,
    waiting: str,
) -> T:
    timeouts = timeouts_from_option(options.timeout)
    found = ctx.find_credentials()
    client = ctx.make_client(found.credentials, timeouts)
    try:
        with ctx.waiting(waiting):
            return fetch(client)
    except ApiError as error:
        raise reading_problem(
            error, found=found, timeouts=timeouts, ctx=ctx, what=what, scope=scope
        ) from None
    finally:
        client.close()


def _user_id(ctx: AppContext, client: SipgateClient) -> str:
    """The user id, from the state file's cache when it belongs to this token."""
    store = ctx.make_settings()
    token_id = client.token_id
    try:
        state = store.load_state()
    except AppError:
        state = None
    if state is not None and state.user_id and state.user_token_id == token_id:
        return state.user_id
    user_id = client.userinfo().user_id
    with contextlib.suppress(AppError):
        store.remember_user(token_id, user_id)
    return user_id
