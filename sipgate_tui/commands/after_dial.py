"""Around the POST of ``sipgate-tui call``: what runs beside it and what follows it.

- :class:`CallsBefore`: the calls that exist before the dial, so the live view can tell ours
  from the others (fetched while the summary is on screen, or alongside the POST).
- :class:`DeviceCheck`: with ``--yes`` (or without a terminal) nobody is asked about an offline
  phone, so whether it is online is looked up alongside the POST and becomes a note.
- :func:`follow_call`: after an accepted call, a live line until it connects and ends.

Nothing here changes a call's outcome or exit code: the call was accepted (or is about to be),
and everything here is only ever a note, a hint or a live line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sipgate_tui.account import list_devices
from sipgate_tui.api import ApiError, HttpStatusError, SipgateClient
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


class DeviceCheck:
    """Whether the phone that rings first is online, looked up while the POST is on its way."""

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
            known = next((d for d in devices if d.id == device_id), None)
            return offline_warning(ChosenDevice(device_id, known)) if known else None

        self._job = Background(check, "device-check")

    def warning(self) -> str | None:
        """The note to add to the result: offline, or not checked in time; else None."""
        if not self._job.wait(OFFLINE_CHECK_GRACE):
            return f"Whether {self._device_id} is online could not be checked in time."
        return self._job.result()


def follow_call(
    ctx: AppContext, client: SipgateClient, plan: CallPlan, session_id: str, before: CallsBefore
) -> None:
    """After the dial: a live line until the call connects and ends, or why it did not.

    Needs rtcm:read (without it: one line on what it would show). Whatever happens here, the
    call was accepted: nothing in the watch changes the exit code.
    """
    from sipgate_tui import render
    from sipgate_tui.watch import NO_CALL_TIMEOUT

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
        return
    state = _watch(ctx, client, plan, session_id, known)
    ctx.show(render.watch_result(state, ctx.clock(), plan, timeout=NO_CALL_TIMEOUT))


def _watch(
    ctx: AppContext, client: SipgateClient, plan: CallPlan, session_id: str, before: set[str]
) -> WatchState:
    from sipgate_tui import render, rtcm
    from sipgate_tui.watch import CallWatch, WatchIO, follow

    can_hang_up = True

    def hang_up(call_id: str) -> None:
        nonlocal can_hang_up
        try:
            rtcm.hang_up(client, call_id)
        except HttpStatusError as error:
            if error.status == 403:
                can_hang_up = False  # the live line stops offering "h"
            raise

    watch = CallWatch(
        session_id=session_id, callee=plan.callee.e164, before=before, started=ctx.clock()
    )
    with ctx.keys() as pressed, ctx.live() as live:
        return follow(
            watch,
            WatchIO(
                fetch=lambda: rtcm.list_calls(client),
                hang_up=hang_up,
                show=lambda state, now: live(
                    render.live_status(
                        state, now, plan, can_hang_up=can_hang_up, started=watch.started
                    )
                ),
                pressed=pressed,
                clock=ctx.clock,
                sleep=ctx.sleep,
            ),
        )
