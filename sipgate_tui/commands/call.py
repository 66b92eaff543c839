"""``sipgate-tui call``: where a call is assembled, placed and followed.

:func:`run` reads as the phases of one call over a :class:`CallDraft` (what is known so far):
settings, draft from the options, connect, ask what is missing, confirm, dial, remember,
report, follow. The questions live in ``call_questions``; what runs beside the POST and after
it (the look at the calls, the device check, the live view) in ``after_dial``.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from sipgate_tui.account_type import AccountKind, account_kind, remember_type
from sipgate_tui.api import ApiError, Timeouts, plain_headers
from sipgate_tui.commands.after_dial import (
    CallsBefore,
    DeviceCheck,
    follow_call,
    show_tones_by_hand,
)
from sipgate_tui.commands.common import Session, open_session, timeouts_from_option
from sipgate_tui.commands.dial_route import (
    NEO,
    AccountTypeProbe,
    Dialled,
    FailedOnNeo,
    PickedChannel,
    dial,
    live_view_for,
    no_caller_on_neo,
    pick_channel,
)
from sipgate_tui.credentials import Credentials, from_environment, profile_command
from sipgate_tui.dial_string import (
    PAUSE_SECONDS,
    DialString,
    check_pause_time,
    parse_dial_string,
)
from sipgate_tui.errors import AppError, Cancelled, ExitCode, InputError
from sipgate_tui.lookups import AccountLookups
from sipgate_tui.numbers import (
    PhoneNumber,
    favourite_named,
    looks_like_device_id,
    looks_like_name,
    parse_device_id,
    parse_phone_number,
    parse_region,
    resolve_callee,
)
from sipgate_tui.options import DEFAULT_REGION
from sipgate_tui.plan import CalleeContact, CallPlan, ChosenDevice, offline_warning
from sipgate_tui.settings import ProfileSettings, ProfileState, SettingsStore
from sipgate_tui.user_id import UserId

if TYPE_CHECKING:
    from sipgate_tui.commands.call_questions import CalleeSuggestions
    from sipgate_tui.contacts import Contact
    from sipgate_tui.context import AppContext
    from sipgate_tui.prompts import Prompter

# Imported where they are needed, so a one-shot dial does not pay for the questions or the
# error tables (measured with benchmarks/run.py): render (Rich), call_questions, problems.

NO_CALL = "Cancelled. No call was placed."


class CallOptions(NamedTuple):
    """What the user gave on the command line; None means 'not given'."""

    callee: str | None = None
    device: str | None = None
    caller: str | None = None
    caller_id: str | None = None
    region: str | None = None
    yes: bool = False
    dry_run: bool = False
    json: bool = False
    timeout: float | None = None
    history: bool = True
    wait: bool = True  # follow the call live after the dial (terminal only; --no-wait: off)
    channel: str | None = None  # sipgate Neo: the channel the call goes through
    dtmf: str | None = None  # --dtmf: keypad tones to dial once connected
    # --from-desktop: opened by the desktop link handler; the link is untrusted input
    from_desktop: bool = False


class CallSetup(NamedTuple):
    """What a call starts from: the profile's settings and state, and whether to ask."""

    store: SettingsStore
    settings: ProfileSettings
    state: ProfileState
    region: str
    timeouts: Timeouts
    interactive: bool
    remember: bool  # add the number to the recent numbers afterwards
    notes: tuple[str, ...] = ()


class CallDraft(NamedTuple):
    """What is known about the call so far; the phases fill in the rest."""

    device: ChosenDevice | None = None  # the phone that rings first
    callee: PhoneNumber | None = None
    callee_name: str | None = None  # the name it goes by (a favourite's, a contact's)
    callee_contact: CalleeContact | None = None  # the contact it was chosen from
    callee_source: str = "number"  # number, favourite, contact, contact number, missed call
    callee_query: str | None = None  # CALLEE was a name, looked up among the contacts later
    caller_id: PhoneNumber | None = None  # None: the phone's own number is shown
    ring_number: PhoneNumber | None = None  # --caller: a number that rings instead
    ask_caller_id: bool = False  # whether the caller ID is still a question
    notes: tuple[str, ...] = ()
    dial: DialString = DialString()  # tones after connecting, or --dtmf
    link: str | None = None  # the link CALLEE was, for showing
    tone_pause: float = PAUSE_SECONDS  # seconds per "," (the tone-pause setting)

    def plan(self) -> CallPlan:
        """The call to show and send; only once the device and the callee are known."""
        assert self.device is not None and self.callee is not None, "asked or checked before"
        numbers = (self.ring_number, self.callee, self.caller_id)
        return CallPlan(
            device_id=self.device.id,
            callee=self.callee,
            ring_number=self.ring_number,
            caller_id=self.caller_id,
            callee_name=self.callee_name,
            device_name=self.device.device.alias if self.device.device else None,
            notes=self.notes + tuple(note for n in numbers if n for note in n.notes),
            callee_contact=self.callee_contact,
            callee_source=self.callee_source,
            dial=self.dial,
            link=self.link,
            tone_pause=self.tone_pause,
        )


