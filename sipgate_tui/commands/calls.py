"""``sipgate-tui calls``, ``hangup`` and ``history``: what happens after the dial."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from sipgate_tui import rtcm
from sipgate_tui.api import ApiError, HttpStatusError
from sipgate_tui.commands.common import Session, open_session, timeouts_from_option
from sipgate_tui.context import AppContext
from sipgate_tui.errors import AppError, Cancelled, ExitCode, InputError
from sipgate_tui.numbers import pretty
from sipgate_tui.prompts import Option
from sipgate_tui.rtcm import ActiveCall, HistoryEntry
from sipgate_tui.user_id import UserId, cached_user_id

if TYPE_CHECKING:
    from sipgate_tui.settings import Recent

# render (and with it Rich's tables and panels) is imported where a table is drawn: --json
# answers never need it.

T = TypeVar("T")
log = logging.getLogger("sipgate_tui")
WATCH_INTERVAL = 2.0  # seconds between two refreshes of `calls --watch`


@dataclass(frozen=True)
class CallsOptions:
    """Options of ``calls``."""

    json: bool = False
    watch: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class HangupOptions:
    """Options of ``hangup``: one call id, all calls, or a pick from the list."""

    call_id: str | None = None
    all: bool = False
    yes: bool = False
    json: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class HistoryOptions:
    """Options of ``history``."""

    limit: int = 20
    json: bool = False
    timeout: float | None = None
    missed: bool = False  # the missed incoming calls instead of the outgoing ones


def calls(options: CallsOptions, ctx: AppContext) -> ExitCode:
    """The account's established calls; with --watch, refreshed until Ctrl-C or q.

    Without a terminal --watch prints the table once (a script has no q to press).
    """
    from sipgate_tui import render

    if options.watch and options.json:
        raise InputError(
            "conflicting-options",
            "--watch redraws a table; --json prints one document: pick one.",
            hint="For scripts: sipgate-tui calls --json, run as often as needed.",
        )
    with open_session(ctx, timeouts_from_option(options.timeout)) as session:

        def look() -> list[ActiveCall]:
            return _active_calls(session, ctx)

        listed = look()
        if options.json:
            ctx.emit_json([call.raw for call in listed])
            return ExitCode.OK
        names = _names(ctx, session)
        if not options.watch or not ctx.terminal:
            ctx.show(render.calls_table(listed, names=names))
            return ExitCode.OK
        seen: dict[str, float] = {call.call_id: ctx.clock() for call in listed}
        with ctx.keys() as pressed, ctx.live() as live:
            next_refresh = ctx.clock()
            while True:
                now = ctx.clock()
                if now >= next_refresh:
                    listed = look()
                    for call in listed:
                        seen.setdefault(call.call_id, now)
                    next_refresh = now + WATCH_INTERVAL
                live(render.calls_table(listed, now, seen, watching=True, names=names))
                if any(key in ("q", "c-c", "escape") for key in pressed()):
                    break
                ctx.sleep(0.1)
        ctx.show(render.calls_table(listed, ctx.clock(), seen, names=names))
    return ExitCode.OK


def hangup(options: HangupOptions, ctx: AppContext) -> ExitCode:
    """Hang up one call, a picked one, or (with --all, confirmed) every active call."""
    from sipgate_tui import render

    call_id = _checked_hangup_options(options, ctx)
    with open_session(ctx, timeouts_from_option(options.timeout)) as session:
        targets = [call_id] if call_id else _pick_calls(session, ctx, options)
        done, missing = _hang_up_each(session, targets, ctx)
    if missing and not done:
        # The error document (or panel) is the whole answer: nothing else was printed.
        if _on_neo(session, ctx):
            # Whether DELETE /calls/{id} works on Neo is unknown: a 404 may mean either.
            raise AppError(
                "no-such-call",
                f"sipgate could not hang up {missing[0]} (HTTP 404): the call may have ended, "
                "or sipgate Neo may not offer hanging up through the API yet (unconfirmed).",
                hint="End the call on your phone or in the sipgate app.",
                status=404,
            )
        raise AppError(
            "no-such-call",
            f"No active call with the id {missing[0]} (it may have ended already).",
            hint="`sipgate-tui calls` lists the active calls.",
            status=404,
        )
    if options.json:
        ctx.emit_json({"ok": True, "hungUp": done, "notFound": missing})
    else:
        ctx.show(render.hung_up(done, missing))
    return ExitCode.OK


def _checked_hangup_options(options: HangupOptions, ctx: AppContext) -> str | None:
    """The call id given, if any; InputError for options that cannot go together, or that
    leave a question to ask where none may be asked."""
    interactive = ctx.can_prompt(json_mode=options.json)
    call_id = _checked_call_id(options.call_id) if options.call_id is not None else None
    if call_id and options.all:
        raise InputError("conflicting-options", "Give a call id or --all, not both.")
    if options.all and not options.yes and not interactive:
        raise InputError(
            "confirmation-required",
            "Not hanging up every call without confirmation: "
            f"{ctx.why_no_prompts(json_mode=options.json)}.",
            hint="Add --yes: sipgate-tui hangup --all --yes",
        )
    if not call_id and not options.all and not interactive:
        raise InputError(
            "missing-value",
            "Which call? Give its id (sipgate-tui calls lists them), or --all --yes: "
            f"{ctx.why_no_prompts(json_mode=options.json)}.",
            hint="For example: sipgate-tui hangup CALL_ID",
        )
    return call_id


def _pick_calls(session: Session, ctx: AppContext, options: HangupOptions) -> list[str]:
    """The ids of the active calls to hang up: all of them (shown and confirmed unless --yes)
    or the one picked from a list; Cancelled when the user backs out."""
    from sipgate_tui import render

    active = _active_calls(session, ctx)
    if not active:
        return []
    if options.all:
        targets = [call.call_id for call in active]
        if not options.yes:
            ctx.show(render.calls_table(active))
            count = len(targets)
            question = f"Hang up {'this call' if count == 1 else f'all {count} calls'}?"
            if not _confirm(ctx, question):
                raise Cancelled("Cancelled. No call was hung up.")
        return targets
    choices = [Option(_label(call), call.call_id) for call in active]
    choices.append(Option("Cancel", None))
    picked = _select(ctx, "Which call do you want to hang up?", choices)
    if picked is None:
        raise Cancelled("Cancelled. No call was hung up.")
    return [str(picked)]


def _hang_up_each(
    session: Session, call_ids: list[str], ctx: AppContext
) -> tuple[list[str], list[str]]:
    """Hang up each call in turn: (the ids hung up, the ids sipgate did not know)."""
    done: list[str] = []
    missing: list[str] = []
    for call_id in call_ids:
        try:
            rtcm.hang_up(session.client, call_id)
            done.append(call_id)
        except HttpStatusError as error:
            if error.status != 404:
                raise session.read_problem(
                    error, ctx, what="hang up calls", scope="rtcm:write"
                ) from None
            missing.append(call_id)
        except ApiError as error:
            raise session.read_problem(
                error, ctx, what="hang up calls", scope="rtcm:write"
            ) from None
    return done, missing


def history(options: HistoryOptions, ctx: AppContext) -> ExitCode:
    """The last outgoing calls, newest first; with --missed the missed incoming calls."""
    from sipgate_tui import render

    if not 1 <= options.limit <= rtcm.MAX_HISTORY:
        raise InputError("invalid-value", f"--limit must be 1 to {rtcm.MAX_HISTORY}.")
    if options.missed:
        return _missed_history(options, ctx)
    with open_session(ctx, timeouts_from_option(options.timeout)) as session:
        entries, notes = _history_entries(session, ctx, options.limit)
        names = None if options.json else _names(ctx, session)
    if options.json:
        ctx.emit_json([entry.raw for entry in entries])
        for note in notes:  # stdout holds the document alone
            ctx.err.print(f"! {note}", markup=False, highlight=False)
    else:
        ctx.show(render.history_table(entries, names=names))
        if notes:
            ctx.show(render.notes(notes))
    return ExitCode.OK


class HistoryUnavailable(AppError):
    """``/history`` answered 403 or 404 (code ``history-unavailable``)."""


def _classic_history(session: Session, ctx: AppContext, limit: int) -> list[HistoryEntry]:
    """The calls ``/history`` lists (the classic way); AppError when it cannot be read."""
    try:
        return rtcm.list_history(session.client, limit)
    except ApiError as error:
        raise _history_problem(session, ctx, error) from None


def _history_problem(session: Session, ctx: AppContext, error: ApiError) -> AppError:
    """What a failed read of ``/history`` tells the user (403 and 404: unavailable here)."""
    if isinstance(error, HttpStatusError) and error.status in (403, 404):
        return HistoryUnavailable(
            "history-unavailable",
            f"The call history is not available here (HTTP {error.status}).",
            hint="The token needs the scope history:read; newer sipgate accounts "
            "('neo') keep their history elsewhere, and then the API has none. The "
            "sipgate web app shows it either way.",
            status=error.status,
            detail=error.detail,
        )
    return session.read_problem(error, ctx, what="read the history", scope="history:read")


def _history_entries(
    session: Session, ctx: AppContext, limit: int
) -> tuple[list[HistoryEntry], list[str]]:
    """The calls to show and notes on what was left out, by the effective account type.

    Classic: ``/history``, as always. Neo: the channels' events and ``/history`` (migrated
    accounts keep calls there for a while), merged. Unknown: ``/history``, and when it has no
    calls (or cannot be read) the channels' events too, if ``/channels`` answers.
    """
    store = ctx.make_settings()
    kind = session.account_kind(ctx).type
    user = UserId(session.client, cached_user_id(store, session.token_id))
    if kind == "neo":
        return _neo_history(session, ctx, user, limit)
    try:
        entries = _classic_history(session, ctx, limit)
    except HistoryUnavailable:
        if kind != "unknown":
            raise
        found = _events_if_readable(session, user, limit)
        if found is None:
            raise
        return found
    if entries or kind == "classic":
        return entries, []
    return _events_if_readable(session, user, limit) or (entries, [])


def _neo_history(
    session: Session, ctx: AppContext, user: UserId, limit: int
) -> tuple[list[HistoryEntry], list[str]]:
    """The channels' calls merged with what ``/history`` still lists (migrated accounts)."""
    try:
        events, notes = rtcm.list_neo_history(session.client, user.get(), limit)
    except ApiError as error:
        raise session.read_problem(
            error, ctx, what="read the calls of your channels", scope="channels:read"
        ) from None
    try:
        classic = rtcm.list_history(session.client, limit)
    except HttpStatusError as error:
        # New Neo accounts have no calls there, and Neo tokens often lack history:read.
        log.debug("no classic history on sipgate Neo: HTTP %s", error.status)
        if error.status not in (403, 404):
            notes.append(_MISSING_OLDER_CALLS.format(f"HTTP {error.status}"))
        classic = []
    except ApiError as error:
        notes.append(_MISSING_OLDER_CALLS.format(error.__class__.__name__))
        classic = []
    return rtcm.merge_history(events, classic, limit), notes


