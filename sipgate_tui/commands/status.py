"""``sipgate-tui status``: where the credentials come from, whether they work, what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipgate_tui import account_type, render
from sipgate_tui.api import ApiError, Timeouts
from sipgate_tui.commands.common import timeouts_from_option
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import FoundCredentials, profile_command, resolve
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.token_check import AccountCheck, check_account

if TYPE_CHECKING:
    from rich.console import RenderableType

    from sipgate_tui.profiles_index import StoredProfile


@dataclass(frozen=True)
class StatusOptions:
    """Options of ``status``; ``all``: every stored profile (``profile_from``: where the
    global --profile came from, to mark the one in use)."""

    json: bool = False
    timeout: float | None = None
    all: bool = False
    profile_from: str = "default"


def run(options: StatusOptions, ctx: AppContext) -> ExitCode:
    """Report the credentials' source and a live check.

    Every outcome prints the status (source, token id masked, check, scopes, as far as known)
    and, when something is wrong, the problem with its fix. Exit 0 when the credentials work,
    3 when there are none or sipgate rejects them, 5 when sipgate cannot be reached, 7 when the
    keyring cannot be read: in the last two cases nobody can tell whether they work.
    ``--all``: :func:`run_all`.
    """
    if options.all:
        return run_all(options, ctx)
    login = profile_command(ctx.options.profile, "login")
    timeouts = timeouts_from_option(options.timeout)
    findings = _look(ctx, timeouts)
    valid, exit_code = findings.verdict()
    account = _account(ctx, findings)
    if options.json:
        ctx.emit_json(_document(ctx, findings, valid, exit_code, account))
    else:
        ctx.show(_report(ctx, findings, valid, login, account))
    return exit_code


@dataclass(frozen=True)
class _Account:
    """The account type status reports: the one in use, why, and what this run detected."""

    type: str
    why: str
    detected: str | None


def _account(ctx: AppContext, findings: _Findings) -> _Account:
    """The account type in use (forced, detected now, or remembered), and why; a type found
    now for the first time is remembered for the token (one write, main thread)."""
    store = ctx.make_settings()
    setting = account_type.setting_of(store)
    option = ctx.options.account_type
    token_id = findings.found.credentials.token_id if findings.found else None
    remembered = account_type.remembered_of(store, token_id)
    check = findings.check
    detected = check.account_type if check else None
    found, why = account_type.resolve(
        forced=account_type.forced_choice(option, setting),
        by=account_type.forced_by(option, setting, ctx.env),
        detected=detected,
        reason=check.account_type_reason if check else "could not be checked",
        remembered=remembered,
    )
    if token_id is not None and detected is not None:
        account_type.remember_detected(store, token_id, detected, remembered)
    return _Account(found, why, detected)


@dataclass(frozen=True)
class _Findings:
    """What status found out: the credentials, sipgate's answer about them, what went wrong."""

    found: FoundCredentials | None = None
    check: AccountCheck | None = None
    problem: AppError | None = None

    def verdict(self) -> tuple[bool | None, ExitCode]:
        """Whether the credentials work, and the exit code that says so.

        True: sipgate accepted them. False: there are none, or sipgate rejected them. None:
        nobody can tell (sipgate unreachable, keyring unreadable).
        """
        if self.check is not None:
            return True, ExitCode.OK
        if self.problem is None or self.problem.exit_code == ExitCode.CREDENTIALS:
            return False, ExitCode.CREDENTIALS
        return None, self.problem.exit_code


def _look(ctx: AppContext, timeouts: Timeouts) -> _Findings:
    """Find the credentials and ask sipgate about them; a problem stops the look, not status.

    Always keyring's full discovery (never the backend remembered for the fast path): status
    shows what keyring chooses, and corrects what is remembered."""
    try:
        found = resolve(ctx.env, ctx.make_store, ctx.options.profile, discover=True)
    except AppError as error:  # no credentials (or an unreadable keyring)
        return _Findings(problem=error)
    return _check(ctx, found, timeouts, ctx.options.profile)


def _check(ctx: AppContext, found: FoundCredentials, timeouts: Timeouts, profile: str) -> _Findings:
    """Ask sipgate about ``found`` (the credentials of ``profile``)."""
    client = ctx.make_client(found.credentials, timeouts)
    try:
        with ctx.waiting("Checking the token with sipgate…"):
            return _Findings(found, check=check_account(client))
    except ApiError as error:
        from sipgate_tui.problems import read_problem  # its tables: only when something failed

        problem = read_problem(
            error,
            what="check the token",
            scope=None,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            credentials_source=found.source,
            login_command=profile_command(profile, "login"),
        )
        return _Findings(found, problem=problem)
    finally:
        client.close()