def run(options: CallOptions, ctx: AppContext) -> ExitCode:
    """Place one call (or show it, with ``--dry-run``). Raises AppError on any failure.

    Values come from the options, else from the profile's config, else from questions.
    """
    setup = _settings(options, ctx)
    if options.from_desktop:  # a link from the desktop is untrusted input (desktop_call)
        from sipgate_tui.commands import desktop_call

        asked_yes = options.yes
        options = desktop_call.admit(options, ctx, interactive=setup.interactive)
        if asked_yes:
            setup = setup._replace(notes=(*setup.notes, desktop_call.YES_IGNORED))
    draft = _draft_from_options(options, setup)
    if options.from_desktop:
        desktop_call.refuse_premium_rate(draft.callee)
        desktop_call.introduce(ctx, draft.callee, draft.dial)
    if not setup.interactive:
        _check_unattended(options, draft, ctx)
    if options.dry_run:  # needs no credentials (it may show the environment's token id)
        if draft.callee_query is not None:
            draft = _callee_by_name(ctx, setup, draft, None)
        if _will_ask(options, setup, draft):
            draft = _ask_missing(ctx, ctx.make_prompter(), setup, draft, None)
        _show_dry_run(draft.plan(), ctx, options, setup)
        return ExitCode.OK
    # Credentials before any question, so nobody answers three prompts only to learn that
    # nothing can be sent.
    with open_session(ctx, setup.timeouts) as session:
        _call(options, ctx, setup, draft, session)
    return ExitCode.OK


def _call(
    options: CallOptions, ctx: AppContext, setup: CallSetup, draft: CallDraft, session: Session
) -> None:
    """Connect, ask, confirm, dial, remember, report, follow."""
    user = UserId(session.client, setup.state.user_id_for(session.token_id))
    kind = _account_kind(ctx, setup, session.token_id)
    if kind.neo and draft.ring_number is not None:
        raise no_caller_on_neo()
    if draft.callee_query is not None:
        draft = _callee_by_name(ctx, setup, draft, session)
    asking = _will_ask(options, setup, draft)
    prompter = ctx.make_prompter() if asking or not options.yes else None
    lookups = detection = None
    if asking:
        assert prompter is not None
        # The account's lists (and, when unknown, its type) load while the user reads the
        # first question.
        detection = AccountTypeProbe(session.client, user) if kind.type == "unknown" else None
        lookups = _start_lookups(session, user, kind, detection, setup.store)
        sources = _callee_sources(ctx, setup, draft, session, user, kind, detection)
        draft = _ask_missing(
            ctx, prompter, setup, draft, lookups, neo=_is_neo(kind, detection), sources=sources
        )
    kind = detection.found(kind) if detection is not None else kind
    plan = draft.plan()
    channel, plan = _channel_for(ctx, options, setup, session, user, plan, prompter, kind)
    # Following the call needs the calls that exist before the dial; fetched while the
    # summary is on screen (or alongside the POST), it adds no wait.
    follow = _may_follow(options, ctx) and live_view_for(setup.settings.live_view, kind.type)
    before = CallsBefore(session.client) if follow else None
    if prompter is not None and not options.yes:
        plan = _confirm(ctx, prompter, plan, draft, lookups)
        if before is not None:
            before.head_start()
    # Scripts get the offline check too, but alongside the POST: it never delays it.
    check = None
    if not asking and plan.ring_number is None:
        check = DeviceCheck(session.client, user, plan.device_id, all_types=kind.neo)
    summary = prompter is not None and not options.yes
    dialled = _dial(ctx, session, plan, kind, channel, setup, say_at_once=summary)
    plan = plan.with_notes(*dialled.notes, check.warning() if check else None)
    learnt = dialled.learnt_type or (kind.type if detection and not kind.forced else None)
    plan = _remember(setup, session, plan, user, learnt)
    _report(ctx, options, plan, dialled, learnt or kind.type, before)
    if before is not None and live_view_for(setup.settings.live_view, dialled.account_type):
        follow_call(
            ctx,
            session.client,
            plan,
            dialled.call_id,
            before,
            device=draft.device,
            check=check,
            pause_seconds=plan.tone_pause,
        )
    elif _may_follow(options, ctx) and setup.settings.live_view != "off":
        from sipgate_tui import render

        ctx.show(render.no_live_view(NEO))
        show_tones_by_hand(ctx, plan, f"sipgate-tui does not follow calls on {NEO}")
    elif not options.json:
        show_tones_by_hand(ctx, plan, _why_not_followed(options, ctx, setup))