_MISSING_OLDER_CALLS = (
    "The classic call history could not be read ({}): calls from before the move to sipgate "
    "Neo may be missing."
)


def _events_if_readable(
    session: Session, user: UserId, limit: int
) -> tuple[list[HistoryEntry], list[str]] | None:
    """The channels' calls of an account of unknown type, or None when it has no channels
    to read (a classic account answers ``/channels`` with 404)."""
    try:
        return rtcm.list_neo_history(session.client, user.get(), limit)
    except ApiError as error:
        log.debug("no channel events either: %s", error)
        return None


# -- history --missed --------------------------------------------------------------------------


def _missed_history(options: HistoryOptions, ctx: AppContext) -> ExitCode:
    """The missed incoming calls, one line per caller, and whether each was called back (an
    outgoing call after it, in the history or among the recent numbers)."""
    import datetime

    from sipgate_tui import missed, render

    store = ctx.make_settings()
    region = _region(ctx)
    with open_session(ctx, timeouts_from_option(options.timeout)) as session:
        kind = session.account_kind(ctx).type
        user = UserId(session.client, cached_user_id(store, session.token_id))
        try:
            read = missed.missed_calls(
                session.client, kind=kind, user_id=user.get, limit=options.limit, region=region
            )
        except missed.MissedUnreadable as problem:
            if problem.source == "history":
                raise _history_problem(session, ctx, problem.error) from None
            raise session.read_problem(
                problem.error, ctx, what="read the calls of your channels", scope="channels:read"
            ) from None
        names = None if options.json else _names(ctx, session)
    callers = missed.summarise(read.calls, read.outgoing, _recent(ctx), region=region)
    if options.json:
        ctx.emit_json([caller.to_json() for caller in callers])
        for note in read.notes:  # stdout holds the document alone
            ctx.err.print(f"! {note}", markup=False, highlight=False)
    else:
        now = datetime.datetime.now(datetime.timezone.utc)
        ctx.show(render.missed_table(callers, now, names=names))
        if read.notes:
            ctx.show(render.notes(read.notes))
    return ExitCode.OK