def _document(
    ctx: AppContext,
    findings: _Findings,
    valid: bool | None,
    exit_code: ExitCode,
    account: _Account,
) -> dict[str, object]:
    """The ``--json`` answer (``accountType``: the type in use; ``accountTypeDetected``: what
    this run's probes found, null when sipgate was not asked)."""
    found, check, problem = findings.found, findings.check, findings.problem
    document: dict[str, object] = {
        "ok": check is not None,
        "profile": ctx.options.profile,
        "apiUrl": ctx.options.api_url,
        "source": found.source if found else None,
        "backend": found.backend if found else None,
        "tokenId": found.credentials.token_id if found else None,
        "tokenMasked": found.credentials.masked_token() if found else None,
        "valid": valid,
        "userId": check.user.user_id if check else None,
        "domain": check.user.domain if check else None,
        "scopes": check.scopes if check else {},
        "accountType": account.type,
        "accountTypeDetected": account.detected,
        "accountTypeWhy": account.why,
        "exitCode": int(exit_code),
    }
    if problem is not None:
        document["error"] = problem.to_json()["error"]
    return document


def _report(
    ctx: AppContext, findings: _Findings, valid: bool | None, login: str, account: _Account
) -> RenderableType:
    """The status as a person reads it; the account type only when there is a token that
    sipgate accepted or could not be asked about."""
    found, check = findings.found, findings.check
    shown = found is not None and valid is not False
    return render.status_report(
        profile=ctx.options.profile,
        api_url=ctx.options.api_url,
        source=found.source if found else None,
        backend=found.backend if found else None,
        token_id=found.credentials.token_id if found else None,
        token_masked=found.credentials.masked_token() if found else None,
        user_id=check.user.user_id if check else None,
        domain=check.user.domain if check else None,
        valid=valid,
        scopes=check.scopes if check else {},
        problem=findings.problem,
        login_command=login,
        account_type=account.type if shown else None,
        account_why=account.why if shown else None,
    )


# -- status --all ---------------------------------------------------------------------------------


def run_all(options: StatusOptions, ctx: AppContext) -> ExitCode:
    """Check every stored profile's token with sipgate: one row (one JSON object) each.

    The exit code is the worst of them, by number: 0 when every token works, 3 when one was
    rejected (or none is stored at all), 5 when sipgate could not be reached, 7 when the
    keyring could not be read. The environment's credentials are not checked here (plain
    ``status`` does); the note says when they override the profiles.
    """
    from sipgate_tui.commands.profiles import in_use, list_profiles

    timeouts = timeouts_from_option(options.timeout)
    listing = list_profiles(ctx)
    using = in_use(ctx, options.profile_from)
    checked: list[tuple[StoredProfile, _Findings]] = []
    for entry in listing.profiles:
        if entry.credentials is not None:
            found = FoundCredentials(entry.credentials, "keyring", entry.backend)
            checked.append((entry, _check(ctx, found, timeouts, entry.name)))
        elif entry.stored is not False:  # an unreadable item, or a keyring that did not answer
            checked.append((entry, _Findings(problem=entry.problem)))
    codes = [findings.verdict()[1] for _, findings in checked]
    worst = max(codes, default=ExitCode.CREDENTIALS)  # nothing stored: no working credentials
    if options.json:
        ctx.emit_json([_profile_document(entry, f, using.profile) for entry, f in checked])
        return worst
    rows = [_profile_row(entry, findings, using.profile) for entry, findings in checked]
    ctx.show(render.status_all_table(rows, in_use=using.sentence()))
    notes = [
        f"{entry.name}: {findings.problem.message}"
        for entry, findings in checked
        if findings.problem is not None
    ]
    if notes:
        ctx.show(render.notes(notes))
    return worst


def _profile_document(
    entry: StoredProfile, findings: _Findings, in_use: str | None
) -> dict[str, object]:
    """One profile of ``status --all --json`` (the README documents the shape)."""
    check, problem = findings.check, findings.problem
    valid, exit_code = findings.verdict()
    credentials = entry.credentials
    document: dict[str, object] = {
        "profile": entry.name,
        "inUse": entry.name == in_use,
        "backend": entry.backend,
        "tokenId": credentials.token_id if credentials else None,
        "tokenMasked": credentials.masked_token() if credentials else None,
        "valid": valid if credentials else None,
        "userId": check.user.user_id if check else None,
        "domain": check.user.domain if check else None,
        "scopes": check.scopes if check else {},
        "accountTypeDetected": check.account_type if check else None,
        "exitCode": int(exit_code),
    }
    if problem is not None:
        document["error"] = problem.to_json()["error"]
    return document


def _profile_row(
    entry: StoredProfile, findings: _Findings, in_use: str | None
) -> render.ProfileRow:
    check, credentials = findings.check, entry.credentials
    valid = findings.verdict()[0]
    problem = findings.problem
    return render.ProfileRow(
        name=entry.name,
        token_id=credentials.token_id if credentials else None,
        token_masked=credentials.masked_token() if credentials else None,
        where=problem.title if problem is not None else "",
        in_use=entry.name == in_use,
        valid=valid,
        user_id=check.user.user_id if check else None,
        domain=check.user.domain if check else None,
    )
