"""Following a dialled call: ringing, connected, ended, or nothing at all; and its tones.

sipgate answers a dial with a session id only; whether the phone rang and the call connected
shows only in ``GET /calls`` (established calls). This polls it gently and works out which call
is ours: the one whose id is the session id, else the ONLY new call (not there before the dial)
with the callee among its participants. Two such calls make it ambiguous: then no tone is sent
and nothing is hung up (either may be a colleague's call to the same number). Once found, the
call is followed by its id; one found by its number stays under suspicion (see
:class:`CallWatch`).

Once connected, the dial string's tones go out as :class:`~sipgate_tui.tones.ToneDialer` says,
and digits, ``*`` and ``#`` typed in the live view go out at once (the keypad), each request in
the background (:class:`~sipgate_tui.tone_sender.ToneSender`), so a slow answer never freezes
the line. The loop takes its clock, its sleep and its keys from the caller, so tests run it in
simulated time and without a keyboard.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

from sipgate_tui.api import ApiError, HttpStatusError, NetworkError, OutcomeUnknownError
from sipgate_tui.dial_string import TONES, DialString
from sipgate_tui.numbers import pretty
from sipgate_tui.rtcm import ActiveCall
from sipgate_tui.tone_sender import ToneSender
from sipgate_tui.tones import ToneDialer, ToneView

POLL_INTERVAL = 1.0  # seconds between two GET /calls
NO_CALL_TIMEOUT = 45.0  # seconds without a connected call before the troubleshooting panel
TICK = 0.1  # seconds between two looks at the keyboard
NOTE_SECONDS = 5.0  # how long a note after a key (h while ringing) stays readable
# A call found by its number (not by the session id) may be someone else's: two windows that
# dial the same number a second or two apart each see the first call before their own shows.
# It gets tones (and h) only once this many more looks at GET /calls (2 s at POLL_INTERVAL)
# found it still the only new call to the number: long enough for the usual such race, short
# enough that a PIN after the greeting is not held up noticeably.
SETTLE_POLLS = 2
# Seconds one POST /calls/{id}/dtmf may take as a whole: tones that arrive later than this
# would land in another menu than the one they were meant for. Never retried (a wrong PIN).
TONES_DEADLINE = 5.0
# Real seconds the end of the live view waits for a tone request still out, so what it says
# about that group is known rather than guessed; short, because h and q must end it at once.
END_GRACE = 0.5
LEAVE_KEYS = frozenset({"q", "c-c", "escape"})
# prompt_toolkit names Enter "c-m" (a carriage return); some terminals send a line feed, "c-j".
ENTER_KEYS = frozenset({"c-m", "enter", "c-j"})
NEEDS_RTCM_WRITE = "sending them needs a token with rtcm:write"
CHECKING = "checking this is your call"
UNANSWERED = (
    "sipgate had not answered when the live view ended, so they may or may not have arrived"
)


@dataclass(frozen=True)
class WatchState:
    """Where the call is. ``phase``: ringing, connected, ended, timeout, hung-up, left, lost.

    ``ambiguous``: two new calls to the callee appeared, so which one is ours is unknown;
    ``checking``: the call was found by its number and is not trusted yet (no tones, no h);
    ``tones``: the dial string's and the keypad's tones (None when there are none);
    ``sending``: the digits of the tone request out, waiting for sipgate's answer;
    ``held``: keypad digits typed while checking, sent once the call is trusted.
    """

    phase: str
    call: ActiveCall | None = None
    connected_at: float | None = None
    note: str | None = None
    ambiguous: bool = False
    tones: ToneView | None = None
    checking: bool = False
    sending: str | None = None
    held: str = ""


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
    """The state machine: feed it each ``GET /calls`` answer with the time it arrived.

    A call matched by the session id is ours for sure. One matched by its number is ours only
    as long as no other new call to that number shows up: on every look, another one makes the
    watch ambiguous for good; and it is trusted (``checking`` ends) only after
    ``SETTLE_POLLS`` more looks found it alone.
    """

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
        self.by_number = False  # found by the callee's number, not by the session id
        self.alone_looks = 0  # looks since then that found it the only new call to the number

    @property
    def checking(self) -> bool:
        """Whether the call found is not trusted yet (by number, not alone long enough)."""
        return self.by_number and not self.ambiguous and self.alone_looks < SETTLE_POLLS

    def update(self, calls: Iterable[ActiveCall], now: float) -> WatchState:
        """The new state after an answer of ``GET /calls`` at time ``now``."""
        calls = list(calls)
        phase, known = self.state.phase, self.state.call
        if known is not None:  # found once: followed by its id, not matched again
            call = next((c for c in calls if c.call_id == known.call_id), None)
            if call is not None and self.by_number:
                if self._rivals(calls, call.call_id):
                    self.ambiguous = True
                else:
                    self.alone_looks += 1
        else:
            match = match_call(
                calls, session_id=self.session_id, callee=self.callee, before=self.before
            )
            call, self.ambiguous = match.call, self.ambiguous or match.ambiguous
            self.by_number = call is not None and call.call_id != self.session_id
        unsure, checking = self.ambiguous, self.checking
        if phase == "ringing" and call is not None:
            self.state = WatchState(
                "connected", call, connected_at=now, ambiguous=unsure, checking=checking
            )
        elif phase == "connected" and call is None:
            self.state = WatchState(
                "ended", self.state.call, self.state.connected_at, ambiguous=unsure
            )
        elif phase == "connected":
            self.state = WatchState(
                "connected", call, self.state.connected_at, ambiguous=unsure, checking=checking
            )
        elif phase == "ringing" and now - self.started >= self.timeout:
            self.state = WatchState("timeout")
        return self.state

    def _rivals(self, calls: list[ActiveCall], ours: str) -> bool:
        """Whether another new call to the callee is listed beside ``ours``."""
        return any(
            c.call_id != ours and c.call_id not in self.before and self.callee in c.other_numbers()
            for c in calls
        )


@dataclass
class WatchIO:
    """What the loop needs from the outside world."""

    fetch: Callable[[], list[ActiveCall]]  # GET /calls
    hang_up: Callable[[str], None]  # DELETE /calls/{id}
    show: Callable[[WatchState, float], None]  # draw the live line
    pressed: Callable[[], list[str]]  # keys pressed since the last look
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    # POST /calls/{id}/dtmf with the call id and the tones, called in the tones' own thread
    # (never two at once); None: tones cannot be sent here.
    send_tones: Callable[[str, str], None] | None = None


def follow(
    watch: CallWatch,
    io: WatchIO,
    *,
    poll_interval: float = POLL_INTERVAL,
    tones: ToneDialer | None = None,
) -> WatchState:
    """Poll until the call ends, the timeout passes, or the user hangs up (h) or leaves (q);
    once connected (and sure the call is ours), send the ``tones`` as they fall due and the
    keypad's at once, in the background.

    Never raises for the call's sake: trouble while watching ends the watch with ``lost``
    (the call itself was accepted and goes on), and an interrupt (Ctrl-C outside raw mode,
    SIGTERM, SIGHUP: __main__ turns them into KeyboardInterrupt) ends it like q, ``left``.
    The state returned carries the tones' view, so the caller can say what is left to type
    by hand.
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
        self.sender = ToneSender(io.send_tones, io.clock) if io.send_tones is not None else None
        self.held = ""  # keypad digits typed while the call is being checked

    def run(self) -> WatchState:
        try:
            return self._loop()
        except KeyboardInterrupt:
            # A signal (SIGTERM, SIGHUP) while watching: leave as q does, with what is known
            # (the call's own id, the tones left), so the command prints its usual lines.
            return self._left(self.io.clock())
        finally:
            if self.sender is not None:
                self.sender.close()

    def _loop(self) -> WatchState:
        while True:
            now = self.io.clock()
            self._answered(now)
            if now >= self.next_poll:
                ended = self._poll(now)
                if ended is not None:
                    return ended
            ended = self._keys(now)
            if ended is not None:
                return ended
            self._dial(now)
            self._release_held()
            # Each poll's state is new (without the note): the note is put back until its
            # time is up, so it is not wiped by the next GET /calls a moment later.
            shown = replace(self.state, note=self.note if now < self.note_until else None)
            self.io.show(self._with_tones(shown, now), now)
            self._pause()

    def _pause(self) -> None:
        """Wait one tick. While a tone request is out, the first part of the tick is spent
        waiting for its answer, then the caller's clock is slept for the rest: with the real
        clock that is one tick either way; a simulated clock stands still while a quick
        answer is on its way, so it is stamped with the time the request went out, as a
        request without delay would be (the tests' pauses stay exact)."""
        if self.sender is None or not self.sender.busy:
            self.io.sleep(TICK)
            return
        started = self.io.clock()
        self.sender.wait(TICK)
        self.io.sleep(max(0.0, TICK - (self.io.clock() - started)))

    def _answered(self, now: float) -> None:
        """Take the answer of the tone request out, if it came."""
        answer = self.sender.answer() if self.sender is not None else None
        if answer is None:
            return
        if answer.keypad and answer.error is None:
            self.tones.keyed(answer.digits)
        elif answer.keypad and answer.error is not None:
            self._say(f"{answer.digits} not sent: {self._tones_failed(answer.error)}.", now)
        elif answer.error is None:
            self.tones.sent(answer.at)
        else:
            self.tones.failed(self._tones_failed(answer.error))

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
            return self._finish(lost, now)
        self.next_poll = now + self.poll_interval
        if self.state.phase == "connected":
            self.tones.start(self.state.connected_at or now)
            if self.state.ambiguous:
                why = _ambiguous(self.watch.callee)
                self.tones.stop(why)
                if self.held:
                    self._say(f"{self.held} not sent: {why}.", now)
                    self.held = ""
            elif self.io.send_tones is None:
                self.tones.stop("tones cannot be sent from here")
        if self.state.phase in ("ended", "timeout"):
            return self._finish(self.state, now)
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
                return self._left(now)
            if key in ENTER_KEYS:
                self.tones.enter(now)
            elif key == "h":
                ended = self._hang_up(now)
                if ended is not None:
                    return ended
        self._keypad(typed, now)
        return None

    def _keypad(self, typed: str, now: float) -> None:
        """Send tones typed on the keypad, hold them while the call is checked, or say why
        they were not sent."""
        if not typed:
            return
        state, sender = self.state, self.sender
        if state.phase != "connected" or state.call is None:
            self._say("Tones can be sent once the call is connected.", now)
        elif state.ambiguous or self.refused or sender is None:
            why = _ambiguous(self.watch.callee) if state.ambiguous else self.refused
            self._say(f"{typed} not sent: {why or 'tones cannot be sent from here'}.", now)
        elif state.checking:
            self.held += typed  # the line shows them waiting; sent once the call is trusted
        elif sender.busy or self.held:
            # Refused, not queued: queued digits would go out up to TONES_DEADLINE seconds
            # after they were typed, into whatever menu the call has reached by then.
            self._say(f"{typed} not sent: wait until the tones before are answered.", now)
        else:
            sender.submit(state.call.call_id, typed, keypad=True)

    def _release_held(self) -> None:
        """The keypad digits typed while checking, once the call is trusted and the line free."""
        state, sender = self.state, self.sender
        if not self.held or sender is None or sender.busy or state.call is None:
            return
        if state.phase == "connected" and not state.checking and not state.ambiguous:
            sender.submit(state.call.call_id, self.held, keypad=True)
            self.held = ""

    def _dial(self, now: float) -> None:
        """Send the dial string's group that is due, if any (once: never again after a failure)."""
        state, sender = self.state, self.sender
        if state.phase != "connected" or state.call is None or sender is None:
            return
        if state.checking or sender.busy:
            return
        digits = self.tones.due(now)
        if digits is not None:
            sender.submit(state.call.call_id, digits, keypad=False)

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
        if state.checking:
            self._say(f"Not hung up yet: {CHECKING} (a second or two); press h again then.", now)
            return None
        try:
            self.io.hang_up(state.call.call_id)
        except ApiError as error:
            self._say(_hang_up_failed(error), now)
            return None
        hung_up = WatchState("hung-up", state.call, state.connected_at, None, state.ambiguous)
        return self._finish(hung_up, now)

    def _left(self, now: float) -> WatchState:
        state = self.state
        left = WatchState("left", state.call, state.connected_at, None, state.ambiguous)
        return self._finish(left, now)

    def _finish(self, state: WatchState, now: float) -> WatchState:
        """The final ``state``: with the tones, once a request still out is answered (or
        not, within END_GRACE: then its group counts as not confirmed)."""
        if self.sender is not None and self.sender.busy:
            self.sender.wait(END_GRACE)
            self._answered(now)
            if self.sender.busy and not self.sender.in_flight_keypad:
                self.tones.failed(UNANSWERED)
        return replace(self._with_tones(state, now), sending=None, held="")

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
        sending = self.sender.in_flight if self.sender is not None else None
        tones = view if view.active else None
        return replace(state, tones=tones, sending=sending, held=self.held)


def _ambiguous(callee: str) -> str:
    return f"two new calls to {pretty(callee)} appeared and which one is yours is unclear"


def _tones_failed(error: ApiError) -> str:
    if isinstance(error, HttpStatusError) and error.status in (401, 403):
        return NEEDS_RTCM_WRITE
    if isinstance(error, HttpStatusError) and error.status == 404:
        return "sipgate does not list the call as connected (HTTP 404)"
    if isinstance(error, HttpStatusError):
        return f"sipgate answered HTTP {error.status}"
    if isinstance(error, OutcomeUnknownError) and error.seconds is not None:
        return (
            f"sipgate did not confirm them within {error.seconds:g} s, so they may or may not "
            "have arrived"
        )
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
