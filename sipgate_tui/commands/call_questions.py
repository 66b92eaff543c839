"""The questions of ``sipgate-tui call``: pickers where the account can be read, typed input
(validated as you type) where it cannot, and the warning before dialing an offline phone."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from sipgate_tui.account import AccountNumber, Device
from sipgate_tui.commands.after_dial import phone_facts
from sipgate_tui.context import AppContext
from sipgate_tui.dial_string import DialString
from sipgate_tui.errors import Cancelled, InputError
from sipgate_tui.links import has_dial_string, is_link, read_callee
from sipgate_tui.lookups import AccountLookups, Degraded
from sipgate_tui.numbers import (
    PhoneNumber,
    describe_device,
    looks_like_name,
    parse_device_id,
    parse_phone_number,
    pretty,
    resolve_callee,
)
from sipgate_tui.plan import CalleeContact, ChosenDevice, offline_warning
from sipgate_tui.prompts import LiveHint, Option, Prompter, Suggestion, Validator
from sipgate_tui.settings import Recent

if TYPE_CHECKING:
    # The phonebook and the missed calls are imported where they are loaded: a question
    # about a typed number pays for neither.
    from sipgate_tui.api import SipgateClient
    from sipgate_tui.contacts import Contact, ContactIndex, ContactNumber
    from sipgate_tui.missed import MissedCaller

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
    sources: CalleeSuggestions | None = None,
) -> tuple[Picked, DialString, str | None]:
    """Whom to call: any number, a favourite's or contact's name, a suggestion (contacts,
    favourites, recent numbers and missed calls, from ``sources``), a pasted link, or Enter
    alone: the newest missed call not called back, else the number called last.

    Returns the number, the name it goes by, the contact it was picked from and how it was
    given; the tones to dial after connecting; and the link it was, if one was pasted."""
    if sources is None:
        sources = CalleeSuggestions(region, favourites, recent)
    started = _Started(sources, on_shown)

    def parse(text: str) -> Picked:
        return sources.resolve(text)

    def describe(text: str) -> str | None:
        # While typing, no whole-words scan of the phonebook: Enter reads names.
        number, name, _, _ = sources.resolve(text, by_name=False)
        if name:
            return f"{name} · {number.describe()}"
        return _known_number(number)

    answer = prompter.text(
        "Whom do you want to call?",
        validate=_validator(parse),
        placeholder=LivePlaceholder(sources.placeholder),
        # With a missed call or a last number, Enter alone means it: say so beside the empty
        # line, where it stays as the record of the answer.
        live_hint=_live(describe, when_empty=sources.enter_means),
        suggestions=sources,
        on_shown=started,
    )
    started()  # a scripted prompter may never draw the question
    return parse(answer), *tones_typed(answer, region)


def tones_typed(text: str, region: str) -> tuple[DialString, str | None]:
    """The tones a typed or pasted callee carries after its number (a link's, or
    ``+49 69 71049922,,855#``) and the link it was; nothing for anything else."""
    if not (is_link(text) or has_dial_string(text)):
        return DialString(), None
    read = read_callee(text.strip(), region)
    return read.dial, read.link


# The number, the name it goes by, the contact it came from, and how it was given (plan.py).
Picked = tuple[PhoneNumber, "str | None", "CalleeContact | None", str]


class LivePlaceholder(str):
    """A placeholder that may change while the question is open (the missed calls arrive):
    as a string, what it says when asked; called, what it says now. A prompter that cannot
    redraw (the demo's, a scripted one) simply shows the string."""

    def __new__(cls, say: Callable[[], str]) -> LivePlaceholder:
        placeholder = super().__new__(cls, say())
        placeholder._say = say
        return placeholder

    _say: Callable[[], str]

    def __call__(self) -> str:
        return self._say()


class _Started:
    """Run once: ``on_shown``, then the sources' background loads (after the question is
    drawn, so neither the cache's parsing nor a request delays the first prompt)."""

    def __init__(self, sources: CalleeSuggestions, on_shown: Callable[[], None] | None) -> None:
        self._sources, self._on_shown, self._done = sources, on_shown, False

    def __call__(self) -> None:
        if self._done:
            return
        self._done = True
        if self._on_shown is not None:
            self._on_shown()
        import asyncio

        try:
            # Called while the question is being drawn: the loads start once it is out on
            # the terminal (the next turn of the prompt's loop), so parsing ten thousand
            # contacts does not hold up the first paint.
            asyncio.get_running_loop().call_soon(self._sources.start)
        except RuntimeError:  # no prompt loop (a scripted prompter): start now
            self._sources.start()


class CalleeChoice:
    """What a suggestion of the callee prompt stands for: the number to dial (None: the
    phonebook's number cannot be dialled), the name it goes by, the contact, why not."""

    __slots__ = ("contact", "e164", "name", "raw", "source")

    def __init__(
        self,
        e164: str | None,
        name: str | None,
        *,
        source: str,
        contact: CalleeContact | None = None,
        raw: str = "",
    ) -> None:
        self.e164, self.name, self.source, self.contact, self.raw = e164, name, source, contact, raw


class ContactsLoader:
    """The profile's contacts for the callee prompt, loaded in a background thread once the
    question is drawn: the cache first (before any request); a missing or stale cache is then
    fetched again and saved (atomically: the app ends with ``os._exit``, and a refresh cut
    short that way saves nothing). Any failure leaves the suggestions without contacts."""

    def __init__(
        self,
        ctx: AppContext,
        region: str,
        token_id: str | None,
        client: SipgateClient | None,
    ) -> None:
        import threading

        self._ctx, self._region, self._token_id, self._client = ctx, region, token_id, client
        self.index: ContactIndex | None = None
        self.loaded = threading.Event()  # the cache was read (or there is none)
        self._changed: Callable[[], None] = lambda: None
        self._started = False

    def start(self, changed: Callable[[], None]) -> None:
        """Start loading (once); ``changed`` is called when new contacts are there."""
        import threading

        self._changed = changed
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._load, name="sipgate-tui-contacts", daemon=True).start()

    def wait(self, seconds: float) -> ContactIndex | None:
        """The contacts known now, waiting at most ``seconds`` for the cache to be read."""
        self.loaded.wait(seconds)
        return self.index

    def _load(self) -> None:
        from sipgate_tui import contacts_cache
        from sipgate_tui.contacts import ContactIndex, country_code_of, fetch_contacts

        env, profile = self._ctx.env, self._ctx.options.profile
        cached = None
        try:
            code = country_code_of(self._region)
            if self._token_id is not None:
                cached = contacts_cache.load(env, profile, self._token_id, self._region)
            if cached is not None:
                self.index = ContactIndex(cached.contacts, code)
        except Exception:  # noqa: BLE001 - suggestions must never break the question
            cached = None
        finally:
            self.loaded.set()
        self._changed()
        if self._client is None or self._token_id is None:
            return
        if cached is not None and not cached.is_stale():
            return
        try:
            fetched = fetch_contacts(self._client, self._region)
            self.index = ContactIndex(fetched, code)
            self._changed()
            contacts_cache.save(env, profile, self._token_id, self._region, fetched)
        except Exception:  # noqa: BLE001 - no scope, no network: the question goes on without
            return


