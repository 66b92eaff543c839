"""Keypad tones after the call connects: which group is due when, in the caller's clock.

A dial string (``,,85512345678#``) becomes requests of ``POST /calls/{id}/dtmf``: one per
group of tones, each after the pauses before it, and nothing past a ``;`` until the user
presses Enter. This module only decides (no requests, no clock of its own): ``watch.follow``
asks :meth:`ToneDialer.due`, sends, and reports back with :meth:`ToneDialer.sent` or
:meth:`ToneDialer.failed`.

A group handed out is never handed out again, whatever the answer: a tone sent twice is a
wrong PIN, so after any failure the dialer stops and says which digits are left to type by hand.
Pauses count from the moment the group before them was sent (or the call was seen connected),
because that is when the other side heard it; a pause first means the first group waits too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipgate_tui.dial_string import PAUSE_SECONDS, DialString, Pause, Step, Tones, WaitForEnter


@dataclass(frozen=True)
class ToneView:
    """What the live line says about the tones at one moment."""

    sent: str  # tones of the dial string sent so far
    rest: DialString  # what of the dial string is not sent yet (a group in flight included)
    waiting: bool  # at a ";": the rest goes once the user presses Enter
    problem: str | None  # why no more tones are sent (then ``by_hand`` is for the phone)
    by_hand: DialString  # after a problem: what is still to type on the phone
    keyed: str  # tones typed on the keypad of the live view and sent
    next_in: float | None  # seconds until the next group, while a pause runs

    @property
    def left(self) -> str:
        """The rest as written (",12345678#"); "" when all are out."""
        return self.rest.text

    @property
    def active(self) -> bool:
        """Whether there is anything to show: a dial string, or keypad tones."""
        return bool(self.sent or self.rest or self.problem or self.keyed)


class ToneDialer:
    """The tones of one call: feed it the time, it says what to send.

    Nothing is due before :meth:`start` (the call is connected). :meth:`due` hands out a
    group and holds it in flight until :meth:`sent` or :meth:`failed`; meanwhile nothing
    else is due.
    """

    def __init__(self, dial: DialString, *, pause_seconds: float = PAUSE_SECONDS) -> None:
        self._steps: tuple[Step, ...] = dial.steps
        self._pause = max(0.0, pause_seconds)
        self._index = 0  # the first step not yet done (pauses included, for showing them)
        self._due_at: float | None = None  # None: not started
        self._in_flight: str | None = None
        self._sent = ""
        self._keyed = ""
        self._problem: str | None = None
        self._by_hand = DialString()

    @property
    def started(self) -> bool:
        """Whether the call was seen connected (the clock of the pauses runs)."""
        return self._due_at is not None

    @property
    def stopped(self) -> bool:
        """Whether the dialer gave up (a failure, or the call could not be told apart)."""
        return self._problem is not None

    @property
    def finished(self) -> bool:
        """Whether nothing of the dial string is left to send (sent, or given up)."""
        return self.stopped or (self._index >= len(self._steps) and self._in_flight is None)

    def start(self, now: float) -> None:
        """The call is connected at ``now``: the first pause (or group) counts from here."""
        if self._due_at is None:
            self._arrive(now)

    def due(self, now: float) -> str | None:
        """The tones to send at ``now``, held in flight until reported; None when nothing is
        due (not started, in a pause, waiting for Enter, in flight, done or stopped)."""
        if self._due_at is None or self._problem is not None or self._in_flight is not None:
            return None
        if now < self._due_at:
            return None
        step_at = self._after_pauses()
        if step_at >= len(self._steps):
            self._index = step_at
            return None
        step = self._steps[step_at]
        if not isinstance(step, Tones):
            self._index = step_at  # the pauses are over; the ";" waits
            return None
        self._index = step_at + 1
        self._in_flight = step.digits
        return step.digits

    def sent(self, now: float) -> None:
        """The group in flight arrived at ``now``: the next pause counts from here."""
        if self._in_flight is None:
            return
        self._sent += self._in_flight
        self._in_flight = None
        self._arrive(now)

    def failed(self, why: str) -> None:
        """The group in flight was not (or not surely) sent: stop, and keep it to type by hand."""
        missing = self._in_flight or ""
        self._in_flight = None
        self.stop(why, missing)

    def stop(self, why: str, missing: str = "") -> None:
        """Send nothing more (``why`` says so); ``missing``: digits to type before the rest.
        With no digit left there is nothing to stop (and nothing to say)."""
        by_hand = DialString((Tones(missing),) if missing else ()).then(
            DialString(self._steps[self._index :])
        )
        if self._problem is not None or not by_hand.digits:
            return
        self._problem, self._by_hand = why, by_hand
        self._index = len(self._steps)

    def waiting(self, now: float) -> bool:
        """Whether a ";" holds the rest until Enter (its pauses before it are over)."""
        if self._due_at is None or self._problem is not None or self._in_flight is not None:
            return False
        step_at = self._after_pauses()
        return (
            now >= self._due_at
            and step_at < len(self._steps)
            and isinstance(self._steps[step_at], WaitForEnter)
        )

    def enter(self, now: float) -> bool:
        """Enter pressed at ``now``: a waiting ";" lets the rest go (True); else nothing."""
        if not self.waiting(now):
            return False
        self._index = self._after_pauses() + 1
        self._arrive(now)
        return True

    def keyed(self, digits: str) -> None:
        """Tones typed on the keypad went out (they are not part of the dial string)."""
        self._keyed += digits

    def view(self, now: float) -> ToneView:
        """What to show at ``now``."""
        in_pause = (
            self._due_at is not None
            and self._problem is None
            and self._in_flight is None
            and now < self._due_at
        )
        in_flight = (Tones(self._in_flight),) if self._in_flight else ()
        return ToneView(
            sent=self._sent,
            rest=DialString((*in_flight, *self._steps[self._index :])),
            waiting=self.waiting(now),
            problem=self._problem,
            by_hand=self._by_hand,
            keyed=self._keyed,
            next_in=(self._due_at or now) - now if in_pause else None,
        )

    def _after_pauses(self) -> int:
        """The index of the first step from here that is no pause."""
        step_at = self._index
        while step_at < len(self._steps) and isinstance(self._steps[step_at], Pause):
            step_at += 1
        return step_at

    def _arrive(self, base: float) -> None:
        """The next step starts from ``base``: after the pauses right ahead, if any."""
        pauses = 0
        step_at = self._index
        while step_at < len(self._steps):
            step = self._steps[step_at]
            if not isinstance(step, Pause):
                break
            pauses += step.count
            step_at += 1
        self._due_at = base + pauses * self._pause
