"""``status``, ``logout`` and the bare guided mode."""

from __future__ import annotations

import json
import threading

import keyring
import pytest
from helpers import (
    TOKEN,
    TOKEN_ID,
    BlockingKeyring,
    FailingWriteKeyring,
    LockedKeyring,
    MemoryKeyring,
    ScriptedPrompter,
    flat,
    make_context,
    output_of,
)
from keyring.backends import fail
from keyring.errors import KeyringError
from servers import closed_port_url

from sipgate_tui.commands import guided
from sipgate_tui.commands.logout import LogoutOptions
from sipgate_tui.commands.logout import run as logout
from sipgate_tui.commands.status import StatusOptions
from sipgate_tui.commands.status import run as status
from sipgate_tui.credentials import Credentials, encode_item
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator

ENV = {"SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": TOKEN}


def store_token(backend: MemoryKeyring, profile: str = "default") -> None:
    backend.set_password("sipgate-tui", profile, encode_item(Credentials(TOKEN_ID, TOKEN)))


def status_json(api_url: str, **kwargs: object) -> tuple[int, dict]:
    ctx = make_context(api_url, **kwargs)
    code = status(StatusOptions(json=True), ctx)
    assert output_of(ctx.err) == ""
    return code, json.loads(output_of(ctx.out))


def test_status_from_the_environment(simulator: SipgateSimulator) -> None:
    code, document = status_json(simulator.url, env=ENV)
    assert code == ExitCode.OK
    assert document["source"] == "env" and document["backend"] is None
    assert (document["tokenId"], document["tokenMasked"]) == (TOKEN_ID, "••••9f84")
    assert (document["valid"], document["userId"], document["domain"]) == (
        True,
        "w0",
        "simulated.sipgate.test",
    )
    assert document["scopes"] == {
        "devices:read": True,
        "numbers:read": True,
        "rtcm:read": True,
        "history:read": True,
        "contacts:read": True,
        "channels:read": None,  # a classic account has no channels: a 404 tells nothing
        "groups:read": True,
        "phonelines:read": True,
    }
    assert document["accountType"] == "classic"
    assert TOKEN not in json.dumps(document)


