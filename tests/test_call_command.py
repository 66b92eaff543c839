"""``call``'s run(options, context) with a scripted prompter and the loopback simulator."""

from __future__ import annotations

import json

import pytest
from helpers import TOKEN, TOKEN_ID, ScriptedPrompter, flat, make_context, output_of

from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.errors import AppError, Cancelled, ExitCode
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator


def test_all_values_given_with_yes_places_exactly_one_call(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url)
    code = run(CallOptions(callee="0157 99912345", device="e0", yes=True), ctx)

    assert code == ExitCode.OK
    [request] = simulator.call_requests()
    assert request.json == {"caller": "e0", "callee": "+4915799912345"}
    shown = output_of(ctx.out)
    assert "Call accepted" in shown
    assert simulator.sessions[0]["sessionId"] in shown
    assert "+49 1579 9912345" in shown and "e0" in shown
    assert "Nothing rings within a minute?" in shown


def test_caller_number_with_device_sends_device_id_and_caller_id(
    simulator: SipgateSimulator,
) -> None:
    ctx = make_context(simulator.url)
    run(
        CallOptions(
            callee="+4915799912345",
            caller="0211 5550001",
            device="e0",
            caller_id="0211 5550002",
            yes=True,
        ),
        ctx,
    )
    [request] = simulator.call_requests()
    assert request.json == {
        "caller": "+492115550001",
        "callee": "+4915799912345",
        "deviceId": "e0",
        "callerId": "+492115550002",
    }


def test_json_success_is_one_document_with_the_request_and_warnings(
    simulator: SipgateSimulator,
) -> None:
    ctx = make_context(simulator.url)
    run(CallOptions(callee="4915799912345", device="e0", yes=True, json=True), ctx)
    document = json.loads(output_of(ctx.out))
    assert document["ok"] is True
    assert document["sessionId"] == simulator.sessions[0]["sessionId"]
    assert document["request"] == {"caller": "e0", "callee": "+4915799912345"}
    assert "read as an international number" in document["warnings"][0]
    assert output_of(ctx.err) == ""


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (CallOptions(device="e0", yes=True), "whom to call (the CALLEE argument)"),
        (CallOptions(callee="0157 99912345", yes=True), "--device"),
        (
            CallOptions(callee="0157 99912345", caller="0211 5550001", yes=True),
            "--device (required with --caller)",
        ),
        (CallOptions(), "whom to call (the CALLEE argument) and --device"),
    ],
)
def test_without_a_terminal_a_missing_value_is_a_usage_error_naming_it(
    simulator: SipgateSimulator, options: CallOptions, fragment: str
) -> None:
    with pytest.raises(AppError) as caught:
        run(options, make_context(simulator.url))
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.code == "missing-value"
    assert fragment in caught.value.message
    assert simulator.requests == []


def test_without_a_terminal_a_call_needs_yes(simulator: SipgateSimulator) -> None:
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="0157 99912345", device="e0"), make_context(simulator.url))
    assert (caught.value.code, caught.value.exit_code) == ("confirmation-required", ExitCode.USAGE)
    assert "there is no terminal to ask on" in caught.value.message
    assert "--yes" in caught.value.hint
    assert simulator.requests == []


def test_no_input_never_prompts_even_on_a_terminal(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url, terminal=True, no_input=True)  # prompting would fail
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="0157 99912345"), ctx)
    assert caught.value.message == (
        "Missing --device: --no-input (or SIPGATE_TUI_NO_INPUT) forbids questions."
    )


def test_json_never_prompts_even_on_a_terminal(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url, terminal=True)
    with pytest.raises(AppError) as caught:
        run(CallOptions(callee="0157 99912345", device="e0", json=True), ctx)
    assert caught.value.code == "confirmation-required"
    assert "--json never asks questions" in caught.value.message


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (CallOptions(callee="e0", device="e0", yes=True), "invalid-number"),
        (CallOptions(callee="0157 99912345", device="e01", yes=True), "invalid-device"),
        (CallOptions(callee="0157 99912345", device="e0", caller="e1", yes=True), "invalid-caller"),
        (
            CallOptions(callee="0157 99912345", device="e0", caller_id="abc", yes=True),
            "invalid-number",
        ),
        (CallOptions(callee="0157 99912345", device="e0", region="XX", yes=True), "invalid-region"),
        (CallOptions(callee="0157 99912345", device="e0", timeout=0, yes=True), "invalid-timeout"),
        (CallOptions(callee="112", device="e0", yes=True), "emergency-number"),
    ],
)
def test_bad_values_are_refused_before_anything_is_sent(
    simulator: SipgateSimulator, options: CallOptions, code: str
) -> None:
    with pytest.raises(AppError) as caught:
        run(options, make_context(simulator.url))
    assert (caught.value.code, caught.value.exit_code) == (code, ExitCode.USAGE)
    assert simulator.requests == []


def test_dry_run_shows_the_request_with_the_token_masked_and_sends_nothing(
    simulator: SipgateSimulator,
) -> None:
    ctx = make_context(simulator.url, width=120)
    code = run(
        CallOptions(callee="0157 99912345", device="e0", caller_id="0211 5550001", dry_run=True),
        ctx,
    )
    assert code == ExitCode.OK
    shown = output_of(ctx.out)
    assert f"POST {simulator.url}/sessions/calls" in shown
    assert '"callee": "+4915799912345"' in shown and '"callerId": "+492115550001"' in shown
    assert f"Authorization: Basic base64({TOKEN_ID}:••••" in shown
    assert TOKEN not in shown
    assert "nothing was sent" in shown
    assert simulator.requests == []


