"""A call, resolved and validated, ready to show and to send."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from sipgate_tui.api import CallRequest, NeoCallRequest
from sipgate_tui.dial_string import PAUSE_SECONDS, DialString
from sipgate_tui.numbers import PhoneNumber

if TYPE_CHECKING:
    from sipgate_tui.account import Device


class CalleeContact:
    """The phonebook entry a callee was chosen from: its id, name, the number's type ("" when
    the phonebook gives none) and phonebook. A plain slotted class: the one-shot dial path
    imports this module."""

    __slots__ = ("id", "name", "number_type", "phonebook")

    def __init__(self, id: str, name: str, number_type: str, phonebook: str) -> None:
        self.id, self.name, self.number_type, self.phonebook = id, name, number_type, phonebook

    def to_json(self) -> dict[str, str | None]:
        """The ``contact`` object of ``--json`` and ``--dry-run --json``."""
        return {
            "id": self.id or None,
            "name": self.name,
            "numberType": self.number_type or None,
            "phonebook": self.phonebook or None,
        }

    def __repr__(self) -> str:
        return f"CalleeContact({self.id!r}, {self.name!r}, {self.number_type!r})"


class CallPlan(NamedTuple):
    """Everything about one call: what is sent, and what the user should read about it.

    ``ring_number`` is set when a phone number rings first (``--caller``) instead of the
    device itself; ``caller_id`` is None when the phone's own number is shown.
    """

    device_id: str
    callee: PhoneNumber
    ring_number: PhoneNumber | None = None
    caller_id: PhoneNumber | None = None
    # The name the callee goes by: a favourite's, or a contact's with the number's type
    # ("Ada Lovelace (mobile)"), from the cache; None when unknown.
    callee_name: str | None = None
    device_name: str | None = None  # the phone's name in the account, when known
    channel: str | None = None  # sipgate Neo: the channel it goes through, for people
    notes: tuple[str, ...] = ()
    callee_contact: CalleeContact | None = None  # the contact it was chosen from, if any
    callee_source: str = "number"  # how it was given: number, favourite, contact, link, ...
    # What is dialled as keypad tones once the call is connected: the tones after the number
    # or in the link, or --dtmf; empty when nothing is.
    dial: DialString = DialString()
    link: str | None = None  # the link the call came from (tel:, callto:, sip:), for showing
    tone_pause: float = PAUSE_SECONDS  # seconds per "," of ``dial`` (the tone-pause setting)

    def callee_json(self) -> dict[str, object]:
        """The ``callee`` object of ``--json``: the number, its name and where it came from."""
        return {
            "number": self.callee.e164,
            "name": self.callee_name,
            "source": self.callee_source,
            "contact": self.callee_contact.to_json() if self.callee_contact else None,
            "link": self.link,
        }

    def tones_json(self, *, sent_by: str | None) -> dict[str, object] | None:
        """The ``tones`` object of ``--json``: what is dialled after connecting, and who dials
        it (``sent_by``: "sipgate-tui" once connected, or None: the user must type ``digits``
        on the phone); None without tones."""
        if not self.dial:
            return None
        return {
            "sequence": self.dial.text,
            "digits": self.dial.digits,
            "sentBy": sent_by or "you",
            "scope": "rtcm:write",
        }

    def neo_request(self, channel_id: str | None, *, plus_sign: bool) -> NeoCallRequest:
        """The ``POST /calls`` body of a sipgate Neo account: the phone, the target, the
        caller ID and the channel that holds the phone (``plus_sign``: numbers with "+")."""
        return NeoCallRequest(
            device_id=self.device_id,
            target_number=self.callee.e164,
            caller_id=self.caller_id.e164 if self.caller_id else None,
            channel_id=channel_id,
            plus_sign=plus_sign,
        )

    def with_notes(self, *notes: str | None) -> CallPlan:
        """This plan with more notes for the user (None: nothing to add)."""
        added = tuple(note for note in notes if note)
        return self._replace(notes=(*self.notes, *added)) if added else self

    @property
    def request(self) -> CallRequest:
        """The ``POST /sessions/calls`` body: a device id as caller, or a number plus deviceId."""
        if self.ring_number is not None:
            return CallRequest(
                caller=self.ring_number.e164,
                callee=self.callee.e164,
                device_id=self.device_id,
                caller_id=self.caller_id.e164 if self.caller_id else None,
            )
        return CallRequest(
            caller=self.device_id,
            callee=self.callee.e164,
            caller_id=self.caller_id.e164 if self.caller_id else None,
        )


class ChosenDevice(NamedTuple):
    """The phone that rings first, with what the account says about it (when known)."""

    id: str
    device: Device | None = None


def offline_warning(device: ChosenDevice) -> str | None:
    """The warning for a phone that is known to be offline, else None."""
    if device.device is None or device.device.online is not False:
        return None
    return (
        f"{device.device.alias} ({device.id}) is offline: sipgate accepts the call, but nothing "
        "rings until the phone is connected."
    )
