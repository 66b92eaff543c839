"""Which way a call goes: classic ``POST /sessions/calls``, or ``POST /calls`` on sipgate Neo.

The account type decides: forced (``--account-type``, else the ``account-type`` setting), else
the type learnt for this token, else unknown, which dials the classic way. There is exactly one
second request anywhere, and only after a definite refusal: a classic dial answered with
sipgate's Classic-PBX sentence placed nothing, so the Neo request goes out once. Any other
answer, and every timeout, ends the dial: at most one request that could have placed a call.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sipgate_tui.account import list_devices
from sipgate_tui.account_type import AccountKind, detect
from sipgate_tui.api import ApiError, HttpStatusError, SipgateClient, is_classic_pbx_refusal
from sipgate_tui.commands.common import Session
from sipgate_tui.errors import AppError, InputError
from sipgate_tui.lookups import Background
from sipgate_tui.plan import CallPlan
from sipgate_tui.user_id import UserId, cached_user_id

if TYPE_CHECKING:
    from sipgate_tui.channels import Channel
    from sipgate_tui.context import AppContext
    from sipgate_tui.prompts import Prompter

# channels is imported where a Neo call looks for its channel: a classic dial never does.

log = logging.getLogger("sipgate_tui")

NEO = "sipgate Neo"
PROBE_GRACE = 0.5  # seconds the summary may wait for account-type probes still running


class Dialled:
    """A call sipgate accepted: its id, the path that placed it ("classic" or "neo"), the
    body of the request that placed it as sent, what the user should read, and a type found
    out on the way (to remember)."""

    # A plain class, not a dataclass: it is created on every dial's import, where each
    # dataclass costs about a millisecond (measured with -X importtime).
    __slots__ = ("account_type", "call_id", "learnt_type", "notes", "sent")

    def __init__(
        self,
        call_id: str,
        account_type: str,
        sent: dict[str, str],
        notes: tuple[str, ...] = (),
        learnt_type: str | None = None,
    ) -> None:
        self.call_id, self.account_type, self.sent = call_id, account_type, sent
        self.notes, self.learnt_type = notes, learnt_type


class FailedOnNeo(Exception):
    """The Neo call request failed: ``error`` is the client's, for words that fit Neo."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(str(error))
        self.error = error


class PickedChannel:
    """The channel a Neo call goes through (None: sipgate's default), its name for people,
    and a note for the user about it (if any)."""

    # A plain class, not a dataclass: it is created on every dial's import, where each
    # dataclass costs about a millisecond (measured with -X importtime).
    __slots__ = ("id", "label", "note")

    def __init__(self, id: str | None, label: str | None = None, note: str | None = None) -> None:
        self.id, self.label, self.note = id, label, note


ChannelPicker = Callable[[], PickedChannel]
SWITCHED = (
    f"This account is {NEO}: sipgate refused the classic call request (nothing was placed "
    "there), so sipgate-tui places the call the Neo way, now and from now on."
)


def dial(
    ctx: AppContext,
    session: Session,
    plan: CallPlan,
    kind: AccountKind,
    *,
    channel: ChannelPicker,
    plus_sign: bool,
    announce: Callable[[str], None],
    learnt: Callable[[str], None],
) -> Dialled:
    """Place the call the way ``kind`` says; on Neo ``channel()`` gives the channel.

    Raises the client's ApiError for the request that was answered (the caller turns it into
    the user's words); an AppError when the switch to Neo needs a choice nobody can make.
    ``announce`` shows a note at once (a question may follow); ``learnt`` saves a type found
    out on the way, whatever happens next.
    """
    if kind.neo:
        log.debug("dial: sipgate Neo path (POST /calls): %s", kind.why)
        return _dial_neo(ctx, session, plan, channel, plus_sign, announce, notes=())
    log.debug("dial: classic path (POST /sessions/calls): %s", kind.why)
    try:
        with _placing(ctx, plan):
            call_id = session.client.place_call(plan.request)
    except HttpStatusError as error:
        if not is_classic_pbx_refusal(error):
            raise with_phone_facts(ctx, session, plan, error, all_types=False) from None
        if kind.forced:
            raise _forced_classic_refused(error, kind) from None
        # A definite refusal: nothing was placed, so the one Neo attempt is safe.
        log.debug("dial: sipgate answered the Classic-PBX refusal; switching to POST /calls once")
        learnt("neo")
        announce(SWITCHED)
        try:
            dialled = _dial_neo(ctx, session, plan, channel, plus_sign, announce, notes=(SWITCHED,))
        except AppError as problem:  # nothing went out after the refusal: say so rightly
            raise problem.reworded(
                problem.message.replace("Nothing was sent.", "No call was placed.")
            ) from None
        return Dialled(dialled.call_id, "neo", dialled.sent, dialled.notes, learnt_type="neo")
    return Dialled(call_id, "classic", plan.request.body())


