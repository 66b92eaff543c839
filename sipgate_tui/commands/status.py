"""``sipgate-tui status``: where the credentials come from, whether they work, what they may do."""

from __future__ import annotations

from dataclasses import dataclass

from sipgate_tui import render
from sipgate_tui.account import AccountCheck, check_account
from sipgate_tui.api import ApiError
from sipgate_tui.commands.common import timeouts_from_option
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import FoundCredentials, profile_command
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.problems import read_problem


@dataclass(frozen=True)
class StatusOptions:
    """Options of ``status``."""

    json: bool = False
    timeout: float | None = None


def run(options: StatusOptions, ctx: AppContext) -> ExitCode:
    """Report the credentials' source and a live check.

    Every outcome prints the status (source, token id masked, check, scopes, as far as known)
    and, when something is wrong, the problem with its fix. Exit 0 when the credentials work,
    3 when there are none or sipgate rejects them, 5 when sipgate cannot be reached, 7 when the
    keyring cannot be read: in the last two cases nobody can tell whether they work.
    """
    profile = ctx.options.profile
    login = profile_command(profile, "login")
    timeouts = timeouts_from_option(options.timeout)
    found: FoundCredentials | None = None
    problem: AppError | None = None
    check: AccountCheck | None = None
    try:
        found = ctx.find_credentials()
    except AppError as error:
        problem = error

    if found is not None:
        client = ctx.make_client(found.credentials, timeouts)
        try:
            with ctx.waiting("Checking the token with sipgate…"):
                check = check_account(client)
        except ApiError as error:
            problem = read_problem(
                error,
                what="check the token",
                scope=None,
                connect_timeout=timeouts.connect,
                read_timeout=timeouts.read,
                credentials_source=found.source,
                login_command=login,
            )
        finally:
            client.close()

    # valid: True (sipgate accepted them), False (none, or rejected), None (cannot tell).
    valid: bool | None
    if check is not None:
        valid, exit_code = True, ExitCode.OK
    elif problem is None or problem.exit_code == ExitCode.CREDENTIALS:
        valid, exit_code = False, ExitCode.CREDENTIALS
    else:
        valid, exit_code = None, problem.exit_code
    if options.json:
        document: dict[str, object] = {
            "ok": check is not None,
            "profile": profile,
            "apiUrl": ctx.options.api_url,
            "source": found.source if found else None,
            "backend": found.backend if found else None,
            "tokenId": found.credentials.token_id if found else None,
            "tokenMasked": found.credentials.masked_token() if found else None,
            "valid": valid,
            "userId": check.user.user_id if check else None,
            "domain": check.user.domain if check else None,
            "scopes": check.scopes if check else {},
            "exitCode": int(exit_code),
        }
        if problem is not None:
            document["error"] = problem.to_json()["error"]
        ctx.emit_json(document)
    else:
        ctx.show(
            render.status_report(
                profile=profile,
                api_url=ctx.options.api_url,
                source=found.source if found else None,
                backend=found.backend if found else None,
                token_id=found.credentials.token_id if found else None,
                token_masked=found.credentials.masked_token() if found else None,
                user_id=check.user.user_id if check else None,
                domain=check.user.domain if check else None,
                valid=valid,
                scopes=check.scopes if check else {},
                problem=problem,
                login_command=login,
            )
        )
    return exit_code