class MissedLoader:
    """The missed calls not called back (``missed.not_called_back``), read in a background
    thread once the question is drawn; [] when they cannot be read."""

    def __init__(
        self,
        client: SipgateClient,
        kind: Callable[[], str],
        user_id: Callable[[], str],
        recent: Sequence[Recent],
        region: str,
    ) -> None:
        import threading

        self._client, self._kind, self._user_id = client, kind, user_id
        self._recent, self._region = recent, region
        self.callers: list[MissedCaller] = []
        self.done = threading.Event()
        self._started = False

    def start(self, changed: Callable[[], None]) -> None:
        """Start reading (once); ``changed`` is called when they are there."""
        import threading

        if self._started:
            return
        self._started = True

        def read() -> None:
            from sipgate_tui.missed import missed_calls, not_called_back

            try:
                found = missed_calls(
                    self._client, kind=self._kind(), user_id=self._user_id, region=self._region
                )
                self.callers = not_called_back(
                    found.calls, found.outgoing, self._recent, region=self._region
                )
            except Exception:  # noqa: BLE001 - suggestions must never break the question
                self.callers = []
            finally:
                self.done.set()
            changed()

        threading.Thread(target=read, name="sipgate-tui-missed", daemon=True).start()


SUGGESTION_LIMIT = 12  # shown per keystroke: more than a menu shows, few enough to rank fast
RESOLVE_LIMIT = 200  # looked through to read a picked suggestion's text back
LOAD_WAIT = 2.0  # seconds a keystroke or Enter waits for the cache (or the missed calls)
# Source order on one scale with contacts.RANK_*: at equal rank, missed calls (which lead
# anyway), favourites, recent numbers, then contacts.
MISSED, FAVOURITE, RECENT, CONTACT = 0, 1, 2, 3
SEPARATOR = " · "


