"""``sipgate-tui logout``: remove the profile's keyring item; running it twice is fine."""

from __future__ import annotations

from dataclasses import dataclass

from sipgate_tui import render
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import (
    CredentialsCorrupted,
    KeyringLocked,
    KeyringTimedOut,
    profile_command,
)
from sipgate_tui.errors import ExitCode


@dataclass(frozen=True)
class LogoutOptions:
    """Options of ``logout``."""

    json: bool = False


def run(options: LogoutOptions, ctx: AppContext) -> ExitCode:
    """Remove the stored token and say which one; mention env vars that still apply."""
    profile = ctx.options.profile
    store = ctx.make_store()
    backend = store.require_backend(for_removal=True)
    try:
        try:
            stored = store.read(profile)
            stored_id = stored.token_id if stored else None
        except CredentialsCorrupted:
            stored_id = "(unreadable item)"
        removed = store.delete(profile)
    except (KeyringLocked, KeyringTimedOut) as error:
        raise error.reworded(
            f"{error.message} Nothing was removed.",
            hint="Unlock your keyring (log in to your desktop session), then run "
            f"`{profile_command(profile, 'logout')}` again.",
        ) from None
    env_set = ctx.env_credentials_set()
    _unindex(ctx, profile)
    cache_note = _remove_contacts_cache(ctx, profile)
    if options.json:
        ctx.emit_json(
            {
                "ok": True,
                "profile": profile,
                "removed": removed,
                "tokenId": stored_id if removed else None,
                "backend": backend,
                "environmentStillSet": env_set,
            }
        )
    else:
        ctx.show(
            render.logout_done(
                profile=profile,
                removed=(stored_id or "(unknown)") if removed else None,
                backend=backend,
                env_set=env_set,
            )
        )
    if cache_note is not None:
        ctx.err.print(f"! {cache_note}", markup=False, highlight=False)
    return ExitCode.OK


def _unindex(ctx: AppContext, profile: str) -> None:
    """Take the profile out of the profiles index (``profiles``); a state file that cannot be
    written never fails the logout (the token is gone, and `profiles` asks the keyring)."""
    import contextlib

    from sipgate_tui.errors import AppError

    with contextlib.suppress(AppError, OSError):
        ctx.make_settings().set_indexed(profile, False)


def _remove_contacts_cache(ctx: AppContext, profile: str) -> str | None:
    """Remove the profile's cached contacts (they came with the token just removed); a note
    when the file could not be removed, which never fails the logout."""
    from sipgate_tui import contacts_cache

    try:
        contacts_cache.remove(ctx.env, profile)
    except OSError as error:
        path = contacts_cache.cache_path(ctx.env, profile)
        return f"The cached contacts in {path} could not be removed ({error.strerror or error})."
    return None
