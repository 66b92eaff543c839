"""The questions of ``sipgate-tui call``: pickers where the account can be read, typed input
(validated as you type) where it cannot, and the warning before dialing an offline phone."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType

from sipgate_tui.account import AccountNumber, Device
from sipgate_tui.commands.after_dial import phone_facts
from sipgate_tui.context import AppContext
from sipgate_tui.errors import Cancelled, InputError
from sipgate_tui.lookups import AccountLookups, Degraded
from sipgate_tui.numbers import (
    PhoneNumber,
    describe_device,
    parse_device_id,
    parse_phone_number,
    pretty,
    resolve_callee,
)
from sipgate_tui.plan import ChosenDevice, offline_warning
from sipgate_tui.prompts import LiveHint, Option, Prompter, Suggestion, Validator
from sipgate_tui.settings import Recent

# One example: the question and it fit in 50 columns (the prompt breaks a longer line
# anywhere, inside a number too); the live hint shows the number in international form.
NUMBER_EXAMPLE = "e.g. 0157 99912345"
# Reported by a third-party client (sipgate refuses them with "Invalid invitable device").
NOT_ON_NEO = " · mobile: may be refused"


def not_on_neo(device: Device) -> bool:
    """A device sipgate Neo is reported not to ring first: the mobile app."""
    return (device.type or "").upper() == "MOBILE"


TYPE_IT = object()  # the "type it instead" entry of a picker
OWN_NUMBER = object()  # "the phone's own number" in the caller-ID picker


def wait_for(ctx: AppContext, message: str, fetch: Callable[[float], object]) -> object:
    """A lookup's result, waiting at most ``ctx.lookup_wait`` seconds with a spinner."""
    with ctx.waiting(message):
        return fetch(ctx.lookup_wait)


def ask_device(
    ctx: AppContext,
    prompter: Prompter,
    lookups: AccountLookups | None,
    *,
    preferred: str | None,
    through_number: bool,
    neo: bool = False,
) -> ChosenDevice:
    """Pick a phone from the account's list, or type its id when the list is unavailable.

    On sipgate Neo, mobile devices are reported not to work as the phone that rings first
    ("Invalid invitable device"): they are marked with the reason and offered last.
    """
    question = "Which device places the call?" if through_number else "Which phone rings first?"
    devices = wait_for(ctx, "Loading your phones…", lookups.devices) if lookups else None
    if isinstance(devices, list):
        callable_devices = [device for device in devices if device.can_call]
        if callable_devices:
            ordered = sorted(
                callable_devices,
                key=lambda d: (
                    neo and not_on_neo(d),
                    d.id != preferred,
                    d.online is False,
                    d.alias.lower(),
                ),
            )
            options = [
                Option(device.label() + (NOT_ON_NEO if neo and not_on_neo(device) else ""), device)
                for device in ordered
            ]
            options.append(Option("Another device: type its id", TYPE_IT))
            chosen = prompter.select(question, options, default=ordered[0])
            if isinstance(chosen, Device):
                return ChosenDevice(chosen.id, chosen)
        devices = [device for device in devices if device.can_call]
    elif isinstance(devices, Degraded):
        ctx.show(_render().info(devices.hint))
    typed = prompter.text(
        question,
        validate=_validator(parse_device_id),
        default=preferred or "",
        placeholder="device id, e.g. e0",
        live_hint=_live(lambda text: describe_device(parse_device_id(text))),
    )
    device_id = parse_device_id(typed)
    known = devices if isinstance(devices, list) else []
    return ChosenDevice(device_id, next((d for d in known if d.id == device_id), None))


def settle_device(
    ctx: AppContext,
    prompter: Prompter,
    lookups: AccountLookups | None,
    given: ChosenDevice | None,
    *,
    preferred: str | None,
    through_number: bool,
    neo: Callable[[], bool] = lambda: False,
) -> ChosenDevice:
    """The phone that rings first: the one given (checked against the account), else picked;
    an offline, unknown or (on sipgate Neo) mobile phone is called only when the user says so.

    ``neo`` tells whether the account is sipgate Neo; asked when the phones are shown, by
    when the probes that run alongside the questions have normally answered.
    """
    chosen: ChosenDevice | None = None
    if given is not None:
        chosen, warning, listed = check_device(ctx, lookups, given.id)
        warning = warning or offline_warning(chosen) or _mobile_on_neo(chosen, neo)
        if warning and not confirm_offline(ctx, prompter, warning, can_pick_another=listed):
            chosen = None  # pick another one
    while chosen is None:
        chosen = ask_device(
            ctx, prompter, lookups, preferred=preferred, through_number=through_number, neo=neo()
        )
        warning = offline_warning(chosen)
        if chosen.device is None and lookups is not None:
            # Typed rather than picked: the list may know it after all (or not at all).
            chosen, unknown, _ = check_device(ctx, lookups, chosen.id, wait=0.5)
            warning = unknown or offline_warning(chosen)
        warning = warning or _mobile_on_neo(chosen, neo)
        if warning and not confirm_offline(ctx, prompter, warning, can_pick_another=True):
            chosen, preferred = None, None
    return chosen


def _mobile_on_neo(chosen: ChosenDevice, neo: Callable[[], bool]) -> str | None:
    if chosen.device is None or not not_on_neo(chosen.device) or not neo():
        return None
    return (
        f"{chosen.device.alias} ({chosen.id}) is a mobile device: sipgate Neo is reported to "
        'refuse those as the phone that rings first ("Invalid invitable device").'
    )