def test_dry_run_needs_no_credentials_and_no_yes(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url, env={})
    code = run(CallOptions(callee="0157 99912345", device="e0", dry_run=True, json=True), ctx)
    assert code == ExitCode.OK
    document = json.loads(output_of(ctx.out))
    assert document["dryRun"] is True
    assert document["request"] == {"caller": "e0", "callee": "+4915799912345"}
    assert document["http"]["method"] == "POST"
    assert "a dry run does not read" in document["http"]["headers"]["Authorization"]
    assert simulator.requests == []


# -- interactive, with a scripted prompter ---------------------------------------------------
# A token without the read scopes: the questions fall back to typed input, with a hint.


@pytest.fixture
def typing_simulator(simulator: SipgateSimulator) -> SipgateSimulator:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    return simulator


def test_the_guided_flow_asks_for_each_value_then_confirms(
    typing_simulator: SipgateSimulator,
) -> None:
    prompter = ScriptedPrompter(["0157 99912345", "e0", "", True])
    ctx = make_context(typing_simulator.url, prompter=prompter, terminal=True)

    assert run(CallOptions(), ctx) == ExitCode.OK

    assert prompter.questions == [
        "Whom do you want to call?",
        "Which phone rings first?",
        "Which number should they see?",
        "Place this call?",
    ]
    shown = flat(output_of(ctx.out))
    assert "Your token lacks the scope devices:read" in shown
    assert "Your token lacks the scope numbers:read" in shown
    assert shown.index("Ready to call") < shown.index("Call accepted")
    assert "your VoIP phone e0" in shown and "the phone's own number" in shown
    assert [r.json for r in typing_simulator.call_requests()] == [
        {"caller": "e0", "callee": "+4915799912345"}
    ]


def test_invalid_answers_are_rejected_with_the_reason_and_asked_again(
    typing_simulator: SipgateSimulator,
) -> None:
    prompter = ScriptedPrompter(
        ["0l57", "110", "+49 (157) 999-12345", "e01", "w0", "e0", "e1", "0211 5550001", True]
    )
    run(CallOptions(), make_context(typing_simulator.url, prompter=prompter, terminal=True))
    reasons = [reason for _, reason in prompter.rejected]
    assert "contains letters" in reasons[0]
    assert "emergency number" in reasons[1]
    assert "no leading zero" in reasons[2]
    assert "web user" in reasons[3]
    assert "device id" in reasons[4]  # a device id typed as caller ID
    assert all(len(reason) <= 90 for reason in reasons)  # one line under the prompt
    assert typing_simulator.call_requests()[0].json["callerId"] == "+492115550001"


def test_the_live_hint_shows_the_normalised_number_while_typing(
    typing_simulator: SipgateSimulator,
) -> None:
    prompter = ScriptedPrompter(["0049 15799912345", "e0", "", True])
    run(CallOptions(), make_context(typing_simulator.url, prompter=prompter, terminal=True))
    assert prompter.live_hints[:2] == ["→ +49 1579 9912345 (DE, mobile)", "→ VoIP phone e0"]


def test_only_missing_values_are_asked(typing_simulator: SipgateSimulator) -> None:
    prompter = ScriptedPrompter(["e0", "", True])
    ctx = make_context(typing_simulator.url, prompter=prompter, terminal=True)
    run(CallOptions(callee="0157 99912345"), ctx)
    assert "Whom do you want to call?" not in prompter.questions


def test_every_value_given_on_a_terminal_still_shows_the_summary_and_confirms(
    simulator: SipgateSimulator,
) -> None:
    prompter = ScriptedPrompter([True])
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)
    run(CallOptions(callee="0157 99912345", device="e0"), ctx)
    assert prompter.questions == ["Place this call?"]
    shown = flat(output_of(ctx.out))
    assert "Ready to call" in shown
    assert "your Desk phone (e0)" in shown  # the account's name for it, looked up meanwhile


@pytest.mark.parametrize("cancel_at", [0, 1, 2, 3])
def test_ctrl_c_at_any_prompt_cancels_and_sends_nothing(
    typing_simulator: SipgateSimulator, cancel_at: int
) -> None:
    # The answers up to the Ctrl-C, none after: the prompter fails on answers never used.
    answers: list[object] = [*["0157 99912345", "e0", "", True][:cancel_at], KeyboardInterrupt]
    ctx = make_context(typing_simulator.url, prompter=ScriptedPrompter(answers), terminal=True)
    with pytest.raises(Cancelled) as caught:
        run(CallOptions(), ctx)
    assert caught.value.exit_code == ExitCode.CANCELLED
    assert typing_simulator.call_requests() == []


def test_answering_no_at_the_confirmation_cancels(typing_simulator: SipgateSimulator) -> None:
    prompter = ScriptedPrompter(["0157 99912345", "e0", "", False])
    with pytest.raises(Cancelled, match="No call was placed"):
        run(CallOptions(), make_context(typing_simulator.url, prompter=prompter, terminal=True))
    assert typing_simulator.call_requests() == []


def test_missing_credentials_are_reported_before_any_question(simulator: SipgateSimulator) -> None:
    prompter = ScriptedPrompter([])
    with pytest.raises(AppError) as caught:
        run(CallOptions(), make_context(simulator.url, prompter=prompter, terminal=True, env={}))
    assert simulator.requests == []
    assert (caught.value.code, caught.value.exit_code) == (
        "credentials-missing",
        ExitCode.CREDENTIALS,
    )
    assert "sipgate-tui login" in caught.value.hint
    assert "SIPGATE_TOKEN_ID" in caught.value.hint
    assert prompter.questions == []
