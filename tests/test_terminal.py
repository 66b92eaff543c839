"""The installed app in a real pseudo-terminal, answered like a person would."""

from __future__ import annotations

import re

import pexpect
import pytest
from helpers import TOKEN, TOKEN_ID

from sipgate_tui.simulator import SipgateSimulator

pytestmark = pytest.mark.pty
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7])(;[0-9;]*)?m")


def spawn(script: str, env: dict[str, str], *args: str, columns: int = 100) -> pexpect.spawn:
    return pexpect.spawn(
        script, list(args), env=env, dimensions=(40, columns), encoding="utf-8", timeout=15
    )


@pytest.fixture
def env(clean_env: dict[str, str], simulator: SipgateSimulator) -> dict[str, str]:
    env = {
        **clean_env,
        "SIPGATE_API_URL": simulator.url,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("COLUMNS")  # the terminal's own size must decide
    return env


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    assert "Traceback" not in (child.before or "")
    return child.exitstatus


def test_a_person_places_a_call_by_answering_the_prompts(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    child = spawn(console_script, env, "call")
    child.expect("Whom do you want to call?")
    child.send("+49 (157) 999-12345")
    child.expect("→ \\+49 1579 9912345")  # the live hint, drawn at the right edge
    child.send("\r")
    child.expect("Which phone rings first?")
    child.expect("Desk phone \\(e0\\) · online")
    child.expect("Softphone \\(laptop\\) \\(e1\\) · offline")  # offline ones come last
    child.send("\r")
    child.expect("Which number should they see?")
    child.expect("The phone's own number")
    child.send("\r")
    child.expect("Ready to call")
    child.expect("Place this call\\?.*y/N")
    child.send("y")
    child.expect("Call accepted")
    child.expect("Connected to")  # the live view, once it is picked up
    child.send("h")
    child.expect("You hung up after")
    assert finish(child) == 0
    assert [r.json for r in simulator.call_requests()] == [
        {"caller": "e0", "callee": "+4915799912345"}
    ]
    assert simulator.active_calls == {}  # really hung up: DELETE /calls/{id}


def test_the_second_call_needs_only_arrows_and_enter(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    down = "\x1b[B"
    first = spawn(console_script, env, "call")
    first.expect("Whom do you want to call?")
    first.send("0157 99912345\r")
    first.expect("Which phone rings first?")
    first.send(down + down + "\r")  # Mobile (y0)
    first.expect("Which number should they see?")
    first.send("\r")
    first.expect("Place this call")
    first.send("y")
    first.expect("Ringing|Connected")
    first.send("q")  # leave the call running
    first.expect("The call goes on|Stopped watching")
    assert finish(first) == 0

    second = spawn(console_script, env, "call")
    second.expect("Enter: the last number again")
    second.send("0157")
    second.expect("recent")  # the last number, suggested as you type
    second.send("\x15")  # Ctrl-U: clear the line again
    second.expect("Enter: the last number again")
    second.send("\r")
    second.expect("Which phone rings first?")
    # The phone used last comes first (and is highlighted, so Enter takes it).
    assert second.expect(["Mobile \\(y0\\)", "Desk phone \\(e0\\)"]) == 0
    second.send("\r")
    second.expect("Which number should they see?")
    second.send("\r")
    second.expect("Place this call")
    second.send("\x1b[D")  # an arrow switches the answer to Yes; Enter takes it
    second.expect("Yes")
    second.send("\r")
    second.expect("Ringing|Connected")
    second.send("q")
    assert finish(second) == 0
    assert [r.json for r in simulator.call_requests()] == 2 * [
        {"caller": "y0", "callee": "+4915799912345"}
    ]


def test_ctrl_c_at_the_first_prompt_cancels_with_130(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    child = spawn(console_script, env, "call")
    child.expect("Whom do you want to call?")
    child.sendintr()
    child.expect("Cancelled")
    assert finish(child) == 130
    assert simulator.call_requests() == []


def test_no_at_the_confirmation_cancels_with_130(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    child = spawn(console_script, env, "call", "0157 99912345", "-d", "e0")
    child.expect("Place this call?")
    child.send("n")
    child.expect("No call was placed")
    assert finish(child) == 130
    assert simulator.call_requests() == []


def test_a_40_column_terminal_without_colour(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    child = spawn(
        console_script,
        {**env, "NO_COLOR": "1"},
        "call",
        "0157 99912345",
        "-d",
        "e9",
        "--yes",
        columns=40,
    )
    assert finish(child) == 4
    text = child.before
    assert "refused to place this call" in re.sub(r"\s*│\s*", " ", text)
    assert not COLOUR.search(text)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)
    assert max(len(line) for line in plain.splitlines()) <= 40


def test_ctrl_c_while_the_request_is_on_its_way_says_it_may_have_been_placed(
    console_script: str, env: dict[str, str]
) -> None:
    from servers import SilentServer

    with SilentServer() as server:
        child = spawn(
            console_script,
            {**env, "SIPGATE_API_URL": server.url},
            "call",
            "0157 99912345",
            "-d",
            "e0",
            "--yes",
            "--timeout",
            "30",
        )
        child.expect("Placing the call")
        deadline = 100
        while b"POST /v2/sessions/calls" not in server.received and deadline:
            child.expect([pexpect.TIMEOUT], timeout=0.05)  # let the request arrive
            deadline -= 1
        child.sendintr()
        child.expect("may have been placed")
        assert finish(child) == 6
        assert server.received.count(b"POST /v2/sessions/calls") == 1


def test_a_person_places_a_call_on_a_sipgate_neo_account(
    console_script: str, env: dict[str, str]
) -> None:
    with SipgateSimulator(account_type="neo") as neo:
        child = spawn(console_script, {**env, "SIPGATE_API_URL": neo.url}, "call")
        child.expect("Whom do you want to call?")
        child.send("0157 99912345\r")
        child.expect("Which phone rings first?")
        child.expect("Desk phone \\(e0\\) · online")
        child.send("\r")
        child.expect("Which number should they see?")
        child.send("\r")
        child.expect("Place this call\\?.*y/N")
        child.send("y")
        child.expect("Call accepted")
        child.expect("Call id")
        child.expect("Live call status is not available for sipgate Neo accounts yet")
        assert finish(child) == 0
        placing = [r for r in neo.requests if r.method == "POST"]
        # The probes alongside the questions told the type: the Neo request, once.
        assert [r.path for r in placing] == ["/calls"]
        assert placing[0].json == {
            "deviceId": "e0",
            "targetNumber": "4915799912345",
            "channelId": "ch0",
        }