def test_status_from_the_keyring_names_the_backend(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    store_token(memory_keyring)
    code, document = status_json(simulator.url, env={})
    assert (code, document["source"]) == (ExitCode.OK, "keyring")
    assert "MemoryKeyring" in document["backend"]


def test_status_human_output_masks_the_token_and_names_the_source(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    store_token(memory_keyring)
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    ctx = make_context(simulator.url, env={})
    assert status(StatusOptions(), ctx) == ExitCode.OK
    shown = flat(output_of(ctx.out))
    assert "your keyring" in shown and "item sipgate-tui / default" in shown
    assert "••••9f84" in shown and TOKEN not in shown
    assert "token accepted: user w0" in shown
    assert "✗ devices:read" in shown and "run `sipgate-tui login`" in shown


def test_no_credentials_is_exit_3_with_the_fix(simulator: SipgateSimulator) -> None:
    code, document = status_json(simulator.url, env={})
    assert code == ExitCode.CREDENTIALS
    assert (document["source"], document["valid"], document["tokenId"]) == (None, False, None)
    assert (document["ok"], document["exitCode"]) == (False, 3)
    assert document["error"]["code"] == "credentials-missing"
    assert "sipgate-tui login" in document["error"]["hint"]
    assert simulator.requests == []


def test_rejected_credentials_are_exit_3(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url, env={"SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": "nope"})
    assert status(StatusOptions(), ctx) == ExitCode.CREDENTIALS
    shown = flat(output_of(ctx.out))
    assert "token not accepted" in shown and "(HTTP 401)" in shown
    assert "SIPGATE_TOKEN_ID and SIPGATE_TOKEN are in use" in shown


def test_a_corrupted_item_is_reported_in_the_status(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password("sipgate-tui", "default", "{not json")
    code, document = status_json(simulator.url, env={})
    assert code == ExitCode.CREDENTIALS
    assert document["error"]["code"] == "credentials-corrupted"


def test_status_cannot_tell_without_a_network(simulator: SipgateSimulator) -> None:
    ctx = make_context(closed_port_url(), env=ENV)
    assert status(StatusOptions(timeout=0.5, json=True), ctx) == ExitCode.NETWORK
    document = json.loads(output_of(ctx.out))
    assert (document["source"], document["tokenId"], document["valid"]) == ("env", TOKEN_ID, None)
    assert document["error"]["code"] == "connection-refused"


def test_status_without_a_network_still_shows_the_source(simulator: SipgateSimulator) -> None:
    ctx = make_context(closed_port_url(), env=ENV)
    status(StatusOptions(timeout=0.5), ctx)
    shown = flat(output_of(ctx.out))
    assert "the environment (SIPGATE_TOKEN_ID and SIPGATE_TOKEN)" in shown
    assert "could not be checked" in shown and "refused the connection" in shown


def test_status_with_a_locked_keyring_is_exit_7(simulator: SipgateSimulator) -> None:
    keyring.set_keyring(LockedKeyring())
    ctx = make_context(simulator.url, env={})
    assert status(StatusOptions(json=True), ctx) == ExitCode.ENVIRONMENT
    document = json.loads(output_of(ctx.out))
    assert (document["error"]["code"], document["valid"]) == ("keyring-locked", None)


class RaisingKeyring(MemoryKeyring):
    """A backend whose reads fail with keyring's generic error (a broken backend)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringError("the backend broke while reading")


def test_status_with_a_locked_keyring_says_keyring_locked_not_none_found(
    simulator: SipgateSimulator,
) -> None:
    keyring.set_keyring(LockedKeyring())
    ctx = make_context(simulator.url, env={})
    assert status(StatusOptions(), ctx) == ExitCode.ENVIRONMENT
    shown = flat(output_of(ctx.out) + output_of(ctx.err))
    assert "Credentials keyring locked" in shown and "none found" not in shown
    assert "Unlock your keyring" in shown
    assert simulator.requests == []  # nobody to ask about: no token was read


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        (BlockingKeyring, "keyring did not answer (it may be locked)"),
        (RaisingKeyring, "keyring could not be read"),
    ],
)
def test_status_names_other_keyring_troubles_too(
    simulator: SipgateSimulator, backend: type, says: str
) -> None:
    blocking = backend()
    keyring.set_keyring(blocking)
    try:
        ctx = make_context(simulator.url, env={}, keyring_timeout=0.5)
        assert status(StatusOptions(), ctx) == ExitCode.ENVIRONMENT
    finally:
        getattr(blocking, "release", threading.Event()).set()
    shown = flat(output_of(ctx.out) + output_of(ctx.err))
    assert f"Credentials {says}" in shown and "none found" not in shown


def test_status_without_any_keyring_still_says_none_found(simulator: SipgateSimulator) -> None:
    keyring.set_keyring(fail.Keyring())
    ctx = make_context(simulator.url, env={})
    assert status(StatusOptions(), ctx) == ExitCode.CREDENTIALS
    assert "Credentials none found" in flat(output_of(ctx.out))


def test_not_granted_reads_the_same_for_every_scope_at_every_width(
    simulator: SipgateSimulator,
) -> None:
    """The words "not granted" lead their line, so they never split over two lines, whatever
    the scope's words and the terminal's width."""
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, scopes=frozenset({"sessions:calls:write"}))
    for width in range(40, 121, 7):
        ctx = make_context(simulator.url, width=width)
        assert status(StatusOptions(), ctx) == ExitCode.OK
        lines = output_of(ctx.out).splitlines()
        text = output_of(ctx.out)
        missing = text.count("✗")
        assert missing >= 5, text  # every probed read scope
        assert text.count("not granted:") == missing, (width, text)
        for line in lines:
            words = line.strip(" │").split()
            assert words[-1:] != ["not"] and words[:1] != ["granted"], (width, line)


def test_logout_removes_the_item_and_says_which(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    store_token(memory_keyring)
    store_token(memory_keyring, "work")
    ctx = make_context(simulator.url, env={})
    assert logout(LogoutOptions(), ctx) == ExitCode.OK
    assert f"Removed the token {TOKEN_ID} of profile default" in flat(output_of(ctx.out))
    assert memory_keyring.items.keys() == {("sipgate-tui", "work")}

    again = make_context(simulator.url, env={})
    assert logout(LogoutOptions(), again) == ExitCode.OK
    assert "nothing to remove" in flat(output_of(again.out))


def test_logout_says_env_vars_still_apply(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    store_token(memory_keyring)
    ctx = make_context(simulator.url, env=ENV)
    logout(LogoutOptions(json=True), ctx)
    document = json.loads(output_of(ctx.out))
    assert document == {
        "ok": True,
        "profile": "default",
        "removed": True,
        "tokenId": TOKEN_ID,
        "backend": document["backend"],
        "environmentStillSet": True,
    }


def test_logout_without_a_keyring_is_exit_7(simulator: SipgateSimulator) -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(AppError) as caught:
        logout(LogoutOptions(), make_context(simulator.url, env={}))
    assert caught.value.exit_code == ExitCode.ENVIRONMENT


def test_logout_when_the_keyring_refuses(simulator: SipgateSimulator) -> None:
    backend = FailingWriteKeyring()
    backend.items[("sipgate-tui", "default")] = encode_item(Credentials(TOKEN_ID, TOKEN))
    keyring.set_keyring(backend)
    with pytest.raises(AppError) as caught:
        logout(LogoutOptions(), make_context(simulator.url, env={}))
    assert caught.value.exit_code == ExitCode.ENVIRONMENT


def test_the_guided_mode_logs_in_first_then_places_the_call(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    prompter = ScriptedPrompter(
        [TOKEN_ID, TOKEN, "0157 99912345", "Desk phone", "own number", True]
    )
    ctx = make_context(simulator.url, prompter=prompter, terminal=True, env={})
    assert guided.run(ctx) == ExitCode.OK
    assert prompter.questions == [
        "Token id:",
        "Token (hidden):",
        "Whom do you want to call?",
        "Which phone rings first?",
        "Which number should they see?",
        "Place this call?",
    ]
    assert memory_keyring.get_password("sipgate-tui", "default") is not None
    assert [r.json for r in simulator.call_requests()] == [
        {"caller": "e0", "callee": "+4915799912345"}
    ]


def test_the_guided_mode_with_credentials_goes_straight_to_the_call(
    simulator: SipgateSimulator,
) -> None:
    prompter = ScriptedPrompter(["0157 99912345", "Desk phone", "own number", True])
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)
    assert guided.run(ctx) == ExitCode.OK
    assert prompter.questions[0] == "Whom do you want to call?"


def test_the_guided_mode_without_a_terminal_is_a_usage_error(simulator: SipgateSimulator) -> None:
    with pytest.raises(AppError) as caught:
        guided.run(make_context(simulator.url))
    assert (caught.value.code, caught.value.exit_code) == ("no-command", ExitCode.USAGE)
    assert "sipgate-tui --help" in caught.value.hint
