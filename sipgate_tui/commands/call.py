"""``sipgate-tui call``: ask what is missing, show the call, confirm, place it, show the outcome."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypeVar

from sipgate_tui.api import ApiError, SipgateClient, Timeouts, plain_headers
from sipgate_tui.commands.common import timeouts_from_option
from sipgate_tui.credentials import (
    Credentials,
    FoundCredentials,
    from_environment,
    profile_command,
)
from sipgate_tui.errors import AppError, Cancelled, ExitCode, InputError
from sipgate_tui.numbers import (
    PhoneNumber,
    looks_like_device_id,
    parse_device_id,
    parse_phone_number,
    parse_region,
    resolve_callee,
)
from sipgate_tui.options import DEFAULT_REGION
from sipgate_tui.plan import CallPlan, ChosenDevice, offline_warning
from sipgate_tui.settings import ProfileSettings, ProfileState, SettingsStore

if TYPE_CHECKING:
    from sipgate_tui.context import AppContext
    from sipgate_tui.lookups import AccountLookups, Background
    from sipgate_tui.prompts import Prompter

# Imported where they are needed, so a one-shot dial does not pay for the questions, the
# account lookups or the error tables (measured with benchmarks/run.py): render (Rich),
# call_questions, lookups, problems.


@dataclass(frozen=True)
class CallOptions:
    """What the user gave on the command line; None means 'not given'."""

    callee: str | None = None
    device: str | None = None
    caller: str | None = None
    caller_id: str | None = None
    region: str | None = None
    yes: bool = False
    dry_run: bool = False
    json: bool = False
    timeout: float | None = None
    history: bool = True
    wait: bool = True  # follow the call live after the dial (terminal only; --no-wait: off)


T = TypeVar("T")
OFFLINE_CHECK_GRACE = 0.3  # seconds the result may wait for a device check still running
SNAPSHOT_HEAD_START = 1.0  # seconds the dial may wait for its look at the calls before it


def run(options: CallOptions, ctx: AppContext) -> ExitCode:
    """Place one call (or show it, with ``--dry-run``). Raises AppError on any failure.

    Values come from the options, else from the profile's config, else from questions.
    """
    store = ctx.make_settings()
    settings = store.load()
    # The built-in DE needs no check (and no phonenumbers import before the first question).
    region = parse_region(options.region) if options.region else settings.region or DEFAULT_REGION
    timeouts = timeouts_from_option(options.timeout)
    interactive = ctx.can_prompt(json_mode=options.json)
    notes: list[str] = []
    state, remember = _load_state(store, options.history and settings.history, notes)
    if not remember:  # history off: what was remembered is not offered either
        state = replace(state, recent=(), last_device=None)

    device = parse_device_id(options.device) if options.device is not None else None
    if device is None and not interactive and settings.default_device:
        device = settings.default_device
        notes.append(f"The phone is {device}, the default-device in {store.config_path}.")
    ring_number = _parse_ring_number(options.caller, region)
    callee, callee_name = (
        resolve_callee(options.callee, region, settings.favourites)
        if options.callee
        else (None, None)
    )
    caller_id = _parse_caller_id(options.caller_id, region)
    ask_caller_id_too = interactive and (device is None or callee is None)
    if options.caller_id is None and not ask_caller_id_too and settings.default_caller_id:
        caller_id = parse_phone_number(settings.default_caller_id, region, what="caller ID")

    if not interactive:
        reason = ctx.why_no_prompts(json_mode=options.json)
        _require_values(
            callee=callee, device=device, with_caller=ring_number is not None, reason=reason
        )
        if not (options.yes or options.dry_run):
            raise InputError(
                "confirmation-required",
                f"Not placing a call without confirmation: {reason}.",
                hint="A call costs money, so scripts must say so: add --yes (or -y). "
                "Use --dry-run to see the request without sending it.",
            )

    # Credentials before any question, so nobody answers three prompts only to learn that
    # nothing can be sent. A dry run needs none (it may show the environment's token id).
    found = None if options.dry_run else ctx.find_credentials()
    client = ctx.make_client(found.credentials, timeouts) if found else None
    try:
        # With questions to ask, the account's lists load while the user reads the first one.
        # With --yes (or no terminal) the device check runs alongside the POST instead.
        will_ask = interactive and (device is None or callee is None or not options.yes)
        lookups = None
        if client is not None and found is not None and will_ask:
            lookups = _start_lookups(client, store, state, found)

        chosen: ChosenDevice | None = None
        if will_ask:
            prompter = ctx.make_prompter()
            asked = {
                "device": device,
                "callee": callee,
                "callee_name": callee_name,
                "caller_id": caller_id,
            }
            chosen, callee, callee_name, caller_id = _ask(
                lambda: _ask_missing(
                    ctx,
                    prompter,
                    lookups,
                    options,
                    settings,
                    state,
                    region,
                    **asked,
                    through_number=ring_number is not None,
                    ask_caller_id=ask_caller_id_too,
                )
            )
            device = chosen.id
        assert device is not None and callee is not None  # guaranteed by the checks above

        plan = CallPlan(
            device_id=device,
            callee=callee,
            ring_number=ring_number,
            caller_id=caller_id,
            callee_name=callee_name,
            device_name=chosen.device.alias if chosen and chosen.device else None,
            notes=tuple(notes)
            + tuple(
                note
                for number in (ring_number, callee, caller_id)
                if number
                for note in number.notes
            ),
        )

        if options.dry_run:
            _show_dry_run(plan, ctx, options.json)
            return ExitCode.OK

        # Following the call needs the calls that exist before the dial; fetched while the
        # summary is on screen (or alongside the POST), it adds no wait.
        snapshot = None
        if client is not None and options.wait and not options.json and ctx.terminal:
            snapshot = _calls_before(client)

        summary_shown = False
        if not options.yes:
            if chosen is not None and chosen.device is None and lookups is not None:
                # The list may have arrived while the other questions were answered.
                chosen, plan = _late_device_check(ctx, lookups, chosen, plan)
            from sipgate_tui import render

            ctx.show(render.call_summary(plan))
            summary_shown = True
            # No is the default, and keys typed ahead are discarded: an Enter too many must
            # not place a call nobody has looked at.
            if not _ask(lambda: ctx.make_prompter().confirm("Place this call?", default=False)):
                raise Cancelled(NO_CALL)

        assert found is not None and client is not None
        # Scripts get the offline check too, but alongside the POST: it never delays it.
        check = None
        if not will_ask and ring_number is None:
            check = _background_offline_check(
                client, store, state, found.credentials.token_id, device
            )
        if snapshot is not None and summary_shown:
            # Normally long done while the summary was read. A snapshot that lands after the
            # POST could count the new call as an old one, so it gets a short head start.
            # With --yes it runs alongside the POST instead, never delaying it: a call shows
            # only once someone picks up, seconds after any answer to that one GET.
            snapshot.wait(SNAPSHOT_HEAD_START)
        session_id = _place(ctx, client, plan, found.source, timeouts)
        if check is not None:
            if not check.wait(OFFLINE_CHECK_GRACE):
                warning = f"Whether {device} is online could not be checked in time."
            else:
                warning = check.result()
            if warning:
                plan = replace(plan, notes=(*plan.notes, warning))

        if remember:
            try:
                store.remember_call(plan.callee.e164, device, plan.callee.pretty)
            except AppError as error:
                plan = replace(plan, notes=(*plan.notes, f"Not remembered: {error.message}"))

        if options.json:
            ctx.emit_json(
                {
                    "ok": True,
                    "sessionId": session_id,
                    "request": plan.request.body(),
                    "warnings": list(plan.notes),
                }
            )
        else:
            from sipgate_tui import render

            ctx.show(
                render.call_accepted(
                    plan,
                    session_id,
                    show_notes=not summary_shown,
                    show_hints=not _will_follow(snapshot),
                )
            )
            if snapshot is not None:
                _follow_call(ctx, client, plan, session_id, snapshot)
    finally:
        if client is not None:
            client.close()
    return ExitCode.OK


NO_CALL = "Cancelled. No call was placed."


def _ask(question: Callable[[], T]) -> T:
    """Ask, saying on Ctrl-C that no call was placed (the generic message cannot know)."""
    try:
        return question()
    except Cancelled:
        raise Cancelled(NO_CALL) from None


def _late_device_check(
    ctx: AppContext, lookups: AccountLookups, chosen: ChosenDevice, plan: CallPlan
) -> tuple[ChosenDevice, CallPlan]:
    from sipgate_tui.commands.call_questions import check_device

    checked, unknown, _ = check_device(ctx, lookups, chosen.id, wait=0)
    warning = unknown or offline_warning(checked)
    if warning is None:
        return checked, plan
    return checked, replace(plan, notes=(*plan.notes, warning))


def _ask_missing(
    ctx: AppContext,
    prompter: Prompter,
    lookups: AccountLookups | None,
    options: CallOptions,
    settings: ProfileSettings,
    state: ProfileState,
    region: str,
    *,
    device: str | None,
    callee: PhoneNumber | None,
    callee_name: str | None,
    caller_id: PhoneNumber | None,
    through_number: bool,
    ask_caller_id: bool,
) -> tuple[ChosenDevice, PhoneNumber, str | None, PhoneNumber | None]:
    """Ask for what the command line left open; warn before an offline or unknown phone."""
    from sipgate_tui.commands import call_questions as questions

    # Whom to call comes first: it needs nothing from the account, so it appears at once, and
    # the account's lists load (starting when it is on screen) while it is answered.
    if callee is None:
        callee, callee_name = questions.ask_callee(
            prompter,
            region,
            favourites=settings.favourites,
            recent=state.recent,
            on_shown=lookups.start if lookups is not None else None,
        )
    preferred = settings.default_device or state.last_device
    chosen: ChosenDevice | None = None
    if device is not None:
        chosen, warning, listed = questions.check_device(ctx, lookups, device)
        warning = warning or offline_warning(chosen)
        if warning and not questions.confirm_offline(
            ctx, prompter, warning, can_pick_another=listed
        ):
            chosen = None  # pick another one
    while chosen is None:
        chosen = questions.ask_device(
            ctx, prompter, lookups, preferred=preferred, through_number=through_number
        )
        warning = offline_warning(chosen)
        if chosen.device is None and lookups is not None:
            # Typed rather than picked: the list may know it after all (or not at all).
            chosen, unknown, _ = questions.check_device(ctx, lookups, chosen.id, wait=0.5)
            warning = unknown or offline_warning(chosen)
        if warning and not questions.confirm_offline(ctx, prompter, warning, can_pick_another=True):
            chosen, preferred = None, None
    if ask_caller_id and options.caller_id is None:
        caller_id = questions.ask_caller_id(
            ctx, prompter, lookups, region, preferred=settings.default_caller_id
        )
    return chosen, callee, callee_name, caller_id


def _load_state(store: SettingsStore, wanted: bool, notes: list[str]) -> tuple[ProfileState, bool]:
    """The remembered state; a damaged file is reported once and then left alone."""
    try:
        return store.load_state(), wanted
    except AppError as error:
        notes.append(error.message)
        return ProfileState(), False


def _start_lookups(
    client: SipgateClient, store: SettingsStore, state: ProfileState, found: FoundCredentials
) -> AccountLookups:
    from sipgate_tui.lookups import AccountLookups

    token_id = found.credentials.token_id
    cached = state.user_id if state.user_token_id == token_id else None

    def remember(user_id: str) -> None:
        with contextlib.suppress(AppError):
            store.remember_user(token_id, user_id)

    return AccountLookups(
        client,
        cached_user_id=cached,
        remember_user_id=remember,
        from_environment=found.source == "env",
    )


def _background_offline_check(
    client: SipgateClient, store: SettingsStore, state: ProfileState, token_id: str, device: str
) -> Background[str | None]:
    """Look up the device while the POST is on its way; a warning if it is offline."""
    from sipgate_tui.account import list_devices
    from sipgate_tui.lookups import Background

    cached = state.user_id if state.user_token_id == token_id else None

    def check() -> str | None:
        # Only ever a warning: whatever goes wrong here must not touch the call's outcome.
        try:
            user_id = cached or client.userinfo().user_id
            known = next((d for d in list_devices(client, user_id) if d.id == device), None)
        except ApiError:
            return None
        return offline_warning(ChosenDevice(device, known)) if known else None

    return Background(check, "offline-check")


def _calls_before(client: SipgateClient) -> Background[set[str]]:
    from sipgate_tui.lookups import Background
    from sipgate_tui.rtcm import list_calls

    return Background(lambda: {call.call_id for call in list_calls(client)}, "calls-before")


def _will_follow(snapshot: Background[set[str]] | None) -> bool:
    """Whether the live view will run: the look before the dial is in and succeeded."""
    if snapshot is None or not snapshot.wait(0):
        return False
    try:
        snapshot.result()
    except Exception:  # noqa: BLE001 - any failure means no live view; _follow_call says why
        return False
    return True


def _follow_call(
    ctx: AppContext,
    client: SipgateClient,
    plan: CallPlan,
    session_id: str,
    snapshot: Background[set[str]],
) -> None:
    """After the dial: a live line until the call connects and ends, or why it did not.

    Needs rtcm:read (without it: one line on what it would show). Whatever happens here, the
    call was accepted: nothing in the watch changes the exit code.
    """
    from sipgate_tui import render, rtcm
    from sipgate_tui.api import HttpStatusError
    from sipgate_tui.watch import CallWatch, WatchIO, follow

    if not snapshot.wait(2.0):
        return
    try:
        before = snapshot.result()
    except HttpStatusError as error:
        if error.status in (401, 403):
            ctx.show(render.rtcm_tip())
        return
    except ApiError:
        return
    hang_up_allowed = {"yes": True}

    def hang_up(call_id: str) -> None:
        try:
            rtcm.hang_up(client, call_id)
        except HttpStatusError as error:
            if error.status == 403:
                hang_up_allowed["yes"] = False
            raise

    watch = CallWatch(
        session_id=session_id, callee=plan.callee.e164, before=before, started=ctx.clock()
    )
    with ctx.keys() as pressed, ctx.live() as live:
        state = follow(
            watch,
            WatchIO(
                fetch=lambda: rtcm.list_calls(client),
                hang_up=hang_up,
                show=lambda state, now: live(
                    render.live_status(
                        state,
                        now,
                        plan,
                        can_hang_up=hang_up_allowed["yes"],
                        started=watch.started,
                    )
                ),
                pressed=pressed,
                clock=ctx.clock,
                sleep=ctx.sleep,
            ),
        )
    ctx.show(render.watch_result(state, ctx.clock(), plan))


def _place(
    ctx: AppContext, client: SipgateClient, plan: CallPlan, source: str, timeouts: Timeouts
) -> str:
    """Send the call request once; every failure becomes the user-facing problem."""
    try:
        with ctx.waiting(f"Placing the call: ringing {plan.device_id} first…"):
            return client.place_call(plan.request)
    except KeyboardInterrupt:
        from sipgate_tui.problems import UNKNOWN_OUTCOME_HINT

        # The request may already be on its way: "cancelled" would invite a second call.
        raise AppError(
            "interrupted",
            "Interrupted while the call request was on its way: the call may have been placed.",
            exit_code=ExitCode.OUTCOME_UNKNOWN,
            hint=UNKNOWN_OUTCOME_HINT,
        ) from None
    except ApiError as error:
        from sipgate_tui.problems import call_problem

        raise call_problem(
            error,
            device=plan.device_id,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            credentials_source=source,
            login_command=profile_command(ctx.options.profile, "login"),
        ) from None


# -- values from options -------------------------------------------------------------------


def _parse_ring_number(text: str | None, region: str) -> PhoneNumber | None:
    if text is None:
        return None
    if looks_like_device_id(text):
        raise InputError(
            "invalid-caller",
            f"--caller takes a phone number, but '{text.strip()[:20]}' is a device id.",
            hint="Give a device id with --device (it then rings first); use --caller only for "
            "a number that should ring instead, such as a group's number.",
        )
    return parse_phone_number(text, region, what="--caller number")


def _parse_caller_id(text: str | None, region: str) -> PhoneNumber | None:
    if text is None or not text.strip():
        return None
    return parse_phone_number(text, region, what="caller ID")


def _require_values(
    *, callee: PhoneNumber | None, device: str | None, with_caller: bool, reason: str
) -> None:
    missing = []
    if callee is None:
        missing.append("whom to call (the CALLEE argument)")
    if device is None:
        missing.append("--device" + (" (required with --caller)" if with_caller else ""))
    if missing:
        raise InputError(
            "missing-value",
            "Missing " + " and ".join(missing) + f": {reason}.",
            hint="Pass every value as an option, e.g. "
            "sipgate-tui call +4915799912345 --device e0 --yes",
        )


# -- dry run ---------------------------------------------------------------------------------


def _show_dry_run(plan: CallPlan, ctx: AppContext, json_mode: bool) -> None:
    url = f"{ctx.options.api_url}/sessions/calls"
    headers = plain_headers(has_body=True)
    headers["Authorization"] = _masked_authorization(ctx)
    body = plan.request.body()
    if json_mode:
        ctx.emit_json(
            {
                "ok": True,
                "dryRun": True,
                "request": body,
                "http": {"method": "POST", "url": url, "headers": headers},
                "warnings": list(plan.notes),
            }
        )
    else:
        from sipgate_tui import render

        if plan.notes:
            ctx.show(render.notes(plan.notes))
        ctx.show(render.dry_run("POST", url, headers, body))


def _masked_authorization(ctx: AppContext) -> str:
    """What the Authorization header would carry, with the token masked.

    Only the environment is consulted: a dry run must not unlock or read the keyring.
    """
    try:
        credentials: Credentials | None = from_environment(ctx.env)
    except AppError:
        credentials = None
    if credentials is None:
        return "Basic base64(<token id>:<token>) (from the keyring, which a dry run does not read)"
    return f"Basic base64({credentials.token_id}:{credentials.masked_token()})"
