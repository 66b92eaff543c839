"""``sipgate-tui call``: ask what is missing, show the call, confirm, place it, show the outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sipgate_tui import render
from sipgate_tui.api import ApiError, plain_headers
from sipgate_tui.commands.common import timeouts_from_option
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import Credentials, from_environment
from sipgate_tui.errors import AppError, Cancelled, ExitCode, InputError
from sipgate_tui.numbers import (
    PhoneNumber,
    describe_device,
    looks_like_device_id,
    parse_device_id,
    parse_phone_number,
    parse_region,
)
from sipgate_tui.plan import CallPlan
from sipgate_tui.problems import UNKNOWN_OUTCOME_HINT, call_problem
from sipgate_tui.prompts import LiveHint, Prompter, Validator

NUMBER_EXAMPLE = "e.g. 0157 99912345 or +49 157 99912345"


@dataclass(frozen=True)
class CallOptions:
    """What the user gave on the command line; None means 'not given'."""

    callee: str | None = None
    device: str | None = None
    caller: str | None = None
    caller_id: str | None = None
    region: str = "DE"
    yes: bool = False
    dry_run: bool = False
    json: bool = False
    timeout: float | None = None


def run(options: CallOptions, ctx: AppContext) -> ExitCode:
    """Place one call (or show it, with ``--dry-run``). Raises AppError on any failure."""
    region = parse_region(options.region)
    timeouts = timeouts_from_option(options.timeout)
    interactive = ctx.can_prompt(json_mode=options.json)

    device = parse_device_id(options.device) if options.device is not None else None
    ring_number = _parse_ring_number(options.caller, region)
    callee = parse_phone_number(options.callee, region, what="callee") if options.callee else None
    caller_id = _parse_caller_id(options.caller_id, region)

    if not interactive:
        reason = ctx.why_no_prompts(json_mode=options.json)
        _require_values(
            callee=callee, device=device, with_caller=ring_number is not None, reason=reason
        )
        if not (options.yes or options.dry_run):
            raise InputError(
                "confirmation-required",
                f"Not placing a call without confirmation: {reason}.",
                hint="A call costs money, so scripts must say so: add --yes (or -y). "
                "Use --dry-run to see the request without sending it.",
            )

    # Credentials before any question, so nobody answers three prompts only to learn that
    # nothing can be sent. A dry run needs none (it may show the environment's token id).
    found = None if options.dry_run else ctx.find_credentials()

    prompter: Prompter | None = None
    if interactive and (device is None or callee is None):
        prompter = ctx.make_prompter()
        if device is None:
            device = _ask_device(prompter, through_number=ring_number is not None)
        if callee is None:
            callee = _ask_number(prompter, "Whom do you want to call?", region)
        if options.caller_id is None:
            caller_id = _ask_caller_id(prompter, region)
    assert device is not None and callee is not None  # guaranteed by the checks above

    plan = CallPlan(
        device_id=device,
        callee=callee,
        ring_number=ring_number,
        caller_id=caller_id,
        notes=tuple(
            note for number in (ring_number, callee, caller_id) if number for note in number.notes
        ),
    )

    if options.dry_run:
        _show_dry_run(plan, ctx, options.json)
        return ExitCode.OK

    summary_shown = False
    if not options.yes:
        ctx.show(render.call_summary(plan))
        summary_shown = True
        prompter = prompter or ctx.make_prompter()
        # No is the default: an Enter typed ahead (say, to accept the caller ID) must not
        # place a call nobody has looked at.
        if not prompter.confirm("Place this call?", default=False):
            raise Cancelled("Cancelled. No call was placed.")

    assert found is not None
    client = ctx.make_client(found.credentials, timeouts)
    try:
        with ctx.waiting(f"Placing the call: ringing {device} first…"):
            session_id = client.place_call(plan.request)
    except KeyboardInterrupt:
        # The request may already be on its way: "cancelled" would invite a second call.
        raise AppError(
            "interrupted",
            "Interrupted while the call request was on its way: the call may have been placed.",
            exit_code=ExitCode.OUTCOME_UNKNOWN,
            hint=UNKNOWN_OUTCOME_HINT,
        ) from None
    except ApiError as error:
        raise call_problem(
            error,
            device=device,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            credentials_source=found.source,
        ) from None
    finally:
        client.close()

    if options.json:
        ctx.emit_json(
            {
                "ok": True,
                "sessionId": session_id,
                "request": plan.request.body(),
                "warnings": list(plan.notes),
            }
        )
    else:
        ctx.show(render.call_accepted(plan, session_id, show_notes=not summary_shown))
    return ExitCode.OK


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


def _require_values(
    *, callee: PhoneNumber | None, device: str | None, with_caller: bool, reason: str
) -> None:
    missing = []
    if callee is None:
        missing.append("whom to call (the CALLEE argument)")
    if device is None:
        missing.append("--device" + (" (required with --caller)" if with_caller else ""))
    if missing:
        raise InputError(
            "missing-value",
            "Missing " + " and ".join(missing) + f": {reason}.",
            hint="Pass every value as an option, e.g. "
            "sipgate-tui call +4915799912345 --device e0 --yes",
        )


# -- questions -----------------------------------------------------------------------------


def _problem_text(error: AppError) -> str:
    return error.message if not error.hint else f"{error.message} {error.hint}"


def _validator(parse: Callable[[str], object], *, optional: bool = False) -> Validator:
    def validate(text: str) -> str | None:
        if optional and not text.strip():
            return None
        try:
            parse(text)
        except InputError as error:
            return _problem_text(error)
        return None

    return validate


def _live(describe: Callable[[str], str | None]) -> LiveHint:
    """What the text typed so far means; silent while it means nothing yet (still typing)."""

    def live(text: str) -> str:
        try:
            meaning = describe(text) if text.strip() else None
        except InputError:
            meaning = None
        return f"→ {meaning}" if meaning else ""

    return live


def _describe_complete(number: PhoneNumber) -> str | None:
    # A number libphonenumber cannot place in any range is most often one still being typed.
    return number.describe() if number.kind else None


def _ask_device(prompter: Prompter, *, through_number: bool) -> str:
    question = "Which device places the call?" if through_number else "Which phone rings first?"
    answer = prompter.text(
        question,
        validate=_validator(parse_device_id),
        placeholder="device id, e.g. e0",
        live_hint=_live(lambda text: describe_device(parse_device_id(text))),
    )
    return parse_device_id(answer)


def _ask_number(prompter: Prompter, question: str, region: str) -> PhoneNumber:
    def parse(text: str) -> PhoneNumber:
        return parse_phone_number(text, region, what="callee")

    answer = prompter.text(
        question,
        validate=_validator(parse),
        placeholder=NUMBER_EXAMPLE,
        live_hint=_live(lambda text: _describe_complete(parse(text))),
    )
    return parse(answer)


def _ask_caller_id(prompter: Prompter, region: str) -> PhoneNumber | None:
    def parse(text: str) -> PhoneNumber:
        return parse_phone_number(text, region, what="caller ID")

    answer = prompter.text(
        "Which number should they see?",
        validate=_validator(parse, optional=True),
        placeholder="Enter: the phone's own number",
        live_hint=_live(lambda text: _describe_complete(parse(text))),
    )
    return _parse_caller_id(answer, region)


# -- dry run ---------------------------------------------------------------------------------


def _show_dry_run(plan: CallPlan, ctx: AppContext, json_mode: bool) -> None:
    url = f"{ctx.options.api_url}/sessions/calls"
    headers = plain_headers(has_body=True)
    headers["Authorization"] = _masked_authorization(ctx)
    body = plan.request.body()
    if json_mode:
        ctx.emit_json(
            {
                "ok": True,
                "dryRun": True,
                "request": body,
                "http": {"method": "POST", "url": url, "headers": headers},
                "warnings": list(plan.notes),
            }
        )
    else:
        if plan.notes:
            ctx.show(render.notes(plan.notes))
        ctx.show(render.dry_run("POST", url, headers, body))


def _masked_authorization(ctx: AppContext) -> str:
    """What the Authorization header would carry, with the token masked.

    Only the environment is consulted: a dry run must not unlock or read the keyring.
    """
    try:
        credentials: Credentials | None = from_environment(ctx.env)
    except AppError:
        credentials = None
    if credentials is None:
        return "Basic base64(<token id>:<token>) (from the keyring, which a dry run does not read)"
    return f"Basic base64({credentials.token_id}:{credentials.masked_token()})"