class CalleeSuggestions:
    """The callee prompt's :class:`prompts.SuggestionSource`: missed calls not called back
    (leading), favourites, recent numbers and contacts, merged best match first
    (``contacts.RANK_*``, one scale for all four), case and accents folded; and
    :meth:`resolve`, which reads an answer back (a picked suggestion carries its value)."""

    def __init__(
        self,
        region: str,
        favourites: Mapping[str, str],
        recent: Sequence[Recent],
        *,
        contacts: ContactsLoader | None = None,
        missed: MissedLoader | None = None,
    ) -> None:
        self.region, self.favourites, self.recent = region, favourites, recent
        self.contacts, self.missed = contacts, missed
        self._watchers: list[Callable[[], None]] = []
        # The three small indexes, with what they were built from (the missed callers and
        # the contacts that name them): rebuilt when either changed. One tuple, replaced
        # whole: the loads run in other threads.
        self._small: tuple[object, object, list[_Source]] | None = None
        names = {number: name for name, number in favourites.items()}
        # Nothing here may need phonenumbers before the question is on screen: favourites'
        # notes are formatted when shown, recent numbers come formatted from the state file.
        self._static = [
            Suggestion(name, note=functools.partial(pretty, number, region), also_matches=number)
            for name, number in sorted(favourites.items())
        ] + [
            Suggestion(
                item.pretty,
                note=(f"★ {names[item.number]} · " if item.number in names else "") + "recent",
                also_matches=item.number,
            )
            for item in recent
        ]

    # -- the SuggestionSource protocol --

    def start(self) -> None:
        """Start the background loads (the question is on screen)."""
        for loader in (self.contacts, self.missed):
            if loader is not None:
                loader.start(self._changed)

    def watch(self, changed: Callable[[], None]) -> None:
        """See :meth:`prompts.SuggestionSource.watch`."""
        self._watchers.append(changed)

    def __iter__(self) -> Iterator[Suggestion]:
        return iter(self._static)

    def find(self, typed: str, limit: int = SUGGESTION_LIMIT) -> list[Suggestion]:
        """The suggestions for ``typed``, best first: missed calls first, then by rank."""
        query = typed.strip()
        if not query:
            return [*self._missed_suggestions(), *self._static][:limit]
        from sipgate_tui.contacts import RANK_NUMBER_START, fold

        if not any(fold(query)):  # only punctuation: it matches nothing (ranked: everyone)
            return []
        found: list[tuple[tuple[bool, int, int, int], Suggestion]] = []
        for order, index, make in self._indexes():
            for rank, entry in index.ranked(query, limit):
                by_digits = order == CONTACT and rank >= RANK_NUMBER_START
                for suggestion in make(entry):
                    # Digits found one number of a contact: its other numbers are no match.
                    if by_digits and not _holds_digits(suggestion, query, index.country_code):
                        continue
                    found.append(((order != MISSED, rank, order, len(found)), suggestion))
        found.sort(key=lambda item: item[0])
        return _distinct([suggestion for _, suggestion in found], limit)

    # -- reading the answer back --

    def resolve(self, text: str, *, by_name: bool = True) -> Picked:
        """The callee ``text`` means: Enter alone (a missed call, else the last number), a
        suggestion's text (its value), a favourite, a number (named from the contacts when
        one has it), or (``by_name``) a unique contact. Raises InputError."""
        stripped = text.strip()
        if not stripped:
            choice = self._enter_choice(wait=True)
            if choice is not None:
                return self._picked(choice)
            if self.recent:
                return self._named(*resolve_callee(self.recent[0].number, self.region, {}))
        else:
            # A contact's suggestion is "Name · type[ · number]", a missed call's its number:
            # only those texts are looked up again (the live hint asks at every keystroke).
            lead = stripped.split(SEPARATOR)[0]
            offered = (
                self.find(lead, RESOLVE_LIMIT)
                if SEPARATOR in stripped
                else self._missed_suggestions()
            )
            for suggestion in offered:
                if suggestion.text == stripped and isinstance(suggestion.value, CalleeChoice):
                    return self._picked(suggestion.value)
        if is_link(stripped) or has_dial_string(stripped):
            # A pasted link or a number with tones: read by the link rules, named from the
            # favourites or contacts like any number (ask_callee keeps its tones).
            number = read_callee(stripped, self.region).number
            saved = (n for n, e164 in self.favourites.items() if e164 == number.e164)
            favourite = next(saved, None)
            if favourite is not None:
                return number, favourite, None, FAVOURITE_SOURCE
            number, name, contact, source = self._named(number, None)
            return number, name, contact, source if contact or not is_link(stripped) else "link"
        try:
            number, name = resolve_callee(stripped, self.region, self.favourites)
        except InputError:
            index = self._contacts_index() if by_name else None
            if index is None or not looks_like_name(stripped):
                raise
            return contact_by_name(index, stripped, self.region, favourites=self.favourites)
        if name is not None:
            return number, name, None, FAVOURITE_SOURCE
        return self._named(number, None)

    def name_for(self, e164: str) -> tuple[str | None, CalleeContact | None]:
        """A contact's name for a number ("Ada Lovelace (mobile)") from the contacts loaded
        (never waiting, never a request), or (None, None)."""
        index = self.contacts.index if self.contacts is not None else None
        found = index.by_number(e164) if index is not None else []
        if not found:
            return None, None
        contact, number = found[0]
        return contact_label(contact.name, number.type), callee_contact(contact, number)

    def placeholder(self) -> str:
        """What the empty line says Enter does."""
        choice = self._enter_choice(wait=False)
        if choice is not None:
            return f"Enter: call back {choice.name or pretty(choice.e164 or '', self.region)}"
        return "Enter: the last number again" if self.recent else NUMBER_EXAMPLE

    def enter_means(self) -> str | None:
        """Beside the empty line: whom Enter alone calls."""
        choice = self._enter_choice(wait=False)
        if choice is not None:
            return f"{choice.name or pretty(choice.e164 or '', self.region)} · {choice.raw}"
        if not self.recent:
            return None
        name = next(
            (n for n, saved in self.favourites.items() if saved == self.recent[0].number), None
        )
        return f"{name} · {self.recent[0].pretty}" if name else self.recent[0].pretty

    # -- helpers --

    def _contacts_index(self) -> ContactIndex | None:
        """The contacts, waiting (briefly) for the cache to be read; started if need be."""
        if self.contacts is None:
            return None
        self.start()  # a key typed before the loads began must not wait for nothing
        return self.contacts.wait(LOAD_WAIT)

    def _changed(self) -> None:
        # Called from the loaders' threads: a watcher that fails (a question ending just
        # then) must not print a traceback over the next question, nor starve the others.
        for changed in list(self._watchers):
            with contextlib.suppress(Exception):
                changed()

    def _named(self, number: PhoneNumber, name: str | None) -> Picked:
        found, contact = self.name_for(number.e164)
        return number, name or found, contact, "contact number" if contact else "number"

    def _picked(self, choice: CalleeChoice) -> Picked:
        if choice.e164 is None:
            raise InputError(
                "invalid-number",
                f"{choice.name}: '{choice.raw}' is no number that can be dialled.",
                hint="Pick another of the contact's numbers, or type the number.",
            )
        number = parse_phone_number(choice.e164, self.region, what="callee")
        return number, choice.name, choice.contact, choice.source

    def _enter_choice(self, *, wait: bool) -> CalleeChoice | None:
        if self.missed is None:
            return None
        if wait:
            self.start()  # a key typed before the loads began must not wait for nothing
            self.missed.done.wait(LOAD_WAIT)
        callers = self.missed.callers
        if not callers or callers[0].number is None:
            return None
        return self._missed_choice(callers[0])

    def _missed_choice(self, caller: MissedCaller) -> CalleeChoice:
        import datetime

        from sipgate_tui.missed import ago_words

        assert caller.number is not None
        name, contact = self.name_for(caller.number)
        ago = ago_words(caller.newest.when, datetime.datetime.now(datetime.timezone.utc))
        times = f" ×{caller.count}" if caller.count > 1 else ""
        what = "missed call" + times + (f" · {ago}" if ago else "")
        return CalleeChoice(
            caller.number, name or caller.name, source="missed call", contact=contact, raw=what
        )

    def _missed_suggestions(self) -> list[Suggestion]:
        callers = self.missed.callers if self.missed is not None else []
        return [self._missed_suggestion(caller) for caller in callers if caller.number]

    def _missed_suggestion(self, caller: MissedCaller) -> Suggestion:
        choice = self._missed_choice(caller)
        assert choice.e164 is not None
        note = choice.raw + (f" · {choice.name}" if choice.name else "")
        return Suggestion(pretty(choice.e164, self.region), note=note, value=choice)

    def _indexes(self) -> list[_Source]:
        """The four sources as indexes, each with how its entries become suggestions."""
        index = self._contacts_index()
        callers = self.missed.callers if self.missed is not None else []
        small = self._small
        if small is None or small[0] is not callers or small[1] is not index:
            small = self._small = (callers, index, self._small_indexes(callers))
        if index is None:
            return small[2]
        return [*small[2], (CONTACT, index, self._contact_suggestions)]

    def _small_indexes(self, callers: list[MissedCaller]) -> list[_Source]:
        from sipgate_tui.contacts import Contact, ContactIndex, ContactNumber, country_code_of

        code = country_code_of(self.region)
        by_text = {suggestion.text: suggestion for suggestion in self._static}
        favourites = [
            Contact(name, name, "", "", (ContactNumber(number, "", None),))
            for name, number in self.favourites.items()
        ]
        recent = [
            Contact(item.pretty, "", "", "", (ContactNumber(item.number, "", item.number),))
            for item in self.recent
        ]
        missed = {caller.number: caller for caller in callers if caller.number}
        missed_entries = [
            Contact(
                number,
                caller.name or self.name_for(number)[0] or "",
                "",
                "",
                (ContactNumber(number, "", number),),
            )
            for number, caller in missed.items()
        ]

        def static(entry: Contact) -> list[Suggestion]:
            return [by_text[entry.id]] if entry.id in by_text else []

        def missed_one(entry: Contact) -> list[Suggestion]:
            return [self._missed_suggestion(missed[entry.id])]

        return [
            (MISSED, ContactIndex(missed_entries, code), missed_one),
            (FAVOURITE, ContactIndex(favourites, code), static),
            (RECENT, ContactIndex(recent, code), static),
        ]

    def _contact_suggestions(self, contact: Contact) -> list[Suggestion]:
        """One suggestion per number, labelled with its type, carrying its value."""
        labels = [
            contact_label(contact.name, number.type, plain=True) for number in contact.numbers
        ]
        shown = []
        for number, label in zip(contact.numbers, labels, strict=True):
            text = label if labels.count(label) == 1 else label + SEPARATOR + number.raw
            choice = CalleeChoice(
                number.e164,
                contact_label(contact.name, number.type),
                source="contact",
                contact=callee_contact(contact, number),
                raw=number.raw,
            )
            if number.e164 is None:
                text = text if text.endswith(number.raw) else text + SEPARATOR + number.raw
                note: str | Callable[[], str] = "cannot be dialled"
            else:
                note = _contact_note(number.e164, contact.organization, contact.name)
            shown.append(Suggestion(text, note=note, value=choice))
        return shown


