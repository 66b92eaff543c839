"""``sipgate-tui login``: explain, ask for the token, verify it, keep it in the keyring."""

from __future__ import annotations

import contextlib
import getpass
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

from sipgate_tui import account_type, render
from sipgate_tui.api import ApiError, Timeouts
from sipgate_tui.commands.common import timeouts_from_option
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import (
    ENV_TOKEN,
    ENV_TOKEN_ID,
    Credentials,
    CredentialsCorrupted,
    CredentialStore,
    KeyringStore,
    profile_command,
)
from sipgate_tui.errors import AppError, Cancelled, ExitCode, InputError
from sipgate_tui.problems import TokenRejected, read_problem
from sipgate_tui.prompts import Prompter
from sipgate_tui.token_check import AccountCheck, check_account

TOKEN_ID_SHAPE = re.compile(r"token-[A-Za-z0-9]{6}")
TOKEN_SHAPE = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
NOTHING_STORED = "Cancelled. Nothing was stored."


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
    timeouts = timeouts_from_option(options.timeout)
    interactive = ctx.can_prompt(json_mode=options.json)
    _check_options(options, ctx, interactive, read_stdin)

    # The keyring first, before anyone types a secret: it must exist and be unlocked (reading
    # the current item is what makes a locked keyring say so, or time out).
    store = ctx.make_store()
    backend = store.require_backend()
    previous = _stored_before(store, profile)

    warnings = _environment_warnings(ctx)
    token = _read_token(ctx, read_stdin) if options.token_stdin else None
    if interactive:
        ctx.show(render.login_intro(profile))
        if warnings:
            ctx.show(render.notes(warnings))
    accepted = _ask_until_accepted(
        ctx,
        ctx.make_prompter() if interactive else None,
        options.token_id.strip() if options.token_id else None,
        token,
        timeouts,
    )
    _keep(store, profile, accepted.credentials)
    _index(ctx, store, profile)
    account = _account_type(ctx, accepted)
    _report(
        ctx,
        options,
        accepted,
        account,
        backend=backend,
        stored_in=store.item_location(profile, backend),
        previous=previous,
        warnings=warnings,
    )
    return ExitCode.OK


@dataclass(frozen=True)
class _Accepted:
    """Credentials sipgate accepted, what it said about the account, and soft format warnings."""

    credentials: Credentials
    check: AccountCheck
    shape_warnings: list[str]


def _stored_before(store: CredentialStore, profile: str) -> Credentials | None:
    """The profile's credentials before this login; None for none, or for ones that are
    unreadable (the new login replaces them)."""
    try:
        return store.read(profile)
    except CredentialsCorrupted:
        return None


def _ask_until_accepted(
    ctx: AppContext,
    prompter: Prompter | None,
    given_id: str | None,
    token: str | None,
    timeouts: Timeouts,
) -> _Accepted:
    """Ask for what is missing and verify it with sipgate; in a terminal, a rejected token id
    and token may be typed again (the id typed before is offered to correct)."""
    interactive = prompter is not None
    offered_id = ""  # after a rejection, the id typed before, to correct rather than retype
    while True:
        try:
            credentials, shape_warnings = _ask_credentials(
                ctx, prompter, given_id, offered_id, token
            )
        except Cancelled:
            raise Cancelled(NOTHING_STORED) from None
        try:
            return _Accepted(credentials, _verify(ctx, credentials, timeouts), shape_warnings)
        except AppError as problem:
            if not isinstance(problem, TokenRejected) or not interactive or token is not None:
                raise _nothing_stored(problem) from None
            ctx.show(render.problem(_nothing_stored(problem)))
            _ask_to_try_again(prompter)
        given_id, offered_id = None, credentials.token_id


def _ask_to_try_again(prompter: Prompter | None) -> None:
    """After sipgate refused the token: return to try again, or raise to stop, storing nothing."""
    try:
        again = prompter is not None and prompter.confirm("Try again?", default=True)
    except Cancelled:
        raise Cancelled(NOTHING_STORED) from None
    if not again:
        raise TokenRejected(
            "unauthorized",
            "Not logged in: sipgate did not accept the token. Nothing was stored.",
            title="Not logged in",
        ) from None


