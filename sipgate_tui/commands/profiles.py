"""``sipgate-tui profiles``: the stored profiles, where they live, and which one is in use."""

from __future__ import annotations

from dataclasses import dataclass

from sipgate_tui import render
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import ENV_TOKEN, ENV_TOKEN_ID
from sipgate_tui.errors import ExitCode
from sipgate_tui.profiles_index import Listing, StoredProfile, candidates, fill_index, read_all

# Why the profile in use is the one it is (``--profile``, ``SIPGATE_PROFILE`` or the default).
PROFILE_SOURCES = ("--profile", "SIPGATE_PROFILE", "default")


@dataclass(frozen=True)
class ProfilesOptions:
    """Options of ``profiles``; ``profile_from``: where the global --profile came from."""

    json: bool = False
    profile_from: str = "default"


class InUse:
    """Which profile commands use now (None: the environment's credentials beat them all)
    and why, in a word (``--profile``, ``SIPGATE_PROFILE``, ``default``, ``environment``)."""

    __slots__ = ("because", "profile")

    def __init__(self, profile: str | None, because: str) -> None:
        self.profile = profile
        self.because = because

    def sentence(self) -> str:
        """Which profile is in use and why, for people."""
        if self.profile is None:
            return (
                f"Commands use {ENV_TOKEN_ID} and {ENV_TOKEN} from the environment now: they "
                "take precedence over every profile."
            )
        why = {
            "--profile": "chosen with --profile",
            "SIPGATE_PROFILE": "chosen with SIPGATE_PROFILE",
        }.get(self.because, "the default, as neither --profile nor SIPGATE_PROFILE is set")
        return f"Commands use profile {self.profile} now ({why})."


def in_use(ctx: AppContext, profile_from: str) -> InUse:
    """The profile commands use now, and why."""
    if ctx.env_credentials_set():
        return InUse(None, "environment")
    because = profile_from if profile_from in PROFILE_SOURCES else "default"
    return InUse(ctx.options.profile, because)


def list_profiles(ctx: AppContext) -> Listing:
    """Every stored profile (and the one in use), each read from the keyring once; the ones
    found that the index did not know are added to it."""
    settings = ctx.make_settings()
    names, indexed = candidates(settings, ctx.options.profile)
    listing = read_all(ctx.make_store(), names, indexed, ctx.options.profile)
    fill_index(settings, listing)
    return listing


def run(options: ProfilesOptions, ctx: AppContext) -> ExitCode:
    """List the profiles. Exit 0 when every one could be read (stored or not), 7 when the
    keyring could not be read (locked, no answer, broken): then the list is incomplete."""
    listing = list_profiles(ctx)
    using = in_use(ctx, options.profile_from)
    exit_code = ExitCode.OK if listing.problem is None else listing.problem.exit_code
    if options.json:
        ctx.emit_json([_document(entry, using) for entry in listing.profiles])
        return exit_code
    ctx.show(
        render.profiles_table(
            [_row(entry, using) for entry in listing.profiles],
            in_use=using.sentence(),
            no_keyring=listing.backend is None and listing.problem is None,
            none_stored=all(entry.stored is False for entry in listing.profiles),
        )
    )
    if listing.problem is not None:
        ctx.show(render.problem(listing.problem))
    return exit_code


def _document(entry: StoredProfile, using: InUse) -> dict[str, object]:
    """One profile in ``--json`` (the README documents the shape)."""
    credentials = entry.credentials
    used = using.profile == entry.name
    return {
        "profile": entry.name,
        "stored": entry.stored,
        "tokenId": credentials.token_id if credentials else None,
        "tokenMasked": credentials.masked_token() if credentials else None,
        "backend": entry.backend,
        "inUse": used,
        "inUseBecause": using.because if used else None,
        "environmentOverrides": using.profile is None,
        "error": entry.problem.to_json()["error"] if entry.problem else None,
    }


def _row(entry: StoredProfile, using: InUse) -> render.ProfileRow:
    credentials = entry.credentials
    if credentials is not None:
        where = f"your keyring ({entry.backend})"
    elif entry.stored:
        where = f"your keyring ({entry.backend}), but the item is unreadable"
    elif entry.stored is None:
        where = "unknown: the keyring could not be read"
    else:
        where = "nothing stored"
    return render.ProfileRow(
        name=entry.name,
        token_id=credentials.token_id if credentials else None,
        token_masked=credentials.masked_token() if credentials else None,
        where=where,
        in_use=using.profile == entry.name,
    )