def _why_not_followed(options: CallOptions, ctx: AppContext, setup: CallSetup) -> str:
    """Why the call is not followed (so the tones are the user's to type), in words."""
    if not options.wait:
        return "--no-wait: the call is not followed"
    if not ctx.terminal:
        return "no terminal to follow the call in"
    return "the live view is off (the live-view setting)"


def _channel_for(
    ctx: AppContext,
    options: CallOptions,
    setup: CallSetup,
    session: Session,
    user: UserId,
    plan: CallPlan,
    prompter: Prompter | None,
    kind: AccountKind,
) -> tuple[Callable[[], PickedChannel], CallPlan]:
    """How the Neo request finds its channel, and the plan with it: chosen now on a known
    Neo account (so the question, the channel and its notes come before the summary), looked
    up only if sipgate turns out to need it otherwise."""

    def pick() -> PickedChannel:
        return pick_channel(
            session,
            user,
            plan.device_id,
            given=options.channel,
            prompter=prompter if setup.interactive else None,
            why_no_prompts=ctx.why_no_prompts(json_mode=options.json),
        )

    if kind.type == "classic" and options.channel:
        plan = plan.with_notes(f"--channel is for {NEO} accounts only; not used here.")
    if not kind.neo:
        return pick, plan
    with _cancel_means_no_call():
        picked = pick()
    plan = plan._replace(channel=picked.label).with_notes(picked.note)
    return (lambda: PickedChannel(picked.id, picked.label)), plan


# -- settings and the draft ----------------------------------------------------------------


def _settings(options: CallOptions, ctx: AppContext) -> CallSetup:
    store = ctx.make_settings()
    settings = store.load()
    # The built-in DE needs no check (and no phonenumbers import before the first question).
    region = settings.region or DEFAULT_REGION
    if options.region:
        with _naming("--region", options.region, None):
            region = parse_region(options.region)
    timeouts = timeouts_from_option(options.timeout)
    interactive = ctx.can_prompt(json_mode=options.json)
    notes: tuple[str, ...] = ()
    remember = options.history and settings.history
    try:
        state = store.load_state()
    except AppError as error:  # a damaged file is reported once and then left alone
        state, remember, notes = ProfileState(), False, (error.message,)
    if not remember:  # history off: what was remembered is not offered either
        state = state._replace(recent=(), last_device=None)
    return CallSetup(store, settings, state, region, timeouts, interactive, remember, notes)