FAVOURITE_SOURCE = "favourite"
# One source of suggestions: its order, its index, how an entry becomes suggestions.
_Source = tuple[int, "ContactIndex", Callable[["Contact"], list[Suggestion]]]


def _holds_digits(suggestion: Suggestion, query: str, country_code: str | None) -> bool:
    """Whether the contact number a suggestion stands for holds the typed digits (as typed,
    without "00", or with the trunk 0 as the country code, as ``ContactIndex`` matches)."""
    from sipgate_tui.numbers import normalise_digits

    choice = suggestion.value
    if not isinstance(choice, CalleeChoice):
        return True
    typed = "".join(ch for ch in normalise_digits(query) if ch.isdigit())
    variants = {typed}
    if typed.startswith("00"):
        variants.add(typed[2:])
    elif typed.startswith("0") and country_code:
        variants.add(country_code + typed[1:])
    raw = "".join(ch for ch in normalise_digits(choice.raw) if ch.isdigit())
    held = raw + " " + (choice.e164 or "")
    return any(variant and variant in held for variant in variants)


def _contact_note(e164: str, organization: str, name: str) -> Callable[[], str]:
    def note() -> str:
        from sipgate_tui.contacts import pretty_number

        extra = f"{SEPARATOR}{organization}" if organization and organization != name else ""
        return pretty_number(e164) + extra

    return note