def check_device(
    ctx: AppContext, lookups: AccountLookups | None, device_id: str, wait: float | None = None
) -> tuple[ChosenDevice, str | None, bool]:
    """What the account says about a device id: the device (if listed), a warning if it is not
    one of the user's, and whether the list was available at all."""
    if lookups is None:
        return ChosenDevice(device_id), None, False
    with ctx.waiting("Checking your phone…"):
        devices = lookups.devices(ctx.lookup_wait if wait is None else wait)
    if not isinstance(devices, list):
        return ChosenDevice(device_id), None, False
    device = next((d for d in devices if d.id == device_id), None)
    if device is None:
        # A marked note: the summary, the result and a refusal's advice then know it too.
        return ChosenDevice(device_id), phone_facts(device_id, devices), True
    return ChosenDevice(device_id, device), None, True


def confirm_offline(
    ctx: AppContext, prompter: Prompter, warning: str, *, can_pick_another: bool
) -> bool:
    """Ask what to do about an offline phone: True = call anyway, False = pick another."""
    ctx.show(_render().notes([warning]))
    options = [Option("Call anyway", True)]
    if can_pick_another:
        options.append(Option("Pick another phone", False))
    options.append(Option("Cancel", None))
    # The default is never "Call anyway": Enter alone must not dial a phone that cannot ring.
    answer = prompter.select("What now?", options, default=False if can_pick_another else None)
    if answer is None:
        raise Cancelled("Cancelled. No call was placed.")
    return bool(answer)


def ask_callee(
    prompter: Prompter,
    region: str,
    *,
    favourites: Mapping[str, str],
    recent: Sequence[Recent],
    on_shown: Callable[[], None] | None = None,
) -> tuple[PhoneNumber, str | None]:
    """Whom to call: any number, a favourite's name, or (Enter) the number called last."""
    names_by_number = {number: name for name, number in favourites.items()}
    # Nothing here may need phonenumbers before the question is on screen: favourites' notes
    # are formatted when shown, recent numbers come formatted from the state file.
    suggestions = [
        Suggestion(name, note=functools.partial(pretty, number, region), also_matches=number)
        for name, number in sorted(favourites.items())
    ] + [
        Suggestion(
            item.pretty,
            note=(f"★ {names_by_number[item.number]} · " if item.number in names_by_number else "")
            + "recent",
            also_matches=item.number,
        )
        for item in recent
    ]
    last = recent[0].number if recent else None
    last_shown = None
    if recent:
        name = names_by_number.get(recent[0].number)
        last_shown = f"{name} · {recent[0].pretty}" if name else recent[0].pretty

    def parse(text: str) -> tuple[PhoneNumber, str | None]:
        if not text.strip() and last:
            return resolve_callee(last, region, favourites)
        return resolve_callee(text, region, favourites)

    def describe(text: str) -> str | None:
        number, name = parse(text)
        if name:
            return f"{name} · {number.describe()}"
        return _known_number(number)

    answer = prompter.text(
        "Whom do you want to call?",
        validate=_validator(parse),
        placeholder="Enter: the last number again" if last else NUMBER_EXAMPLE,
        # With a last number, Enter alone means it: say so beside the empty line, where it
        # stays as the record of the answer.
        live_hint=_live(describe, when_empty=last_shown),
        suggestions=suggestions,
        on_shown=on_shown,
    )
    return parse(answer)


def ask_caller_id(
    ctx: AppContext,
    prompter: Prompter,
    lookups: AccountLookups | None,
    region: str,
    *,
    preferred: str | None,
) -> PhoneNumber | None:
    """Which number the callee sees: one of the account's numbers, or the phone's own."""
    numbers = wait_for(ctx, "Loading your numbers…", lookups.numbers) if lookups else None
    if isinstance(numbers, list) and numbers:
        options = [Option("The phone's own number", OWN_NUMBER)]
        options += [Option(_number_label(number, region), number.e164) for number in numbers]
        options.append(Option("Another number: type it", TYPE_IT))
        chosen = prompter.select(
            "Which number should they see?", options, default=preferred or OWN_NUMBER
        )
        if chosen is OWN_NUMBER:
            return None
        if isinstance(chosen, str):
            return parse_phone_number(chosen, region, what="caller ID")
    elif isinstance(numbers, Degraded):
        ctx.show(_render().info(numbers.hint))

    def parse(text: str) -> PhoneNumber | None:
        if not text.strip():
            return None
        return parse_phone_number(text, region, what="caller ID")

    answer = prompter.text(
        "Which number should they see?",
        validate=_validator(parse),
        default=pretty(preferred, region) if preferred else "",
        placeholder="Enter: the phone's own number",
        live_hint=_live(lambda text: _known_number(parse(text))),
    )
    return parse(answer)


# -- helpers -----------------------------------------------------------------------------------


def _validator(parse: Callable[[str], object]) -> Validator:
    # Only the message: the prompt's error line is one line, and the hint would be cut off.
    def validate(text: str) -> str | None:
        try:
            parse(text)
        except InputError as error:
            return error.message
        return None

    return validate


def _live(describe: Callable[[str], str | None], when_empty: str | None = None) -> LiveHint:
    """What the text typed so far means; silent while it means nothing yet (still typing)."""

    def live(text: str) -> str:
        try:
            meaning = describe(text) if text.strip() else when_empty
        except InputError:
            meaning = None
        return f"→ {meaning}" if meaning else ""

    return live


def _number_label(number: AccountNumber, region: str) -> str:
    extras = [part for part in (number.type and number.type.lower(), number.rings) if part]
    return pretty(number.e164, region) + (f"  ({', '.join(extras)})" if extras else "")


def _render() -> ModuleType:  # imported when first needed: Rich is heavy
    from sipgate_tui import render

    return render


def _known_number(number: PhoneNumber | None) -> str | None:
    # A number libphonenumber cannot place in any range is most often one still being typed.
    return number.describe() if number is not None and number.kind else None