def _draft_from_options(options: CallOptions, setup: CallSetup) -> CallDraft:
    region, settings = setup.region, setup.settings
    notes = setup.notes
    callee_text = options.callee
    with _naming("--device", options.device, callee_text):
        device = parse_device_id(options.device) if options.device is not None else None
    if device is None and not setup.interactive and settings.default_device:
        device = settings.default_device
        notes += (f"The phone is {device}, the default-device in {setup.store.config_path}.",)
    # The options before the callee: a number with spaces in an option, unquoted, leaves its
    # first word in the option and hands the rest to CALLEE (`--caller-id 0211 55500010`).
    # The option's own error names it and says to quote; the callee's would blame a number
    # nobody typed.
    with _naming("--caller", options.caller, callee_text):
        ring_number = _parse_ring_number(options.caller, region)
    with _naming("--caller-id", options.caller_id, callee_text):
        caller_id = _parse_caller_id(options.caller_id, region)
    callee_query = callee_name = callee = link = None
    dial = DialString()
    source = "number"
    if callee_text and _is_link_or_dial_string(callee_text):
        # A link (tel:, callto:, sip:) or a number with tones after it: never a name, and
        # read by its own rules; the number itself is checked as a typed one is.
        from sipgate_tui.links import read_callee

        with _naming("CALLEE", callee_text, None):
            read = read_callee(callee_text, region)
        callee, dial, link = read.number, read.dial, read.link
        source = "link" if read.scheme else "number"
        callee_name = next(
            (n for n, saved in settings.favourites.items() if saved == callee.e164), None
        )
    elif callee_text and looks_like_name(callee_text):
        # A favourite first; any other name is looked up among the contacts once connected
        # (a number never is: a one-shot dial by number reads no contacts).
        callee_name = favourite_named(callee_text, settings.favourites)
        callee_query = None if callee_name else callee_text.strip()
    with _naming("CALLEE", callee_text, None):
        if callee_text and callee_query is None and callee is None:
            callee, callee_name = resolve_callee(callee_text, region, settings.favourites)
            source = "favourite" if callee_name else "number"
    if options.dtmf is not None:
        if dial:
            raise _tones_twice(dial)
        dial = parse_dial_string(options.dtmf, what="--dtmf")
    check_pause_time(dial, settings.tone_pause, "The tones to dial")
    ask_caller_id = (
        setup.interactive
        and options.caller_id is None
        and (device is None or (callee is None and callee_query is None))
    )
    if options.caller_id is None and not ask_caller_id and settings.default_caller_id:
        caller_id = parse_phone_number(settings.default_caller_id, region, what="caller ID")
    return CallDraft(
        device=ChosenDevice(device) if device is not None else None,
        callee=callee,
        callee_name=callee_name,
        callee_source=source,
        callee_query=callee_query,
        caller_id=caller_id,
        ring_number=ring_number,
        ask_caller_id=ask_caller_id,
        notes=notes,
        dial=dial,
        link=link,
        tone_pause=settings.tone_pause,
    )


def _is_link_or_dial_string(text: str) -> bool:
    """Whether CALLEE is a link or a number with tones after it (``links`` decides). Both
    need a ":", "," or ";", so a plain number never imports ``links`` (its patterns cost a
    one-shot dial a few ms: benchmarks/run.py)."""
    if not any(mark in text for mark in ":,;"):
        return False
    from sipgate_tui.links import has_dial_string, is_link

    return is_link(text) or has_dial_string(text)


def _tones_twice(dial: DialString) -> InputError:
    """The callee carries tones and --dtmf gives more: which to send is not ours to guess."""
    return InputError(
        "conflicting-options",
        f"The callee already carries tones to dial ({dial.text}), and --dtmf gives more: "
        "give them in one place.",
        hint="Drop --dtmf, or give the number without the tones after it.",
    )


def _check_unattended(options: CallOptions, draft: CallDraft, ctx: AppContext) -> None:
    """Without a terminal every value must be given, and a real call needs --yes."""
    reason = ctx.why_no_prompts(json_mode=options.json)
    _require_values(draft, reason=reason)
    if not (options.yes or options.dry_run):
        raise InputError(
            "confirmation-required",
            f"Not placing a call without confirmation: {reason}.",
            hint="A call costs money, so scripts must say so: add --yes (or -y). "
            "Use --dry-run to see the request without sending it.",
        )


def _will_ask(options: CallOptions, setup: CallSetup, draft: CallDraft) -> bool:
    """Whether anything is asked before the summary: a missing value, or (without --yes)
    the checks of a given phone that come with the questions."""
    missing = draft.device is None or draft.callee is None
    return setup.interactive and (missing or not options.yes)


def _is_neo(kind: AccountKind, detection: AccountTypeProbe | None) -> Callable[[], bool]:
    """Whether the account is Neo: known now, or (asked later) told by the probes."""
    if detection is None:
        return lambda: kind.neo
    return lambda: detection.found(kind).neo


def _account_kind(ctx: AppContext, setup: CallSetup, token_id: str | None) -> AccountKind:
    remembered = setup.state.account_type_for(token_id) if token_id else None
    return account_kind(ctx.options.account_type, setup.settings.account_type, remembered, ctx.env)


def _may_follow(options: CallOptions, ctx: AppContext) -> bool:
    return options.wait and not options.json and ctx.terminal


# -- connect and ask -------------------------------------------------------------------------


def _start_lookups(
    session: Session,
    user: UserId,
    kind: AccountKind,
    detection: AccountTypeProbe | None,
    store: SettingsStore,
) -> AccountLookups:
    return AccountLookups(
        session.client,
        user,
        from_environment=session.found.source == "env",
        store=store,  # the device list is kept for shell completion
        # type=all only once the account is known to be Neo: known now, or told by the
        # probes that run alongside (the device list waits for them, briefly).
        all_device_types=_is_neo(kind, detection),
        also_start=detection.start if detection is not None else None,
    )