def _dial_neo(
    ctx: AppContext,
    session: Session,
    plan: CallPlan,
    channel: ChannelPicker,
    plus_sign: bool,
    announce: Callable[[str], None],
    *,
    notes: tuple[str, ...],
) -> Dialled:
    if plan.ring_number is not None:
        raise no_caller_on_neo()
    picked = channel()
    if picked.note:
        announce(picked.note)
    request = plan.neo_request(picked.id, plus_sign=plus_sign)
    log.debug("dial: channel %s", picked.id or "none (sipgate picks the phone's default)")
    try:
        with _placing(ctx, plan):
            call_id = session.client.place_neo_call(request)
    except ApiError as error:
        raise FailedOnNeo(with_phone_facts(ctx, session, plan, error, all_types=True)) from None
    return Dialled(
        call_id, "neo", request.body(), (*notes, *([picked.note] if picked.note else []))
    )


def _placing(ctx: AppContext, plan: CallPlan) -> contextlib.AbstractContextManager[None]:
    """The spinner while the call request is on its way (none in a tiny terminal: the rule
    is ``AppContext.waiting``'s)."""
    return ctx.waiting(f"Placing the call: ringing {plan.device_id} first…")


def with_phone_facts(
    ctx: AppContext, session: Session, plan: CallPlan, error: ApiError, *, all_types: bool
) -> ApiError:
    """A refusal (403) of a call whose phone the account does not list, marked so its advice
    leads with that; any other error as it is. Known from the questions, else (``--yes``:
    nothing was looked up before) one look at the device list now: the call was refused,
    so a read is safe, and it turns "one of these four causes" into the likely one."""
    if not isinstance(error, HttpStatusError) or error.status != 403:
        return error
    if is_classic_pbx_refusal(error):
        return error
    from sipgate_tui.commands.after_dial import PhoneNote, noted, phone_facts
    from sipgate_tui.problems import DeviceNotListed

    note: PhoneNote | None = noted(plan, "foreign")
    if note is None and not plan.device_name:  # listed phones have a name: no look needed
        try:
            cached = cached_user_id(ctx.make_settings(), session.token_id)
            user = cached or session.client.userinfo().user_id
            devices = list_devices(session.client, user, all_types=all_types)
        except (ApiError, AppError):
            return error
        note = phone_facts(plan.device_id, devices)
    if note is not None and note.about == "foreign":
        return DeviceNotListed(error, note.yours)
    return error


def pick_channel(
    session: Session,
    user: UserId,
    device_id: str,
    *,
    given: str | None,
    prompter: Prompter | None,
    why_no_prompts: str,
) -> PickedChannel:
    """The channel that holds ``device_id``.

    ``--channel`` must be one of the account's channels and hold the phone; one channel is
    taken; several are a question (or, without a terminal, a usage error naming
    ``--channel``); none, or channels that cannot be read, send the call without one: sipgate
    then uses the phone's default channel (which may not ring it: reported).
    """
    from sipgate_tui.channels import Channel, channels_of_device, list_channels

    try:
        channels = list_channels(session.client, user.get())
    except HttpStatusError as error:
        if given:
            return PickedChannel(given, given)
        lacks = "lacks channels:read" if error.status in (401, 403) else "could not list them"
        return PickedChannel(
            None,
            note=f"Your token {lacks}, so the call goes without a channel: sipgate then uses the "
            "phone's default channel (a token with channels:read lets sipgate-tui pick it).",
        )
    except ApiError:
        if given:
            return PickedChannel(given, given)
        return PickedChannel(
            None, note="The channels could not be listed; sipgate uses the phone's default one."
        )
    holding = channels_of_device(channels, device_id)
    if given:
        return _given_channel(given, channels, holding, device_id)
    if len(holding) == 1:
        return PickedChannel(holding[0].id, _label(holding[0]))
    if not holding:
        return PickedChannel(
            None,
            note=f"{device_id} is in none of your channels: sipgate takes the call without one, "
            "and may not ring the phone (reported). Add the phone to a channel in the sipgate "
            "app if nothing rings.",
        )
    if prompter is None:
        raise InputError(
            "channel-required",
            f"{device_id} is in {len(holding)} channels ({_names(holding)}), and nothing may be "
            f"asked: {why_no_prompts}. Nothing was sent.",
            hint=f"Choose one with --channel, e.g. --channel {holding[0].id}.",
        )
    from sipgate_tui.prompts import Option

    options = [Option(_label(item), item) for item in holding]
    answer = prompter.select("Which channel should the call go through?", options)
    chosen = answer if isinstance(answer, Channel) else holding[0]
    return PickedChannel(chosen.id, _label(chosen))


