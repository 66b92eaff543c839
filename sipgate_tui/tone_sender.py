"""Keypad tone requests off the live view's loop: one at a time, in one background thread.

A slow ``POST /calls/{id}/dtmf`` must not freeze the live line: while it waits, the loop
keeps polling, drawing and answering ``h`` and ``q``. One request at a time, because tones
must arrive in the order they were typed, and a second request beside a slow first one could
overtake it. The thread is a daemon: leaving the live view never waits for an answer.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sipgate_tui.api import ApiError

THREAD_NAME = "sipgate-tui-tones"


@dataclass(frozen=True)
class ToneAnswer:
    """How one request ended: ``error`` None when sipgate took the tones; ``at``: when the
    answer came, in the caller's clock (the next pause counts from then).

    ``keypad``: typed in the live view (else a group of the dial string).
    """

    digits: str
    keypad: bool
    error: ApiError | None
    at: float


class ToneSender:
    """Sends tones with ``send(call_id, digits)`` in a thread named ``sipgate-tui-tones``.

    :meth:`submit` only while not :attr:`busy`; :meth:`answer` hands out how it ended, once.
    """

    def __init__(self, send: Callable[[str, str], None], clock: Callable[[], float]) -> None:
        self._send, self._clock = send, clock
        self._jobs: queue.Queue[tuple[str, str, bool] | None] = queue.Queue()  # None: stop
        self._idle = threading.Event()
        self._idle.set()
        self._answer: ToneAnswer | None = None
        self._in_flight: str | None = None
        self._in_flight_keypad = False
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        """Whether a request is out and its answer not yet taken with :meth:`answer`."""
        return self._in_flight is not None

    @property
    def in_flight(self) -> str | None:
        """The digits of the request out (answered or not, until taken), else None."""
        return self._in_flight

    @property
    def in_flight_keypad(self) -> bool:
        """Whether the request out holds keypad digits (else a dial string's group)."""
        return self._in_flight_keypad

    def submit(self, call_id: str, digits: str, *, keypad: bool) -> None:
        """Send ``digits`` into ``call_id`` in the background (never while :attr:`busy`)."""
        if self.busy:
            raise RuntimeError("one tone request at a time")
        self._in_flight, self._in_flight_keypad = digits, keypad
        self._idle.clear()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=THREAD_NAME, daemon=True)
            self._thread.start()
        self._jobs.put((call_id, digits, keypad))

    def wait(self, seconds: float) -> bool:
        """Wait at most ``seconds`` (real time) for the request out to be answered; True
        when it is (or none is out)."""
        return self._idle.wait(seconds)

    def answer(self) -> ToneAnswer | None:
        """How the request out ended, once it has (then the sender is free again)."""
        if not self._idle.is_set() or self._answer is None:
            return None
        answer, self._answer, self._in_flight = self._answer, None, None
        return answer

    def close(self) -> None:
        """Let the thread end once the request out (if any) is answered; nothing new after."""
        if self._thread is not None:
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            call_id, digits, keypad = job
            error: ApiError | None = None
            try:
                self._send(call_id, digits)
            except ApiError as failure:
                error = failure
            except Exception as failure:  # noqa: BLE001 - a bug must not kill the thread silently
                error = ApiError(f"the request failed ({type(failure).__name__})")
            self._answer = ToneAnswer(digits, keypad, error, self._clock())
            self._idle.set()