def _ask_missing(
    ctx: AppContext,
    prompter: Prompter,
    setup: CallSetup,
    draft: CallDraft,
    lookups: AccountLookups | None,
    *,
    neo: Callable[[], bool] = lambda: False,
    sources: CalleeSuggestions | None = None,
) -> CallDraft:
    """Ask for what the command line left open; warn before an offline or unknown phone
    (``neo``: mark the phones sipgate Neo is reported not to ring first; ``sources``: the
    callee prompt's suggestions, else favourites, recent numbers and cached contacts)."""
    from sipgate_tui.commands import call_questions as questions

    settings, region = setup.settings, setup.region
    with _cancel_means_no_call():
        # Whom to call comes first: it needs nothing from the account, so it appears at
        # once, and the account's lists load (starting when it is on screen) meanwhile.
        if draft.callee is None:
            (callee, name, contact, source), dial, link = questions.ask_callee(
                prompter,
                region,
                favourites=settings.favourites,
                recent=setup.state.recent,
                on_shown=lookups.start if lookups is not None else None,
                sources=sources or _callee_sources(ctx, setup, draft, None, None, None, None),
            )
            if dial and draft.dial:  # tones in the answer and --dtmf
                raise _tones_twice(dial)
            check_pause_time(dial, settings.tone_pause, "The tones to dial")
            draft = draft._replace(
                callee=callee,
                callee_name=name,
                callee_contact=contact,
                callee_source=source,
                dial=dial or draft.dial,
                link=link,
            )
        device = questions.settle_device(
            ctx,
            prompter,
            lookups,
            draft.device,
            preferred=settings.default_device or setup.state.last_device,
            through_number=draft.ring_number is not None,
            neo=neo,
        )
        draft = draft._replace(device=device)
        if draft.ask_caller_id:
            caller_id = questions.ask_caller_id(
                ctx, prompter, lookups, region, preferred=settings.default_caller_id
            )
            draft = draft._replace(caller_id=caller_id)
    return draft


def _callee_sources(
    ctx: AppContext,
    setup: CallSetup,
    draft: CallDraft,
    session: Session | None,
    user: UserId | None,
    kind: AccountKind | None,
    detection: AccountTypeProbe | None,
) -> CalleeSuggestions | None:
    """The callee prompt's suggestions: favourites and recent numbers at once; the cached
    contacts and (connected) the missed calls loaded once the question is drawn, a stale or
    missing cache fetched again meanwhile. None when the callee is known already."""
    if draft.callee is not None:
        return None
    from sipgate_tui.commands import call_questions as questions

    token_id = session.token_id if session is not None else _known_token_id(ctx, setup)
    client = session.client if session is not None else None
    contacts = questions.ContactsLoader(ctx, setup.region, token_id, client)
    missed = None
    if session is not None and user is not None and kind is not None:

        def kind_type() -> str:  # the probes may have told by now (asked in the thread)
            return detection.found(kind).type if detection is not None else kind.type

        missed = questions.MissedLoader(
            session.client, kind_type, user.get, setup.state.recent, setup.region
        )
    favourites, recent = setup.settings.favourites, setup.state.recent
    return questions.CalleeSuggestions(
        setup.region, favourites, recent, contacts=contacts, missed=missed
    )


def _known_token_id(ctx: AppContext, setup: CallSetup) -> str | None:
    """Without a session (a dry run): the environment's token id, else the one the state
    file last remembered; the cache must have been fetched with it (never the keyring)."""
    credentials = _environment_credentials(ctx)
    return credentials.token_id if credentials else setup.state.account_type_token_id


def _callee_by_name(
    ctx: AppContext, setup: CallSetup, draft: CallDraft, session: Session | None
) -> CallDraft:
    """CALLEE was a name and no favourite's: the contact it names. Connected: the contacts
    as ``contacts`` has them (the cache when fresh, else fetched once, with a spinner, and
    kept); a dry run reads the cache only. In a terminal a name naming several numbers is a
    choice; without one only a unique match on whole name words counts (else a usage error
    listing the candidates, and nothing is sent)."""
    from sipgate_tui.commands import call_questions as questions
    from sipgate_tui.contacts import ContactIndex, country_code_of

    assert draft.callee_query is not None
    query, region = draft.callee_query, setup.region
    notes: list[str] = []
    if session is None:
        contacts = _cached_contacts(ctx, setup, query)
    else:
        from sipgate_tui.commands.contacts import contacts_for

        try:
            listed = contacts_for(session, ctx, region, refresh=False)
        except AppError as problem:
            raise problem.reworded(
                f"'{query[:40]}' is no favourite, and the contacts could not be read: "
                + problem.message
            ) from None
        contacts, notes = listed.contacts, listed.notes
    index = ContactIndex(contacts, country_code_of(region))
    with _naming("CALLEE", query, None), _cancel_means_no_call():
        if setup.interactive:
            picked = questions.choose_by_name(ctx.make_prompter(), index, query, region)
        else:
            favourites = setup.settings.favourites
            picked = questions.contact_by_name(index, query, region, favourites=favourites)
    number, name, contact, source = picked
    return draft._replace(
        callee=number,
        callee_name=name,
        callee_contact=contact,
        callee_source=source,
        callee_query=None,
        notes=draft.notes + tuple(notes),
    )