def _given_channel(
    given: str, channels: list[Channel], holding: list[Channel], device_id: str
) -> PickedChannel:
    # Ids as typed, else the one channel whose id matches ignoring case.
    found = next((item for item in channels if item.id == given), None) or next(
        (item for item in channels if item.id.lower() == given.lower()), None
    )
    if found is None or found not in holding:
        where = (
            f"the channels that hold {device_id}: {_names(holding)}"
            if holding
            else f"{device_id} is in none of your channels"
        )
        problem = "is none of your channels" if found is None else f"does not hold {device_id}"
        raise InputError(
            "unknown-channel",
            f"--channel {given[:40]} {problem} ({where}). Nothing was sent.",
            hint=f"Use --channel {holding[0].id}" if holding else "Leave --channel out.",
        )
    return PickedChannel(found.id, _label(found))


def _label(channel: Channel) -> str:
    return f"{channel.name} ({channel.id})"


def _names(channels: list[Channel]) -> str:
    return ", ".join(f"{item.name} = {item.id}" for item in channels[:5])


def no_caller_on_neo() -> InputError:
    """--caller on sipgate Neo: its call request has no number that rings first."""
    return InputError(
        "unsupported-on-neo",
        f"--caller (a number that rings first) is not available on {NEO}: its call request "
        "rings one of your phones. Nothing was placed.",
        hint="Leave --caller out and pick the phone with --device.",
    )


def _forced_classic_refused(error: HttpStatusError, kind: AccountKind) -> AppError:
    return AppError(
        "forbidden",
        f"sipgate refused the classic call request: this account is {NEO} (HTTP 403). "
        "Nothing was placed.",
        hint=f"The classic way is {kind.why}: use --account-type auto (or neo), or "
        "`sipgate-tui config unset account-type`.",
        status=error.status,
        detail=error.detail,
    )


def live_view_for(setting: str | None, account_type: str) -> bool:
    """Whether to follow a call live: ``live-view`` on/off, else (auto) not on sipgate Neo,
    where sipgate lists no active calls yet (``GET /calls`` is "planned")."""
    if setting in ("on", "off"):
        return setting == "on"
    return account_type != "neo"


class AccountTypeProbe:
    """The account type found out alongside an interactive call's first question."""

    def __init__(self, client: SipgateClient, user: UserId) -> None:
        self._client, self._user = client, user
        self._job: Background[str] | None = None
        self._lock = threading.Lock()  # started from the first question or the device list

    def start(self) -> None:
        """Start the probes (once): when the first question is on screen, like the lookups,
        so loading the HTTP stack never delays that question."""
        with self._lock:
            if self._job is None:
                client, user = self._client, self._user
                self._job = Background(lambda: detect(client, user.get()), "account-type")

    def found(self, kind: AccountKind) -> AccountKind:
        """``kind``, or what the probes found: they ran while the questions were answered, so
        they are normally long done; a slow one costs at most PROBE_GRACE, then the call goes
        the classic way (and still learns from sipgate's answer)."""
        self.start()
        assert self._job is not None
        if not self._job.wait(PROBE_GRACE):
            return kind
        try:
            found = self._job.result()
        except ApiError:
            return kind
        if found == "unknown":
            return kind
        log.debug("account type: %s, found by the probes alongside the questions", found)
        return AccountKind(found, False, "found out by the probes just now")