def _names(ctx: AppContext, session: Session) -> Callable[[str | None], str | None]:
    """Names for the numbers a list shows, from the contacts cache (never a request: a list
    shows names only once `contacts` or the call's prompt has read them)."""
    from sipgate_tui import contacts_cache
    from sipgate_tui.contacts import NameBook

    cached = contacts_cache.load(ctx.env, ctx.options.profile, session.token_id, _region(ctx))
    return NameBook(cached.contacts if cached is not None else ()).name


def _region(ctx: AppContext) -> str:
    """The profile's region for national numbers; the default when config.toml cannot be
    read (a list of missed calls is no reason to fail over the settings)."""
    from sipgate_tui.options import DEFAULT_REGION

    try:
        return ctx.make_settings().load().region or DEFAULT_REGION
    except AppError:
        return DEFAULT_REGION


def _recent(ctx: AppContext) -> tuple[Recent, ...]:
    """The recent numbers (calls placed from here); none when the state file is damaged."""
    try:
        return ctx.make_settings().load_state().recent
    except AppError as error:
        log.debug("recent numbers not read: %s", error)
        return ()


# -- shared ----------------------------------------------------------------------------------


def _checked_call_id(typed: str) -> str:
    """A call id as typed, if it can be one: printable, no spaces, not a path step."""
    text = typed.strip()
    if not text or len(text) > 200 or text in (".", "..") or not text.isprintable() or " " in text:
        raise InputError(
            "invalid-call-id",
            f"'{text[:40]}' is not a call id.",
            hint="`sipgate-tui calls` lists the active calls and their ids.",
        )
    return text