def _distinct(suggestions: list[Suggestion], limit: int) -> list[Suggestion]:
    """The first of each text; a text that would stand for another number gets its number
    (two contacts of the same name), so a picked text always means one number."""
    taken: dict[str, object] = {}
    out = []
    for suggestion in suggestions:
        text = suggestion.text
        value = suggestion.value
        e164 = value.e164 if isinstance(value, CalleeChoice) else None
        if text in taken and taken[text] != e164 and isinstance(value, CalleeChoice):
            text = text + SEPARATOR + (value.raw or "")
            suggestion = Suggestion(text, suggestion.note, suggestion.also_matches, value)
        if text in taken:
            continue
        taken[text] = e164
        out.append(suggestion)
        if len(out) >= limit:
            break
    return out


def contact_label(name: str, number_type: str, *, plain: bool = False) -> str:
    """How a contact's number is named: "Ada Lovelace (mobile)" (``plain``: "Ada Lovelace ·
    mobile", the suggestion's text); the name alone when the number has no type."""
    if not number_type:
        return name
    return f"{name}{SEPARATOR}{number_type}" if plain else f"{name} ({number_type})"


def callee_contact(contact: Contact, number: ContactNumber) -> CalleeContact:
    """The plan's record of the contact a number was chosen from."""
    return CalleeContact(contact.id, contact.name, number.type, contact.phonebook)