def _cached_contacts(ctx: AppContext, setup: CallSetup, query: str) -> list[Contact]:
    """A dry run's contacts: the cache's, whatever its age (a dry run reads no account)."""
    from sipgate_tui import contacts_cache

    token_id = _known_token_id(ctx, setup)
    cached = (
        contacts_cache.load(ctx.env, ctx.options.profile, token_id, setup.region)
        if token_id
        else None
    )
    if cached is None:
        raise InputError(
            "unknown-name",
            f"'{query[:40]}' is no favourite, and no contacts are kept for this profile to "
            "look it up in (a dry run reads no account).",
            hint="`sipgate-tui contacts` fetches and keeps them; or give the number.",
        )
    return cached.contacts


@contextlib.contextmanager
def _cancel_means_no_call() -> Iterator[None]:
    """On Ctrl-C at a question, say that no call was placed (the generic message cannot)."""
    try:
        yield
    except Cancelled:
        raise Cancelled(NO_CALL) from None


# -- confirm, dial, remember, report -------------------------------------------------------


def _confirm(
    ctx: AppContext,
    prompter: Prompter,
    plan: CallPlan,
    draft: CallDraft,
    lookups: AccountLookups | None,
) -> CallPlan:
    """The summary and the question; raises Cancelled unless the user says yes."""
    from sipgate_tui import render

    if lookups is not None and draft.device is not None and draft.device.device is None:
        # The list may have arrived while the other questions were answered.
        from sipgate_tui.commands.call_questions import check_device

        checked, unknown, _ = check_device(ctx, lookups, draft.device.id, wait=0)
        plan = plan.with_notes(unknown or offline_warning(checked))
    ctx.show(render.call_summary(plan))
    # No is the default, and keys typed ahead are discarded: an Enter too many must not
    # place a call nobody has looked at.
    with _cancel_means_no_call():
        if not prompter.confirm("Place this call?", default=False):
            raise Cancelled(NO_CALL)
    return plan


def _dial(
    ctx: AppContext,
    session: Session,
    plan: CallPlan,
    kind: AccountKind,
    channel: Callable[[], PickedChannel],
    setup: CallSetup,
    *,
    say_at_once: bool,
) -> Dialled:
    """Send the call request once (the Neo one at most once more, after a definite
    refusal); every failure becomes the user-facing problem."""
    try:
        return dial(
            ctx,
            session,
            plan,
            kind,
            channel=channel,
            plus_sign=setup.settings.neo_numbers == "plus",
            # Interactive: the switch is said at once, before a channel question may follow
            # (scripts read it with the result). The type is kept even if the call fails.
            announce=_announcer(ctx, say_at_once),
            learnt=lambda found: remember_type(setup.store, session.token_id, found),
        )
    except KeyboardInterrupt:
        if session.client.accepted_call_id is not None:
            raise  # accepted just before: the CLI says so and keeps exit code 0
        if not session.client.call_requests_sent:
            raise Cancelled(NO_CALL) from None  # stopped before anything was sent
        from sipgate_tui.problems import UNKNOWN_OUTCOME_HINT

        # The request may already be on its way: "cancelled" would invite a second call.
        raise AppError(
            "interrupted",
            "Interrupted while the call request was on its way: the call may have been placed.",
            hint=UNKNOWN_OUTCOME_HINT,
            after_call_sent=True,
        ) from None
    except (ApiError, FailedOnNeo) as failure:
        from sipgate_tui.problems import call_problem

        on_neo = isinstance(failure, FailedOnNeo)
        raise call_problem(
            failure.error if isinstance(failure, FailedOnNeo) else failure,
            neo_forced_by=(kind.why if kind.forced else None) if on_neo else None,
            on_neo=on_neo,
            device=plan.device_id,
            connect_timeout=session.timeouts.connect,
            read_timeout=session.timeouts.read,
            credentials_source=session.found.source,
            login_command=profile_command(ctx.options.profile, "login"),
        ) from None


