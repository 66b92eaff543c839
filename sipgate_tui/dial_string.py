"""Dial strings: what is dialled after the number, once the call is connected.

Conference invitations and CRMs put the meeting id and PIN after the number
(``+496971049922,,85512345678#``); ``--dtmf`` takes the same characters. The grammar is the one
phones use (Android, Windows, most desk phones):

- ``0``-``9``, ``*`` and ``#``: keypad tones;
- ``,``: a pause (``PAUSE_SECONDS`` by default; the ``tone-pause`` setting changes it);
- ``;``: wait until the user presses Enter (only where it is followed by a tone, a pause or
  another wait, or ends the string: ``;name=value`` is a tel: link's parameter, read by
  ``links``);
- spaces, ``-``, ``.``, ``(`` and ``)`` are visual separators and dropped, as in numbers.

Anything else is refused with the reason, and so is a dial string that would keep the call
busy for minutes (a link is untrusted input: ten thousand commas must not hold a call open for
hours). Imports nothing heavy: ``call`` parses a dial string on every one-shot dial that has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipgate_tui.errors import InputError
from sipgate_tui.numbers import normalise_digits

PAUSE_SECONDS = 2.0  # one ",": the pause phones make (Android: 2 s)
TONES = frozenset("0123456789*#")
SEPARATORS = frozenset(" -.()\t")
MAX_TONES = 64  # a meeting id and PIN are ~20; an IVR path a few more
MAX_PAUSES = 30  # commas in all: a minute at the default pace
MAX_WAITS = 10
# Characters read at all: every allowed step, with room for separators. Checked first, so a
# megabyte of commas is refused before a step list of a million entries is built.
MAX_TEXT = 4 * (MAX_TONES + MAX_PAUSES + MAX_WAITS)


@dataclass(frozen=True)
class Tones:
    """Keypad tones sent in one request (``POST /calls/{id}/dtmf``)."""

    digits: str


@dataclass(frozen=True)
class Pause:
    """``count`` commas in a row: ``count`` times the pause setting."""

    count: int


@dataclass(frozen=True)
class WaitForEnter:
    """A ``;``: nothing more is sent until the user presses Enter in the live view."""


Step = Tones | Pause | WaitForEnter


@dataclass(frozen=True)
class DialString:
    """The steps to dial after connecting, in order; empty when there is nothing to dial."""

    steps: tuple[Step, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.steps)

    @property
    def digits(self) -> str:
        """Every tone, in order, without pauses: what a user types by hand when tones cannot
        be sent."""
        return "".join(step.digits for step in self.steps if isinstance(step, Tones))

    @property
    def text(self) -> str:
        """The written form: tones, ``,`` per pause, ``;`` per wait (``,,85512345678#``)."""
        return "".join(_written(step) for step in self.steps)

    def then(self, other: DialString) -> DialString:
        """This dial string followed by ``other``, adjacent tones and pauses merged."""
        return DialString(_merged((*self.steps, *other.steps)))


def _written(step: Step) -> str:
    if isinstance(step, Tones):
        return step.digits
    if isinstance(step, Pause):
        return "," * step.count
    return ";"


def _merged(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    out: list[Step] = []
    for step in steps:
        last = out[-1] if out else None
        if isinstance(step, Tones) and isinstance(last, Tones):
            out[-1] = Tones(last.digits + step.digits)
        elif isinstance(step, Pause) and isinstance(last, Pause):
            out[-1] = Pause(last.count + step.count)
        else:
            out.append(step)
    return tuple(out)


def parse_dial_string(text: str, *, what: str = "The tones after the number") -> DialString:
    """The steps of ``text`` (tones, ``,`` pauses, ``;`` waits); InputError
    ``invalid-dial-string`` naming the first character that is none of them, or the limit a
    too long string breaks (``what`` names the string in the message). Digits of any script
    are read as digits (a fullwidth ``０`` is a ``0``), as in numbers."""
    if len(text) > MAX_TEXT:
        raise InputError(
            "invalid-dial-string",
            f"{what} is {len(text)} characters long, far more than the {MAX_TONES} tones, "
            f"{MAX_PAUSES} pauses and {MAX_WAITS} waits sipgate-tui dials.",
            hint=_TOO_LONG_HINT,
        )
    steps: list[Step] = []
    for position, character in enumerate(normalise_digits(text)):
        if character in SEPARATORS:
            continue
        if character in TONES:
            steps.append(Tones(character))
        elif character == ",":
            steps.append(Pause(1))
        elif character == ";":
            steps.append(WaitForEnter())
        else:
            raise _bad(text, position, what)
    dial = DialString(_merged(tuple(steps)))
    check_size(dial, what)
    return dial


def _bad(text: str, position: int, what: str) -> InputError:
    character = text[position]
    shown = repr(character)[1:-1] if not character.isprintable() else character
    if character.upper() in "ABCD":
        why = "the keypad letters A-D are not sent by sipgate-tui"
    elif character in "pPwW":
        why = "write a pause as ',' and a wait for Enter as ';'"
    elif character.isalpha():
        why = "letters are not keypad tones"
    else:
        why = "only 0-9, * and #, ',' (a pause) and ';' (wait for Enter) can be dialled"
    return InputError(
        "invalid-dial-string",
        f"{what} cannot be dialled: '{shown}' at position {position + 1}: {why}.",
        hint="Write tones as 0-9, * and #; ',' pauses about two seconds, ';' waits until you "
        "press Enter (e.g. ,,85512345678#).",
    )


def check_size(dial: DialString, what: str) -> None:
    """InputError ``invalid-dial-string`` when ``dial`` holds more tones, pauses or waits than
    are dialled; for dial strings put together from parts (a link's ``;ext=`` and its tones),
    which ``parse_dial_string`` checked only one by one."""
    tones = len(dial.digits)
    pauses = sum(step.count for step in dial.steps if isinstance(step, Pause))
    waits = sum(isinstance(step, WaitForEnter) for step in dial.steps)
    for count, limit, name in (
        (tones, MAX_TONES, "tones"),
        (pauses, MAX_PAUSES, "pauses (',')"),
        (waits, MAX_WAITS, "waits (';')"),
    ):
        if count > limit:
            raise InputError(
                "invalid-dial-string",
                f"{what}: {count} {name}; at most {limit} are dialled.",
                hint=_TOO_LONG_HINT,
            )


_TOO_LONG_HINT = (
    "A meeting id and PIN need far fewer; type longer sequences on the keypad of the live view "
    "once the call is connected."
)


MAX_PAUSE_SECONDS = 60.0  # all pauses together, at the tone-pause setting's pace


def check_pause_time(dial: DialString, pause_seconds: float, what: str) -> None:
    """InputError ``invalid-dial-string`` when the pauses of ``dial`` add up to more than a
    minute at ``pause_seconds`` each (30 commas at a tone-pause of 10 s would hold a call for
    five minutes)."""
    total = sum(step.count for step in dial.steps if isinstance(step, Pause)) * pause_seconds
    if total > MAX_PAUSE_SECONDS:
        raise InputError(
            "invalid-dial-string",
            f"{what}: the pauses add up to {total:g} s at {pause_seconds:g} s each (the "
            f"tone-pause setting); at most {MAX_PAUSE_SECONDS:g} s are dialled.",
            hint="Use fewer commas, or a shorter pause: sipgate-tui config set tone-pause 2",
        )
