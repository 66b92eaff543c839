"""Following a dialled call: ringing, connected, ended, or nothing at all.

sipgate answers a dial with a session id only; whether the phone rang and the call connected
shows only in ``GET /calls`` (established calls). This polls it gently and works out which call
is ours: the one whose id is the session id, else a new call (not there before the dial) with
the callee among its participants. The loop takes its clock, its sleep and its keys from the
caller, so tests run it in simulated time and without a keyboard.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from sipgate_tui.api import ApiError, HttpStatusError
from sipgate_tui.rtcm import ActiveCall

POLL_INTERVAL = 1.0  # seconds between two GET /calls
NO_CALL_TIMEOUT = 45.0  # seconds without a connected call before the troubleshooting panel
TICK = 0.1  # seconds between two looks at the keyboard
NOTE_SECONDS = 5.0  # how long a note after a key (h while ringing) stays readable


@dataclass(frozen=True)
class WatchState:
    """Where the call is. ``phase``: ringing, connected, ended, timeout, hung-up, left, lost."""

    phase: str
    call: ActiveCall | None = None
    connected_at: float | None = None
    note: str | None = None


def find_call(
    calls: Iterable[ActiveCall], *, session_id: str, callee: str, before: set[str]
) -> ActiveCall | None:
    """Our call among the established ones: by session id, else new and with the callee."""
    calls = list(calls)
    for call in calls:
        if call.call_id == session_id:
            return call
    for call in calls:
        if call.call_id not in before and callee in call.other_numbers():
            return call
    return None


class CallWatch:
    """The state machine: feed it each ``GET /calls`` answer with the time it arrived."""

    def __init__(
        self,
        *,
        session_id: str,
        callee: str,
        before: set[str],
        started: float,
        timeout: float = NO_CALL_TIMEOUT,
    ) -> None:
        self.session_id, self.callee, self.before = session_id, callee, before
        self.started, self.timeout = started, timeout
        self.state = WatchState("ringing")

    def update(self, calls: Iterable[ActiveCall], now: float) -> WatchState:
        """The new state after an answer of ``GET /calls`` at time ``now``."""
        call = find_call(calls, session_id=self.session_id, callee=self.callee, before=self.before)
        phase = self.state.phase
        if phase == "ringing" and call is not None:
            self.state = WatchState("connected", call, connected_at=now)
        elif phase == "connected" and call is None:
            self.state = WatchState("ended", self.state.call, self.state.connected_at)
        elif phase == "connected":
            self.state = WatchState("connected", call, self.state.connected_at)
        elif phase == "ringing" and now - self.started >= self.timeout:
            self.state = WatchState("timeout")
        return self.state


@dataclass
class WatchIO:
    """What the loop needs from the outside world."""

    fetch: Callable[[], list[ActiveCall]]  # GET /calls
    hang_up: Callable[[str], None]  # DELETE /calls/{id}
    show: Callable[[WatchState, float], None]  # draw the live line
    pressed: Callable[[], list[str]]  # keys pressed since the last look
    clock: Callable[[], float]
    sleep: Callable[[float], None]


def follow(watch: CallWatch, io: WatchIO, *, poll_interval: float = POLL_INTERVAL) -> WatchState:
    """Poll until the call ends, the timeout passes, or the user hangs up (h) or leaves (q).

    Never raises for the call's sake: trouble while watching ends the watch with ``lost``
    (the call itself was accepted and goes on).
    """
    next_poll = io.clock()
    state = watch.state
    note, note_until = None, 0.0  # a note after a key stays on screen NOTE_SECONDS
    while True:
        now = io.clock()
        if now >= next_poll:
            try:
                state = watch.update(io.fetch(), now)
            except ApiError:
                return WatchState(
                    "lost", state.call, state.connected_at, "sipgate stopped answering"
                )
            next_poll = now + poll_interval
            if state.phase in ("ended", "timeout"):
                return state
        for key in io.pressed():
            if key in ("q", "c-c", "escape"):
                return WatchState("left", state.call, state.connected_at)
            if key != "h":
                continue
            if state.call is None:
                note = "Nothing to hang up yet: the call shows once the phone is picked up."
                note_until = now + NOTE_SECONDS
                continue
            try:
                io.hang_up(state.call.call_id)
            except ApiError as error:
                note, note_until = _hang_up_failed(error), now + NOTE_SECONDS
                continue
            return WatchState("hung-up", state.call, state.connected_at)
        # Each poll's state is new (without the note): the note is put back until its time
        # is up, so it is not wiped by the next GET /calls a fraction of a second later.
        state = replace(state, note=note if now < note_until else None)
        io.show(state, now)
        io.sleep(TICK)


def _hang_up_failed(error: Exception) -> str:
    if isinstance(error, HttpStatusError) and error.status == 403:
        return "Hanging up needs a token with rtcm:write."
    if isinstance(error, HttpStatusError) and error.status == 404:
        return "sipgate no longer knows this call; it may just have ended."
    return f"Could not hang up ({error})."


@contextlib.contextmanager
def terminal_keys() -> Iterator[Callable[[], list[str]]]:
    """Single key presses from the terminal while a live view runs (raw mode, no echo)."""
    from prompt_toolkit.input import create_input

    source = create_input()
    with source.raw_mode():
        yield lambda: [
            str(getattr(press.key, "value", press.key)).lower() for press in source.read_keys()
        ]