def _account_type(ctx: AppContext, accepted: _Accepted) -> tuple[str, str]:
    """The account type to report (forced, or as the probes found it) and why; a detected
    type is remembered for the new token (one write, here on the main thread)."""
    settings = ctx.make_settings()
    setting = account_type.setting_of(settings)
    option = ctx.options.account_type
    token_id = accepted.credentials.token_id
    remembered = account_type.remembered_of(settings, token_id)
    check = accepted.check
    account_type.remember_detected(settings, token_id, check.account_type, remembered)
    return account_type.resolve(
        forced=account_type.forced_choice(option, setting),
        by=account_type.forced_by(option, setting, ctx.env),
        detected=check.account_type,
        reason=check.account_type_reason,
        remembered=remembered,
    )


def _keep(store: CredentialStore, profile: str, credentials: Credentials) -> None:
    """Store the accepted credentials; a failure says that sipgate did accept them."""
    try:
        store.write(profile, credentials)
    except AppError as error:
        raise error.reworded(
            f"sipgate accepted the token, but it could not be kept: {error.message}"
        ) from None


def _index(ctx: AppContext, store: CredentialStore, profile: str) -> None:
    """After the token was stored: the profile goes into the profiles index, and the keyring
    backend (found by full discovery just now) is remembered for the fast path. Neither may
    fail the login: the token is stored; `profiles` finds it without the index too."""
    with contextlib.suppress(AppError, OSError):
        ctx.make_settings().set_indexed(profile, True)
    if isinstance(store, KeyringStore):
        with contextlib.suppress(AppError):
            store.remember()


def _report(
    ctx: AppContext,
    options: LoginOptions,
    accepted: _Accepted,
    account: tuple[str, str],
    *,
    backend: str,
    stored_in: str,
    previous: Credentials | None,
    warnings: list[str],
) -> None:
    """Say who is logged in now, where the token is kept, what it replaced and the account
    type with why (or JSON)."""
    profile = ctx.options.profile
    credentials, check = accepted.credentials, accepted.check
    all_warnings = warnings + accepted.shape_warnings
    replaced = previous.token_id if previous and previous.token_id != credentials.token_id else None
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
                "accountType": account[0],
                "accountTypeDetected": check.account_type,
                "accountTypeWhy": account[1],
                "warnings": all_warnings,
            }
        )
        return
    if not ctx.can_prompt(json_mode=options.json) and all_warnings:
        # In a terminal they were shown before the questions; elsewhere this is their place.
        ctx.show(render.notes(all_warnings))
    ctx.show(
        render.login_done(
            profile=profile,
            token_id=credentials.token_id,
            user_id=check.user.user_id,
            domain=check.user.domain,
            stored_in=stored_in,
            replaced=replaced,
            scopes=check.scopes,
            login_command=profile_command(profile, "login"),
            account_type=account[0],
            account_why=account[1],
        )
    )


_SCRIPTED_HINT = (
    "Pass the token on stdin, never as an argument (other users can read the process list): "
    "printf '%s' \"$TOKEN\" | sipgate-tui login --token-id token-ABC123 --token-stdin"
)


def _check_options(
    options: LoginOptions, ctx: AppContext, interactive: bool, read_stdin: object
) -> None:
    if options.token_id is not None and not options.token_id.strip():
        raise InputError("missing-value", "--token-id is empty.", hint=_SCRIPTED_HINT)
    if options.token_id and TOKEN_SHAPE.fullmatch(options.token_id.strip()):
        raise InputError(
            "token-as-argument",
            "--token-id got something shaped like the token itself, not its id (token-…).",
            hint="Give the token id with --token-id and the token on stdin. If that was your "
            "real token, it was visible in the process list: consider creating a new one.",
        )
    if not interactive and not (options.token_id and options.token_stdin):
        raise InputError(
            "missing-value",
            "Logging in needs --token-id and --token-stdin here: "
            f"{ctx.why_no_prompts(json_mode=options.json)}.",
            hint=_SCRIPTED_HINT,
        )
    if options.token_stdin and read_stdin is None and _stdin_is_terminal() and not interactive:
        raise InputError(
            "missing-value",
            "--token-stdin reads the token from stdin, but stdin is a terminal and questions "
            f"are off: {ctx.why_no_prompts(json_mode=options.json)}.",
            hint=_SCRIPTED_HINT,
        )