# -- a callee given by name (`call NAME`, or a name typed and not picked) ----------------------


def name_candidates(index: ContactIndex, query: str) -> list[tuple[Contact, ContactNumber]]:
    """The numbers a name may mean without anyone confirming: every number of the contacts
    whose name holds each word of ``query`` as a whole word (case and accents folded). When
    none does and the last word is a number's type ("ada lovelace mobile", "grace work"),
    the numbers of that type of the contacts the other words name."""
    from sipgate_tui.contacts import fold

    found = [(c, n) for c in index.whole_words(query) for n in c.numbers]
    words = query.split()
    if found or len(words) < 2:
        return found
    wanted = set(fold(words[-1]))
    return [
        (contact, number)
        for contact in index.whole_words(" ".join(words[:-1]))
        for number in contact.numbers
        if wanted & set(fold(number.type)[0].split(" ") + fold(number.type)[1].split(" "))
    ]


def contact_by_name(
    index: ContactIndex,
    query: str,
    region: str,
    *,
    favourites: Mapping[str, str] | None = None,
) -> Picked:
    """The one contact number ``query`` names (see :func:`name_candidates`), or a usage
    error: ``unknown-name`` (nobody), ``contact-without-number`` (nothing to dial),
    ``ambiguous-name`` (several, listed). No partial or fuzzy match counts here: nobody
    confirms it. ``favourites``: named in the message when nobody matches."""
    found = name_candidates(index, query)
    usable = [(c, n) for c, n in found if n.e164 is not None]
    shown = query.strip()[:40]
    if len(usable) == 1:
        return _picked_number(*usable[0], region)
    named = index.whole_words(query) if not found else []
    if named:  # contacts of that name, but without any number
        raise InputError(
            "contact-without-number",
            f"{', '.join(dict.fromkeys(c.name for c in named))}: no number in the phonebook.",
            hint="Give the number, or add it in the sipgate web app's contacts.",
        )
    if not found:
        known = ", ".join(sorted(favourites or {})) or "none yet"
        raise InputError(
            "unknown-name",
            f"'{shown}' is neither a number nor one of your favourites ({known}), nor the name "
            "of a contact.",
            hint="`sipgate-tui contacts` lists the contacts (a name counts when each of its "
            "words is a whole word of the contact's name); or give the number.",
        )
    if not usable:
        names = ", ".join(dict.fromkeys(c.name for c, _ in found))
        raise InputError(
            "contact-without-number",
            f"{names}: no number that can be dialled ("
            + ", ".join(f"'{n.raw}'" for _, n in found[:4])
            + ").",
            hint="Give the number, or correct it in the sipgate web app's contacts.",
        )
    listed = "; ".join(_candidate(c, n) for c, n in usable[:8])
    more = f" and {len(usable) - 8} more" if len(usable) > 8 else ""
    raise InputError(
        "ambiguous-name",
        f"'{shown}' names {len(usable)} numbers: {listed}{more}. Nothing was sent.",
        hint="Say which: add the number's type (e.g. 'Ada Lovelace mobile'), write more of "
        "the name, or give the number.",
    )


