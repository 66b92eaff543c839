"""Around the POST of ``sipgate-tui call``: what runs beside it and what follows it.

- :class:`CallsBefore`: the calls that exist before the dial, so the live view can tell ours
  from the others (fetched while the summary is on screen, or alongside the POST).
- :class:`DeviceCheck`: with ``--yes`` (or without a terminal) nobody is asked about an offline
  phone, so whether it is online is looked up alongside the POST and becomes a note.
- :func:`follow_call`: after an accepted call, a live line until it connects and ends, which
  also dials the plan's tones once connected and sends the keys typed on its keypad; where no
  live view runs, a line says which tones to type on the phone instead.

Nothing here changes a call's outcome or exit code: the call was accepted (or is about to be),
and everything here is only ever a note, a hint or a live line.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from sipgate_tui.account import Device, list_devices
from sipgate_tui.api import ApiError, HttpStatusError, SipgateClient
from sipgate_tui.dial_string import PAUSE_SECONDS
from sipgate_tui.lookups import Background
from sipgate_tui.plan import CallPlan, ChosenDevice, offline_warning
from sipgate_tui.user_id import UserId

if TYPE_CHECKING:
    from sipgate_tui.context import AppContext
    from sipgate_tui.watch import WatchState

# rtcm and watch are imported where the live view needs them: a one-shot dial never follows
# the call, and their dataclasses cost it several ms (measured with -X importtime).

SNAPSHOT_HEAD_START = 1.0  # seconds the dial may wait for its look at the calls before it
OFFLINE_CHECK_GRACE = 0.3  # seconds the result may wait for a device check still running
SNAPSHOT_WAIT = 2.0  # seconds the live view waits for that look before giving up


class CallsBefore:
    """The ids of the calls that exist before the dial (``GET /calls``, needs rtcm:read)."""

    def __init__(self, client: SipgateClient) -> None:
        from sipgate_tui.rtcm import list_calls

        self._job = Background(lambda: {call.call_id for call in list_calls(client)}, "calls")

    def head_start(self) -> None:
        """Give the look a moment before the POST: one that lands after it could count the
        new call as an old one. Normally long done while the summary was read; with --yes
        it runs alongside the POST instead (a call shows only once someone picks up, seconds
        after any answer to this one GET)."""
        self._job.wait(SNAPSHOT_HEAD_START)

    def ready(self) -> bool:
        """Whether the live view will run: the look is in and succeeded."""
        if not self._job.wait(0):
            return False
        try:
            self._job.result()
        except Exception:  # noqa: BLE001 - any failure means no live view; follow_call says why
            return False
        return True

    def wait(self) -> set[str] | ApiError | None:
        """The call ids, the error that prevented the look, or None if it is still running."""
        if not self._job.wait(SNAPSHOT_WAIT):
            return None
        try:
            return self._job.result()
        except ApiError as error:
            return error


class PhoneNote(str):
    """A note about the phone that rings first which also says what the account showed:
    ``about`` is "offline" (listed, not connected when dialled) or "foreign" (not in the
    user's list; ``yours`` holds the ids that are). It travels with the plan's other notes,
    so the summary, the result, the live line and a refusal's advice all say the same
    without another look at the account (render reads ``about`` and ``device_id``)."""

    about: str
    device_id: str
    yours: tuple[str, ...]
    name: str | None  # the phone's name in the list (render names it by it)

    def __new__(
        cls,
        text: str,
        *,
        about: str,
        device_id: str,
        yours: tuple[str, ...] = (),
        name: str | None = None,
    ) -> PhoneNote:
        """The note ``text``, marked with what it is about."""
        note = super().__new__(cls, text)
        note.about, note.device_id, note.yours, note.name = about, device_id, yours, name
        return note


def phone_facts(device_id: str, devices: list[Device]) -> PhoneNote | None:
    """What the user's device list says about ``device_id``: not theirs, or offline."""
    known = next((d for d in devices if d.id == device_id), None)
    if known is None:
        yours = tuple(d.id for d in devices if d.can_call)
        return PhoneNote(
            f"{device_id} is not one of your phones (yours: {', '.join(yours) or 'none'}); "
            "sipgate will refuse the call, or ring somebody else's phone if you may use it.",
            about="foreign",
            device_id=device_id,
            yours=yours,
        )
    warning = offline_warning(ChosenDevice(device_id, known))
    if warning is None:
        return None
    return PhoneNote(warning, about="offline", device_id=device_id, name=known.alias)


def noted(plan: CallPlan, about: str) -> PhoneNote | None:
    """The plan's note about its phone being ``about`` ("offline", "foreign"), if any."""
    for note in plan.notes:
        if isinstance(note, PhoneNote) and note.about == about and note.device_id == plan.device_id:
            return note
    return None


def offline_when_dialled(plan: CallPlan, device: ChosenDevice | None) -> CallPlan:
    """The plan, marked when the phone picked from the list was offline at the dial (a
    picked phone's warning was a question, not a note)."""
    if noted(plan, "offline") or device is None or device.device is None:
        return plan
    warning = offline_warning(device)
    if warning is None:
        return plan
    note = PhoneNote(warning, about="offline", device_id=device.id, name=device.device.alias)
    return plan.with_notes(note)


class DeviceCheck:
    """Whether the phone that rings first is online (and the user's), looked up while the
    POST is on its way."""

    def __init__(
        self, client: SipgateClient, user: UserId, device_id: str, *, all_types: bool = False
    ) -> None:
        self._device_id = device_id

        def check() -> str | None:
            # Only ever a warning: whatever goes wrong here must not touch the call's outcome.
            try:
                devices = list_devices(client, user.get(), all_types=all_types)
            except ApiError:
                return None
            return phone_facts(device_id, devices)

        self._job = Background(check, "device-check")

    def warning(self) -> str | None:
        """The note to add to the result: offline or not the user's (a :class:`PhoneNote`),
        or not checked in time; else None."""
        if not self._job.wait(OFFLINE_CHECK_GRACE):
            return f"Whether {self._device_id} is online could not be checked in time."
        return self._job.result()

    def facts(self, wait: float) -> PhoneNote | None:
        """What the look found (offline, not the user's), waiting at most ``wait`` seconds:
        for the live line, which may still use an answer too late for the result panel."""
        if not self._job.wait(wait):
            return None
        found = self._job.result()
        return found if isinstance(found, PhoneNote) else None


def follow_call(
    ctx: AppContext,
    client: SipgateClient,
    plan: CallPlan,
    session_id: str,
    before: CallsBefore,
    *,
    device: ChosenDevice | None = None,
    check: DeviceCheck | None = None,
    pause_seconds: float = PAUSE_SECONDS,
) -> None:
    """After the dial: a live line until the call connects and ends, or why it did not
    (``device``: the phone as picked, ``check``: the look beside a ``--yes`` dial; a phone
    either shows was offline then names the wait). Once connected it dials ``plan.dial``
    (``pause_seconds`` per ","); tones it could not send are said once it ends, and where
    no live view runs, which tones to type on the phone.

    Needs rtcm:read (without it: one line on what it would show). Whatever happens here, the
    call was accepted: nothing in the watch changes the exit code.
    """
    from sipgate_tui import render
    from sipgate_tui.watch import NO_CALL_TIMEOUT

    plan = offline_when_dialled(plan, device)
    if check is not None and noted(plan, "offline") is None:
        late = check.facts(SNAPSHOT_WAIT)  # too late for the panel, in time for the line
        plan = plan.with_notes(late if late is not None and late.about == "offline" else None)
    known = before.wait()
    if isinstance(known, HttpStatusError) and known.status in (401, 403):
        ctx.show(render.rtcm_tip())
    elif isinstance(known, HttpStatusError):
        ctx.show(
            render.no_live_view_because(f"sipgate answered GET /calls with HTTP {known.status}")
        )
    elif known is None or isinstance(known, ApiError):
        ctx.show(render.no_live_view_because("sipgate did not list the active calls in time"))
    if not isinstance(known, set):
        show_tones_by_hand(ctx, plan, "sipgate-tui cannot see when the call connects")
        return
    state = _watch(ctx, client, plan, session_id, known, pause_seconds)
    if state is None:
        show_tones_by_hand(ctx, plan, "the live view, which sends them, could not start")
        return
    ctx.show(render.watch_result(state, ctx.clock(), plan, timeout=NO_CALL_TIMEOUT))
    _tones_left(ctx, state)


def show_tones_by_hand(ctx: AppContext, plan: CallPlan, why: str) -> None:
    """Where no live view sends the plan's tones: which to type on the phone, and ``why``
    (nothing when the plan has none)."""
    from sipgate_tui import render

    if plan.dial.digits:
        ctx.show(render.tones_by_hand(plan.dial, why))


def _tones_left(ctx: AppContext, state: WatchState) -> None:
    """After the live view: the tones it did not send, to type by hand (its line is gone)."""
    from sipgate_tui import render

    view = state.tones
    if view is None:
        return
    over = state.phase in ("ended", "hung-up")  # nothing is left to type into this call
    if over and (view.rest.digits or (view.problem and view.by_hand.digits)):
        ctx.show(render.tones_sent(view))
    elif view.problem and view.by_hand.digits:
        ctx.show(render.tones_stopped(view))
    elif view.rest.digits and state.phase in ("left", "lost"):
        why = "you stopped watching" if state.phase == "left" else "sipgate stopped answering"
        ctx.show(
            render.tones_by_hand(
                view.rest,
                f"{why} before they were all sent",
                connected=state.connected_at is not None,
            )
        )
    elif view.sent or view.keyed:
        ctx.show(render.tones_sent(view))


def _watch(
    ctx: AppContext,
    client: SipgateClient,
    plan: CallPlan,
    session_id: str,
    before: set[str],
    pause_seconds: float,
) -> WatchState | None:
    """The live view until it ends; None when the terminal would not let it start (said in
    one line: the call was accepted, and a view that cannot start must not look like a bug)."""
    from sipgate_tui import render, rtcm
    from sipgate_tui.tones import ToneDialer
    from sipgate_tui.watch import TONES_DEADLINE, CallWatch, WatchIO, follow

    can_hang_up = can_send_tones = True

    def hang_up(call_id: str) -> None:
        nonlocal can_hang_up
        try:
            rtcm.hang_up(client, call_id)
        except HttpStatusError as error:
            if error.status == 403:
                can_hang_up = False  # the live line stops offering "h"
            raise

    def send_tones(call_id: str, sequence: str) -> None:  # in the tones' own thread
        nonlocal can_send_tones
        try:
            rtcm.send_tones(client, call_id, sequence, deadline=TONES_DEADLINE)
        except HttpStatusError as error:
            if error.status in (401, 403):
                can_send_tones = False  # the live line stops offering the keypad
            raise

    watch = CallWatch(
        session_id=session_id, callee=plan.callee.e164, before=before, started=ctx.clock()
    )
    with contextlib.ExitStack() as stack:
        try:
            pressed = stack.enter_context(ctx.keys())
            live = stack.enter_context(ctx.live())
        except Exception as error:  # noqa: BLE001 - termios, OSError, ...: only starting it
            ctx.show(render.no_live_view_because(_why_no_terminal(error)))
            return None
        return follow(
            watch,
            WatchIO(
                fetch=lambda: rtcm.list_calls(client),
                hang_up=hang_up,
                show=lambda state, now: live(
                    render.live_status(
                        state,
                        now,
                        plan,
                        can_hang_up=can_hang_up,
                        started=watch.started,
                        can_send_tones=can_send_tones,
                    )
                ),
                pressed=pressed,
                clock=ctx.clock,
                sleep=ctx.sleep,
                send_tones=send_tones,
            ),
            tones=ToneDialer(plan.dial, pause_seconds=pause_seconds),
        )


def _why_no_terminal(error: Exception) -> str:
    """Why the live view could not start, in words (the call itself was accepted)."""
    reason = str(error).strip().splitlines()[0][:80] if str(error).strip() else ""
    return (
        "the terminal would not switch to reading single keys"
        + (f" ({type(error).__name__}: {reason})" if reason else f" ({type(error).__name__})")
        + "; `sipgate-tui calls` shows the call once it connects"
    )