def _environment_warnings(ctx: AppContext) -> list[str]:
    token_id = (ctx.env.get(ENV_TOKEN_ID) or "").strip()
    token = (ctx.env.get(ENV_TOKEN) or "").strip()
    if token_id and token:
        return [
            f"{ENV_TOKEN_ID} and {ENV_TOKEN} are set in your environment: they take "
            "precedence, so the token stored now is used only once you unset them."
        ]
    if token_id or token:
        present, missing = (ENV_TOKEN_ID, ENV_TOKEN) if token_id else (ENV_TOKEN, ENV_TOKEN_ID)
        return [
            f"{present} is set but {missing} is not: every other command stops at that until "
            f"you set {missing} or unset {present}."
        ]
    return []


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):
        return False


MAX_TOKEN_BYTES = 4096  # a token is 36 characters; `yes | sipgate-tui login` must not eat memory


def _read_piped_token() -> str:
    """What stdin holds, bounded, as text; never shown (it is the token)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # no stdin, or a text-only one (tests' StringIO)
        return sys.stdin.read(MAX_TOKEN_BYTES + 1) if sys.stdin is not None else ""
    raw = stream.read(MAX_TOKEN_BYTES + 1)
    if len(raw) > MAX_TOKEN_BYTES:
        raise InputError(
            "invalid-token",
            f"stdin held more than {MAX_TOKEN_BYTES} bytes, far more than a token: nothing "
            "was read further and nothing was stored.",
            hint=_SCRIPTED_HINT,
        )
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            "invalid-token",
            "What arrived on stdin is not text (it holds a byte that is not UTF-8), so it "
            "cannot be a token. Nothing was stored.",
            hint="Copy the token again from the sipgate web app. " + _SCRIPTED_HINT,
        ) from None


def _read_token(ctx: AppContext, read_stdin: Callable[[], str] | None) -> str:
    """The token from stdin: one line; a pasted pair of quotes is taken off, with a note."""
    if read_stdin is not None:
        text = read_stdin()
    elif _stdin_is_terminal():
        try:
            text = getpass.getpass("Token (hidden): ")
        except (EOFError, KeyboardInterrupt):
            sys.stderr.write("\n")
            raise Cancelled(NOTHING_STORED) from None
    else:
        text = _read_piped_token()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise InputError("missing-value", "No token arrived on stdin.", hint=_SCRIPTED_HINT)
    if len(lines) > 1:
        raise InputError(
            "missing-value",
            f"stdin held {len(lines)} lines; pipe in only the token.",
            hint=_SCRIPTED_HINT,
        )
    token = lines[0]
    if len(token) > 1 and token[0] == token[-1] and token[0] in "'\"":
        token = token[1:-1].strip()
    return token


def _ask_credentials(
    ctx: AppContext,
    prompter: Prompter | None,
    token_id: str | None,
    offered_id: str,
    token: str | None,
) -> tuple[Credentials, list[str]]:
    """The credentials to try, asking for what is missing; plus soft format warnings."""
    if token_id is None:
        assert prompter is not None  # without a terminal, --token-id is required
        token_id = prompter.text(
            "Token id:", validate=_check_token_id, default=offered_id, placeholder="token-ABC123"
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
        assert prompter is not None  # without a terminal, --token-stdin is required
        token = prompter.secret(
            "Token (hidden):",
            validate=lambda text: None if text.strip() else "Paste the token.",
        ).strip()
    if not TOKEN_SHAPE.fullmatch(token):
        shape.append("The token does not look like the usual UUID; trying it anyway.")
        if prompter is not None:
            ctx.show(render.notes(shape[-1:]))
    return Credentials(token_id, token), shape


def _check_token_id(text: str) -> str | None:
    if not text.strip():
        return "Paste the token id (token-…)."
    if TOKEN_SHAPE.fullmatch(text.strip()):
        # Shown only as this message, never echoed in our own output.
        return "That is the token itself: paste the token id (token-…) here, the token next."
    return None


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
    hint = None  # keep the problem's own
    if isinstance(problem, TokenRejected):
        hint = (
            "Check that you copied the token id and the token completely and did not swap "
            "them (the token is shown only once, right after it is created; if in doubt, "
            "create a new one)."
        )
    return problem.reworded(f"{problem.message} Nothing was stored.", hint=hint)