def _announcer(ctx: AppContext, say_at_once: bool) -> Callable[[str], None]:
    """Notes during the dial: shown at once after a summary (the result panel does not
    repeat the summary's notes), else left to the result."""

    def announce(note: str) -> None:
        if say_at_once:
            from sipgate_tui import render

            ctx.show(render.notes([note]))

    return announce


def _remember(
    setup: CallSetup, session: Session, plan: CallPlan, user: UserId, account_type: str | None
) -> CallPlan:
    """The number as the newest recent one, a user id and an account type learnt on the way:
    one write, from this thread (lookups never write the state file, so no update is lost)."""
    token_id = session.token_id
    learnt_user = (token_id, user.learnt) if user.learnt else None
    learnt_type = (token_id, account_type) if account_type in ("classic", "neo") else None
    call = (plan.callee.e164, plan.device_id, plan.callee.pretty) if setup.remember else None
    try:
        setup.store.remember(call=call, user=learnt_user, account_type=learnt_type)
    except AppError as error:
        if setup.remember:  # without history, a cache that could not be written costs nothing
            return plan.with_notes(f"Not remembered: {error.message}")
    return plan


def _report(
    ctx: AppContext,
    options: CallOptions,
    plan: CallPlan,
    dialled: Dialled,
    account_type: str,
    before: CallsBefore | None,
) -> None:
    """The outcome: the JSON document, or the panel (``account_type``: as known now, which
    may be "unknown" when the classic request was accepted: that does not tell)."""
    if options.json:
        ctx.emit_json(
            {
                "ok": True,
                "sessionId": dialled.call_id,  # published: the call's id on either path
                "callId": dialled.call_id,
                "accountType": account_type,
                "request": dialled.sent,
                "warnings": list(plan.notes),
                "callee": plan.callee_json(),  # whom: the number, its name, the contact
                # --json never follows the call: the tones are the user's to type
                "tones": plan.tones_json(sent_by=None),
            }
        )
        return
    from sipgate_tui import render

    ctx.show(
        render.call_accepted(
            plan,
            dialled.call_id,
            # Without --yes the summary showed the notes already.
            show_notes=options.yes,
            # A followed call explains a silent phone itself.
            show_hints=not (before is not None and before.ready()),
            id_label="Session" if dialled.account_type == "classic" else "Call id",
        )
    )


# -- values from options -------------------------------------------------------------------


def _parse_ring_number(text: str | None, region: str) -> PhoneNumber | None:
    if text is None:
        return None
    if looks_like_device_id(text):
        raise InputError(
            "invalid-caller",
            f"--caller takes a phone number, but '{text.strip()[:20]}' is a device id.",
            hint="Give a device id with --device (it then rings first); use --caller only for "
            "a number that should ring instead, such as a group's number.",
        )
    return parse_phone_number(text, region, what="--caller number")


def _parse_caller_id(text: str | None, region: str) -> PhoneNumber | None:
    if text is None or not text.strip():
        return None
    return parse_phone_number(text, region, what="caller ID")


@contextlib.contextmanager
def _naming(name: str, value: str | None, callee: str | None) -> Iterator[None]:
    """An InputError inside names the option or argument ``name`` it is about; for a number
    option, one that looks cut off at a space says how to quote it."""
    try:
        yield
    except InputError as error:
        message = error.message
        if not message.startswith(name):  # "--caller takes a phone number ..." names it
            message = f"{name}: {message}"
        hint = _quote_hint(name, value or "", callee) or error.hint
        raise error.reworded(message, hint=hint) from None


_NUMBER_OPTIONS = ("--caller", "--caller-id")


def _quote_hint(name: str, value: str, callee: str | None) -> str | None:
    """How to quote a number option whose value looks like the first word of a number with
    spaces (``0211``, ``+49``) or whose rest seems to have landed in CALLEE; else None."""
    if name not in _NUMBER_OPTIONS or not _number_word(value.strip().removeprefix("+")):
        return None
    value = value.strip()
    words = (callee or "").split()
    # CALLEE gathers every loose word, before and after the options: only when it is one
    # number-like word is it surely the rest of this option's number.
    spilled = len(words) == 1 and len(words[0]) <= 10 and _number_word(words[0])
    fragment = sum(ch.isdigit() for ch in value) < 7
    if not (spilled or fragment):
        return None
    example = f"{value} {words[0]}" if spilled else f"{value} …"
    return (
        f"Quote numbers with spaces in options: {name} '{example}'. Unquoted, only "
        f"'{value}' reaches {name}, and the words after it are taken as the number to call"
        + (f" ('{words[0]}')." if spilled else ".")
    )


