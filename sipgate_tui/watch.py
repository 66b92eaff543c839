"""Following a dialled call: ringing, connected, ended, or nothing at all; and its tones.

sipgate answers a dial with a session id only; whether the phone rang and the call connected
shows only in ``GET /calls`` (established calls). This polls it gently and works out which call
is ours: the one whose id is the session id, else the ONLY new call (not there before the dial)
with the callee among its participants. Two such calls make it ambiguous: then no tone is sent
and nothing is hung up (either may be a colleague's call to the same number). Once found, the
call is followed by its id.

Once connected, the dial string's tones go out as :class:`~sipgate_tui.tones.ToneDialer` says,
and digits, ``*`` and ``#`` typed in the live view go out at once (the keypad). The loop takes
its clock, its sleep and its keys from the caller, so tests run it in simulated time and
without a keyboard.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from sipgate_tui.api import ApiError, HttpStatusError, NetworkError, OutcomeUnknownError
from sipgate_tui.dial_string import TONES, DialString
from sipgate_tui.rtcm import ActiveCall
from sipgate_tui.tones import ToneDialer, ToneView

POLL_INTERVAL = 1.0  # seconds between two GET /calls
NO_CALL_TIMEOUT = 45.0  # seconds without a connected call before the troubleshooting panel
TICK = 0.1  # seconds between two looks at the keyboard
NOTE_SECONDS = 5.0  # how long a note after a key (h while ringing) stays readable
LEAVE_KEYS = frozenset({"q", "c-c", "escape"})
# prompt_toolkit names Enter "c-m" (a carriage return); some terminals send a line feed, "c-j".
ENTER_KEYS = frozenset({"c-m", "enter", "c-j"})
NEEDS_RTCM_WRITE = "sending them needs a token with rtcm:write"


@dataclass(frozen=True)
class WatchState:
    """Where the call is. ``phase``: ringing, connected, ended, timeout, hung-up, left, lost.

    ``ambiguous``: two new calls to the callee appeared, so which one is ours is unknown;
    ``tones``: the dial string's and the keypad's tones (None when there are none).
    """

    phase: str
    call: ActiveCall | None = None
    connected_at: float | None = None
    note: str | None = None
    ambiguous: bool = False
    tones: ToneView | None = None


@dataclass(frozen=True)
class CallMatch:
    """Which established call is ours: ``call`` (None: none yet); ``ambiguous`` when more
    than one new call has the callee (``call`` is then the first of them)."""

    call: ActiveCall | None
    ambiguous: bool = False


def match_call(
    calls: Iterable[ActiveCall], *, session_id: str, callee: str, before: set[str]
) -> CallMatch:
    """Our call among the established ones: by session id, else the only new one with the
    callee (two or more: ambiguous)."""
    calls = list(calls)
    for call in calls:
        if call.call_id == session_id:
            return CallMatch(call)
    new = [c for c in calls if c.call_id not in before and callee in c.other_numbers()]
    return CallMatch(new[0] if new else None, ambiguous=len(new) > 1)


def find_call(
    calls: Iterable[ActiveCall], *, session_id: str, callee: str, before: set[str]
) -> ActiveCall | None:
    """Our call among the established ones: by session id, else new and with the callee
    (the first, when several are: :func:`match_call` says whether it is sure)."""
    return match_call(calls, session_id=session_id, callee=callee, before=before).call


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
        # Once unsure, always unsure: a second call that ends leaves no proof the other is ours.
        self.ambiguous = False

    def update(self, calls: Iterable[ActiveCall], now: float) -> WatchState:
        """The new state after an answer of ``GET /calls`` at time ``now``."""
        phase, known = self.state.phase, self.state.call
        if known is not None:  # found once: followed by its id, not matched again
            call = next((c for c in calls if c.call_id == known.call_id), None)
        else:
            match = match_call(
                calls, session_id=self.session_id, callee=self.callee, before=self.before
            )
            call, self.ambiguous = match.call, self.ambiguous or match.ambiguous
        sure = self.ambiguous
        if phase == "ringing" and call is not None:
            self.state = WatchState("connected", call, connected_at=now, ambiguous=sure)
        elif phase == "connected" and call is None:
            self.state = WatchState(
                "ended", self.state.call, self.state.connected_at, ambiguous=sure
            )
        elif phase == "connected":
            self.state = WatchState("connected", call, self.state.connected_at, ambiguous=sure)
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
    # POST /calls/{id}/dtmf with the call id and the tones; None: tones cannot be sent here.
    send_tones: Callable[[str, str], None] | None = None


def follow(
    watch: CallWatch,
    io: WatchIO,
    *,
    poll_interval: float = POLL_INTERVAL,
    tones: ToneDialer | None = None,
) -> WatchState:
    """Poll until the call ends, the timeout passes, or the user hangs up (h) or leaves (q);
    once connected, send the ``tones`` as they fall due and the keypad's at once.

    Never raises for the call's sake: trouble while watching ends the watch with ``lost``
    (the call itself was accepted and goes on). The state returned carries the tones' view,
    so the caller can say what is left to type by hand.
    """
    return _Follower(watch, io, tones or ToneDialer(DialString()), poll_interval).run()


class _Follower:
    """One run of :func:`follow`: the loop and the state it keeps between looks."""

    def __init__(
        self, watch: CallWatch, io: WatchIO, tones: ToneDialer, poll_interval: float
    ) -> None:
        self.watch, self.io, self.tones, self.poll_interval = watch, io, tones, poll_interval
        self.state = watch.state
        self.next_poll = io.clock()
        self.note: str | None = None  # a note after a key stays NOTE_SECONDS
        self.note_until = 0.0
        self.refused: str | None = None  # set by a 403: no tone can be sent at all

    def run(self) -> WatchState:
        while True:
            now = self.io.clock()
            if now >= self.next_poll:
                ended = self._poll(now)
                if ended is not None:
                    return ended
            ended = self._keys(now)
            if ended is not None:
                return ended
            self._dial(now)
            # Each poll's state is new (without the note): the note is put back until its
            # time is up, so it is not wiped by the next GET /calls a moment later.
            shown = replace(self.state, note=self.note if now < self.note_until else None)
            self.io.show(self._with_tones(shown, now), now)
            self.io.sleep(TICK)

    def _poll(self, now: float) -> WatchState | None:
        """One GET /calls; the final state when the watch ends with it."""
        try:
            self.state = self.watch.update(self.io.fetch(), now)
        except ApiError:
            state = self.state
            lost = WatchState(
                "lost",
                state.call,
                state.connected_at,
                "sipgate stopped answering",
                state.ambiguous,
            )
            return self._with_tones(lost, now)
        self.next_poll = now + self.poll_interval
        if self.state.phase == "connected":
            self.tones.start(self.state.connected_at or now)
            if self.state.ambiguous:
                self.tones.stop(_ambiguous(self.watch.callee))
            elif self.io.send_tones is None:
                self.tones.stop("tones cannot be sent from here")
        if self.state.phase in ("ended", "timeout"):
            return self._with_tones(self.state, now)
        return None

    def _keys(self, now: float) -> WatchState | None:
        """The keys pressed since the last look; the final state when one ends the watch.
        Tones typed in a row go out in one request, before the key that follows them."""
        typed = ""
        for key in self.io.pressed():
            if key in TONES:
                typed += key
                continue
            self._keypad(typed, now)
            typed = ""
            if key in LEAVE_KEYS:
                state = self.state
                left = WatchState("left", state.call, state.connected_at, None, state.ambiguous)
                return self._with_tones(left, now)
            if key in ENTER_KEYS:
                self.tones.enter(now)
            elif key == "h":
                ended = self._hang_up(now)
                if ended is not None:
                    return ended
        self._keypad(typed, now)
        return None

    def _keypad(self, typed: str, now: float) -> None:
        """Send tones typed on the keypad, or say why they were not sent."""
        if not typed:
            return
        state, send = self.state, self.io.send_tones
        if state.phase != "connected" or state.call is None:
            self._say("Tones can be sent once the call is connected.", now)
        elif state.ambiguous or self.refused or send is None:
            why = _ambiguous(self.watch.callee) if state.ambiguous else self.refused
            self._say(f"{typed} not sent: {why or 'tones cannot be sent from here'}.", now)
        else:
            try:
                send(state.call.call_id, typed)
            except ApiError as error:
                self._say(f"{typed} not sent: {self._tones_failed(error)}.", now)
                return
            self.tones.keyed(typed)

    def _dial(self, now: float) -> None:
        """Send the dial string's group that is due, if any (once: never again after a failure)."""
        state, send = self.state, self.io.send_tones
        if state.phase != "connected" or state.call is None or send is None:
            return
        digits = self.tones.due(now)
        if digits is None:
            return
        try:
            send(state.call.call_id, digits)
        except ApiError as error:
            self.tones.failed(self._tones_failed(error))
            return
        self.tones.sent(self.io.clock())

    def _hang_up(self, now: float) -> WatchState | None:
        state = self.state
        if state.call is None:
            self._say("Nothing to hang up yet: the call shows once the phone is picked up.", now)
            return None
        if state.ambiguous:
            # Hanging up someone else's call is worse than not hanging up: the user picks.
            self._say(
                f"Not hung up: {_ambiguous(self.watch.callee)}; `sipgate-tui hangup` lets you "
                "pick the call.",
                now,
            )
            return None
        try:
            self.io.hang_up(state.call.call_id)
        except ApiError as error:
            self._say(_hang_up_failed(error), now)
            return None
        return self._with_tones(
            WatchState("hung-up", state.call, state.connected_at, None, state.ambiguous), now
        )

    def _say(self, note: str, now: float) -> None:
        self.note, self.note_until = note, now + NOTE_SECONDS

    def _tones_failed(self, error: ApiError) -> str:
        """Why tones were not sent, in words; a 403 also stops every later try."""
        why = _tones_failed(error)
        if isinstance(error, HttpStatusError) and error.status == 403:
            self.refused = why
        return why

    def _with_tones(self, state: WatchState, now: float) -> WatchState:
        view = self.tones.view(now)
        return replace(state, tones=view if view.active else None)


def _ambiguous(callee: str) -> str:
    return f"two new calls to {callee} appeared and which one is yours is unclear"


def _tones_failed(error: ApiError) -> str:
    if isinstance(error, HttpStatusError) and error.status in (401, 403):
        return NEEDS_RTCM_WRITE
    if isinstance(error, HttpStatusError) and error.status == 404:
        return "sipgate does not list the call as connected (HTTP 404)"
    if isinstance(error, HttpStatusError):
        return f"sipgate answered HTTP {error.status}"
    if isinstance(error, OutcomeUnknownError):
        return "sipgate did not confirm them, so they may or may not have arrived"
    if isinstance(error, NetworkError):
        return "sipgate could not be reached"
    return "sipgate did not take them"


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
