"""``sipgate-tui contacts [SEARCH]``: the account's phonebooks, from the cache when it is fresh.

The cache (``contacts_cache``) is used when it was fetched with this token id less than a day
ago; otherwise, and always with ``--refresh``, every page is fetched and the cache rewritten.
A stale cache still answers when sipgate cannot be reached (with a note saying so); a cache
that cannot be written is a note, never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipgate_tui import contacts_cache
from sipgate_tui.api import ApiError, NetworkError
from sipgate_tui.commands.common import Session, open_session, timeouts_from_option
from sipgate_tui.contacts import Contact, ContactIndex, country_code_of, fetch_contacts
from sipgate_tui.context import AppContext
from sipgate_tui.errors import ExitCode
from sipgate_tui.options import DEFAULT_REGION

# render (Rich) is imported where the list is drawn: --json never needs it.


@dataclass(frozen=True)
class ContactsOptions:
    """Options of ``contacts``."""

    search: str | None = None
    refresh: bool = False
    json: bool = False
    timeout: float | None = None


class Listed:
    """The contacts to show, how old they are (seconds; None: fetched now), and notes."""

    __slots__ = ("age", "contacts", "notes")

    def __init__(self, contacts: list[Contact], age: float | None, notes: list[str]) -> None:
        self.contacts, self.age, self.notes = contacts, age, notes


def run(options: ContactsOptions, ctx: AppContext) -> ExitCode:
    """List the contacts matching SEARCH (all without it), best match first."""
    timeouts = timeouts_from_option(options.timeout)
    region = ctx.make_settings().load().region or DEFAULT_REGION
    with open_session(ctx, timeouts) as session:
        listed = contacts_for(session, ctx, region, refresh=options.refresh)
    query = options.search if options.search and options.search.strip() else None
    found = ContactIndex(listed.contacts, country_code_of(region)).search(query or "")
    if options.json:
        ctx.emit_json([contact_json(contact) for contact in found])
        for note in listed.notes:  # stdout holds the document alone
            ctx.err.print(f"! {note}", markup=False, highlight=False)
        return ExitCode.OK
    from sipgate_tui import render

    ctx.show(render.contacts_list(found, query=query, total=len(listed.contacts), age=listed.age))
    for note in listed.notes:
        ctx.show(render.contacts_note(note))
    return ExitCode.OK


def contacts_for(session: Session, ctx: AppContext, region: str, *, refresh: bool) -> Listed:
    """The profile's contacts: the cache's when fresh (and not ``refresh``), else fetched and
    cached. Raises the read problem (``contacts:read`` named for a 403) when the fetch fails
    and no cache can stand in; a stale cache stands in when sipgate cannot be reached."""
    env, profile, token_id = ctx.env, ctx.options.profile, session.token_id
    cached = contacts_cache.load(env, profile, token_id, region)
    if cached is not None and not refresh and not cached.is_stale():
        return Listed(cached.contacts, max(0.0, cached.age()), [])
    try:
        with ctx.waiting("Loading your contacts…"):
            fetched = fetch_contacts(session.client, region)
    except ApiError as error:
        problem = session.read_problem(error, ctx, what="read your contacts", scope="contacts:read")
        if cached is None or not isinstance(error, NetworkError):
            raise problem from None
        note = f"{problem.message} These contacts are the ones kept before."
        return Listed(cached.contacts, max(0.0, cached.age()), [note])
    notes = []
    try:
        contacts_cache.save(env, profile, token_id, region, fetched)
    except contacts_cache.CacheNotWritten as error:
        notes.append(
            f"The contacts could not be kept in {error.path} ({error.reason}), so they are "
            "fetched again next time. SIPGATE_TUI_CACHE_DIR sets another directory."
        )
    return Listed(fetched, None, notes)


def contact_json(contact: Contact) -> dict[str, object]:
    """A contact in ``--json``: its numbers as written, their type, E.164 (null: unusable)."""
    return {
        "id": contact.id,
        "name": contact.name,
        "organization": contact.organization or None,
        "phonebook": contact.phonebook or None,
        "numbers": [
            {
                "number": number.raw,
                "type": number.type or None,
                "e164": number.e164,
                "usable": number.e164 is not None,
            }
            for number in contact.numbers
        ],
    }