def _candidate(contact: Contact, number: ContactNumber) -> str:
    from sipgate_tui.contacts import pretty_number

    assert number.e164 is not None
    return f"{contact_label(contact.name, number.type)} {pretty_number(number.e164)}"


def choose_by_name(prompter: Prompter, index: ContactIndex, query: str, region: str) -> Picked:
    """In a terminal: the one number a name names (whole words), else a choice among the
    numbers of the contacts it names or matches in part (the pick is the confirmation);
    raises the usage error of :func:`contact_by_name` when nothing matches at all."""
    found = name_candidates(index, query)
    strict = bool(found)
    if not found:
        found = [(c, n) for c in index.search(query, SUGGESTION_LIMIT) for n in c.numbers]
    usable = [(c, n) for c, n in found if n.e164 is not None]
    if not usable:
        return contact_by_name(index, query, region)  # raises: nobody, or nothing to dial
    if strict and len(usable) == 1:
        return _picked_number(*usable[0], region)
    # A partial match is offered even alone: picking it is the confirmation.
    options = [Option(_candidate(c, n), (c, n)) for c, n in usable]
    chosen = prompter.select(f"Which number for '{query.strip()[:40]}'?", options)
    assert isinstance(chosen, tuple)
    return _picked_number(chosen[0], chosen[1], region)


def _picked_number(contact: Contact, number: ContactNumber, region: str) -> Picked:
    assert number.e164 is not None
    e164 = parse_phone_number(number.e164, region, what="callee")
    return (
        e164,
        contact_label(contact.name, number.type),
        callee_contact(contact, number),
        "contact",
    )


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


def _live(
    describe: Callable[[str], str | None],
    when_empty: str | Callable[[], str | None] | None = None,
) -> LiveHint:
    """What the text typed so far means; silent while it means nothing yet (still typing).
    ``when_empty`` (a function: asked at every redraw) is what an empty line means."""

    def live(text: str) -> str:
        try:
            if text.strip():
                meaning = describe(text)
            else:
                meaning = when_empty() if callable(when_empty) else when_empty
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