def _active_calls(session: Session, ctx: AppContext) -> list[ActiveCall]:
    try:
        return rtcm.list_calls(session.client)
    except ApiError as error:
        if isinstance(error, HttpStatusError) and error.status == 404 and _on_neo(session, ctx):
            raise _not_on_neo_yet("lists no active calls", error) from None
        raise session.read_problem(
            error, ctx, what="list the active calls", scope="rtcm:read"
        ) from None


def _on_neo(session: Session, ctx: AppContext) -> bool:
    """Whether this account is known (forced or learnt) to be sipgate Neo."""
    return session.account_kind(ctx).neo


def _not_on_neo_yet(what: str, error: HttpStatusError) -> AppError:
    # sipgate's help article calls GET /calls "planned" for Neo, with RTCM to follow.
    return AppError(
        "not-found",
        f"sipgate {what} for sipgate Neo accounts yet (HTTP 404): its help article calls "
        "the list of active calls planned.",
        hint="The sipgate app shows and ends your calls meanwhile.",
        status=error.status,
        detail=error.detail,
    )


def _label(call: ActiveCall) -> str:
    numbers = ", ".join(pretty(number) for number in call.other_numbers()) or "?"
    return f"{call.call_id} · with {numbers}"


def _confirm(ctx: AppContext, question: str) -> bool:
    return ctx.make_prompter().confirm(question, default=False)


def _select(ctx: AppContext, question: str, options: list[Option]) -> object:
    return ctx.make_prompter().select(question, options, default=None)
