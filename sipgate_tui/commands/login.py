"""``sipgate-tui login``: explain, ask for the token, verify it, keep it in the keyring."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from sipgate_tui import render
from sipgate_tui.account import AccountCheck, check_account
from sipgate_tui.api import ApiError, Timeouts
from sipgate_tui.commands.common import timeouts_from_option
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import Credentials, KeyringStore, profile_command
from sipgate_tui.errors import AppError, Cancelled, ExitCode, InputError
from sipgate_tui.problems import read_problem

TOKEN_ID_SHAPE = re.compile(r"token-[A-Za-z0-9]{6}")
TOKEN_SHAPE = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class LoginOptions:
    """``--token-id`` with ``--token-stdin`` make login scriptable; the token is never an argv."""

    token_id: str | None = None
    token_stdin: bool = False
    json: bool = False
    timeout: float | None = None


def run(
    options: LoginOptions, ctx: AppContext, *, read_stdin: Callable[[], str] | None = None
) -> ExitCode:
    """Verify a token with sipgate and store it for the profile. Nothing is stored on failure."""
    profile = ctx.options.profile
    login = profile_command(profile, "login")
    timeouts = timeouts_from_option(options.timeout)
    interactive = ctx.can_prompt(json_mode=options.json)
    if options.token_id is not None and not options.token_id.strip():
        raise InputError("missing-value", "--token-id is empty.", hint=_SCRIPTED_HINT)
    if not interactive and not (options.token_id and options.token_stdin):
        raise InputError(
            "missing-value",
            "Logging in without a terminal needs --token-id and --token-stdin.",
            hint=_SCRIPTED_HINT,
        )

    # A usable keyring first: nobody should type a secret that then cannot be kept.
    store = ctx.make_store()
    backend = store.require_backend()

    warnings: list[str] = []
    if ctx.env_credentials_set():
        warnings.append(
            "SIPGATE_TOKEN_ID / SIPGATE_TOKEN are set in your environment: they take precedence, "
            "so the token stored now is used only once you unset them."
        )
    token = _read_token(read_stdin) if options.token_stdin else None
    if interactive:
        ctx.show(render.login_intro(profile))
        if warnings:
            ctx.show(render.notes(warnings))

    token_id = options.token_id.strip() if options.token_id else None
    while True:
        credentials, shape_warnings = _ask_credentials(ctx, token_id, token, interactive)
        try:
            check = _verify(ctx, credentials, timeouts)
        except AppError as problem:
            if problem.code != "unauthorized" or not interactive:
                raise _nothing_stored(problem) from None
            ctx.show(render.problem(_nothing_stored(problem)))
            if not ctx.make_prompter().confirm("Try again?", default=True):
                raise Cancelled("Cancelled. Nothing was stored.") from None
            token_id = None
            continue
        break

    replaced = _previous_token_id(store, profile)
    store.write(profile, credentials)
    all_warnings = warnings + shape_warnings
    if options.json:
        ctx.emit_json(
            {
                "ok": True,
                "profile": profile,
                "tokenId": credentials.token_id,
                "userId": check.user.user_id,
                "domain": check.user.domain,
                "backend": backend,
                "scopes": check.scopes,
                "warnings": all_warnings,
            }
        )
    else:
        if not interactive and all_warnings:
            ctx.show(render.notes(all_warnings))
        ctx.show(
            render.login_done(
                profile=profile,
                token_id=credentials.token_id,
                user_id=check.user.user_id,
                domain=check.user.domain,
                backend=backend,
                replaced=replaced if replaced != credentials.token_id else None,
                scopes=check.scopes,
                login_command=login,
            )
        )
    return ExitCode.OK


_SCRIPTED_HINT = (
    "Pass the token on stdin, never as an argument (other users can read the process list): "
    "printf '%s' \"$TOKEN\" | sipgate-tui login --token-id token-ABC123 --token-stdin"
)


def _read_token(read_stdin: Callable[[], str] | None) -> str:
    if read_stdin is not None:
        text = read_stdin()
    elif sys.stdin is not None and sys.stdin.isatty():
        import getpass

        text = getpass.getpass("Token (hidden): ")
    else:
        text = sys.stdin.readline() if sys.stdin is not None else ""
    token = text.strip()
    if not token:
        raise InputError("missing-value", "No token arrived on stdin.", hint=_SCRIPTED_HINT)
    return token


def _ask_credentials(
    ctx: AppContext, token_id: str | None, token: str | None, interactive: bool
) -> tuple[Credentials, list[str]]:
    """The credentials to try, asking for what is missing; plus soft format warnings."""
    prompter = ctx.make_prompter() if interactive and (token_id is None or token is None) else None
    if token_id is None:
        assert prompter is not None
        token_id = prompter.text(
            "Token id:",
            validate=lambda text: None if text.strip() else "Paste the token id (token-…).",
            placeholder="token-ABC123",
        ).strip()
    shape: list[str] = []
    if not TOKEN_ID_SHAPE.fullmatch(token_id):
        shape.append(
            f"'{token_id[:40]}' does not look like a token id (token- and six letters or "
            "digits); trying it anyway."
        )
        if prompter is not None:
            ctx.show(render.notes(shape[-1:]))
    if token is None:
        assert prompter is not None
        token = prompter.secret(
            "Token (hidden):",
            validate=lambda text: None if text.strip() else "Paste the token.",
        ).strip()
    if not TOKEN_SHAPE.fullmatch(token):
        shape.append("The token does not look like the usual UUID; trying it anyway.")
        if prompter is not None:
            ctx.show(render.notes(shape[-1:]))
    return Credentials(token_id, token), shape


def _verify(ctx: AppContext, credentials: Credentials, timeouts: Timeouts) -> AccountCheck:
    client = ctx.make_client(credentials, timeouts)
    try:
        with ctx.waiting("Checking the token with sipgate…"):
            return check_account(client)
    except ApiError as error:
        raise read_problem(
            error,
            what="check the token",
            scope=None,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            credentials_source=None,
            login_command=profile_command(ctx.options.profile, "login"),
        ) from None
    finally:
        client.close()


def _nothing_stored(problem: AppError) -> AppError:
    hint = problem.hint
    if problem.code == "unauthorized":
        hint = (
            "Check that you copied the token id and the token completely (the token is shown "
            "only once, right after it is created; if in doubt, create a new one)."
        )
    return AppError(
        problem.code,
        f"{problem.message} Nothing was stored.",
        exit_code=problem.exit_code,
        hint=hint,
        status=problem.status,
        detail=problem.detail,
        title=problem.title,
    )


def _previous_token_id(store: KeyringStore, profile: str) -> str | None:
    """The token id stored before, to say what login replaces; unreadable counts as none."""
    try:
        previous = store.read(profile)
    except AppError:
        return None
    return previous.token_id if previous else None
