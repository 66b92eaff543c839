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

# Problems that mean "no working credentials" (exit 3), reported inside the status itself.
CREDENTIAL_PROBLEMS = {"credentials-missing", "credentials-corrupted", "incomplete-credentials"}


@dataclass(frozen=True)
class StatusOptions:
    """Options of ``status``."""

    json: bool = False
    timeout: float | None = None


def run(options: StatusOptions, ctx: AppContext) -> ExitCode:
    """Report the credentials' source and a live check; exit 3 when none work.

    Network trouble and keyring trouble are errors of their own (exit 5 / 7): then nobody can
    tell whether the credentials work.
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
        if error.code not in CREDENTIAL_PROBLEMS:
            raise
        problem = error

    if found is not None:
        client = ctx.make_client(found.credentials, timeouts)
        try:
            with ctx.waiting("Checking the token with sipgate…"):
                check = check_account(client)
        except ApiError as error:
            failure = read_problem(
                error,
                what="check the token",
                scope=None,
                connect_timeout=timeouts.connect,
                read_timeout=timeouts.read,
                credentials_source=found.source,
                login_command=login,
            )
            if failure.code != "unauthorized":
                raise failure from None
            problem = failure
        finally:
            client.close()

    valid = check is not None
    backend = found.backend if found else None
    if options.json:
        ctx.emit_json(
            {
                "ok": valid,
                "profile": profile,
                "source": found.source if found else None,
                "backend": backend,
                "tokenId": found.credentials.token_id if found else None,
                "tokenMasked": found.credentials.masked_token() if found else None,
                "valid": valid,
                "userId": check.user.user_id if check else None,
                "domain": check.user.domain if check else None,
                "scopes": check.scopes if check else {},
                "problem": problem.to_json()["error"] if problem else None,
            }
        )
    else:
        ctx.show(
            render.status_report(
                profile=profile,
                source=found.source if found else None,
                backend=backend,
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
    return ExitCode.OK if valid else ExitCode.CREDENTIALS
