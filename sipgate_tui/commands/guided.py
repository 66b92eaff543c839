"""Bare ``sipgate-tui``: the guided path. No credentials yet -> login, then the call flow."""

from __future__ import annotations

from sipgate_tui.commands import call, login
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import CredentialsMissing
from sipgate_tui.errors import Cancelled, ExitCode, InputError

USAGE = (
    "Usage: sipgate-tui [OPTIONS] COMMAND. Commands: call, calls, hangup, history, devices, "
    "numbers, login, status, logout, config, favourites, demo. "
    "Run `sipgate-tui --help` for details."
)


def run(ctx: AppContext) -> ExitCode:
    """Log in first if needed, then place a call, asking for everything on the way."""
    if not ctx.can_prompt():
        raise InputError(
            "no-command",
            f"No command given, and the guided mode needs questions: {ctx.why_no_prompts()}.",
            hint=USAGE,
        )
    try:
        ctx.find_credentials()
    except CredentialsMissing:
        login.run(login.LoginOptions(), ctx)
        try:
            return call.run(call.CallOptions(), ctx)
        except Cancelled as cancelled:
            raise cancelled.reworded(f"{cancelled.message} You are logged in, though.") from None
    return call.run(call.CallOptions(), ctx)