def _number_word(word: str) -> bool:
    """Digits with the punctuation numbers are written with (``0211``, ``(0211)``, ``555-1``)."""
    return any(ch.isdigit() for ch in word) and all(ch in "0123456789()-./" for ch in word)


def _require_values(draft: CallDraft, *, reason: str) -> None:
    missing = []
    if draft.callee is None and draft.callee_query is None:
        missing.append("whom to call (the CALLEE argument)")
    if draft.device is None:
        with_caller = draft.ring_number is not None
        missing.append("--device" + (" (required with --caller)" if with_caller else ""))
    if missing:
        callee = draft.callee.e164 if draft.callee is not None else draft.callee_query
        example = shlex.quote(callee) if callee else "+4915799912345"
        hint = f"Pass every value as an option, e.g. sipgate-tui call {example} --device e0 --yes"
        if draft.device is None:  # a phone used for every call can be a setting instead
            hint += "; or set your phone once: sipgate-tui config set default-device e0"
        raise InputError(
            "missing-value", "Missing " + " and ".join(missing) + f": {reason}.", hint=hint
        )


# -- dry run ---------------------------------------------------------------------------------


def _show_dry_run(plan: CallPlan, ctx: AppContext, options: CallOptions, setup: CallSetup) -> None:
    """The request that would really be sent: the Neo one when the account is known (forced
    or remembered) to be sipgate Neo, else the classic one (with a note when unknown)."""
    credentials = _environment_credentials(ctx)
    # Without reading the keyring the token is unknown: the type remembered for the profile's
    # token stands in (a dry run must not unlock the keyring to find out).
    token_id = credentials.token_id if credentials else setup.state.account_type_token_id
    kind = _account_kind(ctx, setup, token_id)
    if kind.neo:
        plan = plan.with_notes(
            None
            if options.channel
            else f"On {NEO} the channel that holds {plan.device_id} "
            "is added as channelId when the call is placed (a dry run reads no account)."
        )
        path, body = (
            "/calls",
            plan.neo_request(
                options.channel, plus_sign=setup.settings.neo_numbers == "plus"
            ).body(),
        )
    else:
        path, body = "/sessions/calls", plan.request.body()
        if kind.type == "unknown":
            plan = plan.with_notes(
                f"If this account is {NEO}, sipgate refuses this request and sipgate-tui sends "
                "POST /calls instead (deviceId, targetNumber, callerId, channelId)."
            )
    url = f"{ctx.options.api_url}{path}"
    headers = plain_headers(has_body=True)
    headers["Authorization"] = _masked_authorization(credentials)
    if options.json:
        ctx.emit_json(
            {
                "ok": True,
                "dryRun": True,
                "request": body,
                "http": {"method": "POST", "url": url, "headers": headers},
                "accountType": kind.type,
                "warnings": list(plan.notes),
                "callee": plan.callee_json(),  # whom: the number, its name, the contact
                "tones": plan.tones_json(sent_by=None),  # a dry run's --json: never follows
            }
        )
        return
    from sipgate_tui import render

    if plan.callee_name:  # the request holds the number only: say whom it reaches
        plan = plan.with_notes(f"This calls {plan.callee_name}: {plan.callee.pretty}.")
    if plan.dial:
        plan = plan.with_notes(
            "Once connected, this call dials "
            + render.tones_in_words(plan.dial, plan.tone_pause)
            + " as keypad tones (POST /calls/{callId}/dtmf, needs rtcm:write)."
        )
    if plan.notes:
        ctx.show(render.notes(plan.notes))
    ctx.show(render.dry_run("POST", url, headers, body))


def _environment_credentials(ctx: AppContext) -> Credentials | None:
    """The environment's credentials, if complete: a dry run never reads the keyring."""
    try:
        return from_environment(ctx.env)
    except AppError:
        return None


def _masked_authorization(credentials: Credentials | None) -> str:
    """What the Authorization header would carry, with the token masked."""
    if credentials is None:
        return "Basic base64(<token id>:<token>) (from the keyring, which a dry run does not read)"
    return f"Basic base64({credentials.token_id}:{credentials.masked_token()})"
