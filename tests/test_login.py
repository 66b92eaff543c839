"""``login``: verify first, store one keyring item, never store a rejected or unkept token."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from helpers import (
    TOKEN,
    TOKEN_ID,
    BlockingWriteKeyring,
    FailingWriteKeyring,
    MemoryKeyring,
    ScriptedPrompter,
    flat,
    make_context,
    output_of,
)
from keyring.backends import fail

from sipgate_tui.commands.login import LoginOptions, run
from sipgate_tui.errors import AppError, Cancelled, ExitCode
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator


def stored(backend: MemoryKeyring, profile: str = "default") -> dict[str, str] | None:
    value = backend.get_password("sipgate-tui", profile)
    return json.loads(value) if value is not None else None


def interactive(simulator: SipgateSimulator, answers: list[object], **kwargs: object):
    prompter = ScriptedPrompter(answers)
    ctx = make_context(simulator.url, prompter=prompter, terminal=True, env={}, **kwargs)
    return prompter, ctx


def test_login_verifies_then_stores_exactly_one_item(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    prompter, ctx = interactive(simulator, [TOKEN_ID, TOKEN])
    assert run(LoginOptions(), ctx) == ExitCode.OK

    assert memory_keyring.items.keys() == {("sipgate-tui", "default")}
    assert stored(memory_keyring) == {"token_id": TOKEN_ID, "token": TOKEN}
    assert prompter.questions == ["Token id:", "Token (hidden):"]
    shown = flat(output_of(ctx.out))
    assert shown.index("Log in to sipgate") < shown.index("Logged in")
    assert "sessions:calls:write" in shown and "required" in shown
    assert "w0 · simulated.sipgate.test" in shown
    assert "MemoryKeyring" in shown
    assert TOKEN not in shown
    assert next(r.path for r in simulator.requests) == "/authorization/userinfo"


def test_login_in_a_narrow_terminal_stays_readable(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    _, ctx = interactive(simulator, [TOKEN_ID, TOKEN], width=40)
    run(LoginOptions(), ctx)
    lines = output_of(ctx.out).splitlines()
    # The scope table becomes a list: no column squeezed to a letter per line.
    assert max(len(line) for line in lines) <= 40
    assert not [line for line in lines if len(line.strip(" │")) == 1]
    assert "sessions:calls:write required" in output_of(ctx.out)
    assert len(lines) < 95  # one line per scope: more scopes, a longer panel


def test_the_scope_probes_show_what_the_token_unlocks(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(
        TOKEN, frozenset({"sessions:calls:write", "devices:read"})
    )
    _, ctx = interactive(simulator, [TOKEN_ID, TOKEN])
    run(LoginOptions(json=False), ctx)
    shown = flat(output_of(ctx.out))
    assert "✓ devices:read" in shown
    assert "✗ numbers:read" in shown and "not granted" in shown
    assert "? rtcm:write" in shown and "cannot be checked without side effects" in shown
    probed = {r.path for r in simulator.requests}
    assert {"/w0/devices", "/numbers", "/calls", "/history"} <= probed
    assert not simulator.call_requests()  # write scopes are never "probed" by acting


def test_a_rejected_token_is_not_stored_and_the_user_can_try_again(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    prompter, ctx = interactive(simulator, [TOKEN_ID, "wrong", True, TOKEN_ID, TOKEN])
    assert run(LoginOptions(), ctx) == ExitCode.OK
    assert "Nothing was stored" in flat(output_of(ctx.out))
    assert stored(memory_keyring) == {"token_id": TOKEN_ID, "token": TOKEN}
    assert prompter.questions.count("Try again?") == 1


def test_giving_up_after_a_rejection_stores_nothing(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    _, ctx = interactive(simulator, [TOKEN_ID, "wrong", False])
    with pytest.raises(AppError) as caught:
        run(LoginOptions(), ctx)
    assert (caught.value.code, caught.value.exit_code) == ("unauthorized", ExitCode.CREDENTIALS)
    assert "Nothing was stored" in caught.value.message
    assert memory_keyring.items == {}


@pytest.mark.parametrize("cancel_at", [0, 1])
def test_ctrl_c_at_a_login_prompt_stores_nothing(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring, cancel_at: int
) -> None:
    # The answers up to the Ctrl-C, none after: the prompter fails on answers never used.
    answers: list[object] = [*[TOKEN_ID, TOKEN][:cancel_at], KeyboardInterrupt]
    _, ctx = interactive(simulator, answers)
    with pytest.raises(Cancelled):
        run(LoginOptions(), ctx)
    assert memory_keyring.items == {}


def test_scripted_login_reads_the_token_from_stdin(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    ctx = make_context(simulator.url, env={})
    code = run(
        LoginOptions(token_id=TOKEN_ID, token_stdin=True, json=True),
        ctx,
        read_stdin=lambda: TOKEN + "\n",
    )
    assert code == ExitCode.OK
    document = json.loads(output_of(ctx.out))
    assert document["ok"] is True
    assert (document["tokenId"], document["userId"], document["profile"]) == (
        TOKEN_ID,
        "w0",
        "default",
    )
    assert document["scopes"]["devices:read"] is True
    assert TOKEN not in output_of(ctx.out)
    assert stored(memory_keyring) == {"token_id": TOKEN_ID, "token": TOKEN}


def test_scripted_login_with_a_wrong_token_exits_3_and_stores_nothing(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    ctx = make_context(simulator.url, env={})
    with pytest.raises(AppError) as caught:
        run(LoginOptions(token_id=TOKEN_ID, token_stdin=True), ctx, read_stdin=lambda: "nope")
    assert (caught.value.code, caught.value.exit_code) == ("unauthorized", ExitCode.CREDENTIALS)
    assert "Nothing was stored" in caught.value.message
    assert memory_keyring.items == {}


@pytest.mark.parametrize(
    ("options", "stdin"),
    [
        (LoginOptions(), ""),
        (LoginOptions(token_id=TOKEN_ID), ""),
        (LoginOptions(token_id=TOKEN_ID, token_stdin=True), "  \n"),
        (LoginOptions(token_id=" ", token_stdin=True), TOKEN),
    ],
)
def test_scripted_login_needs_token_id_and_stdin(
    simulator: SipgateSimulator, options: LoginOptions, stdin: str
) -> None:
    with pytest.raises(AppError) as caught:
        run(options, make_context(simulator.url, env={}), read_stdin=lambda: stdin)
    assert (caught.value.code, caught.value.exit_code) == ("missing-value", ExitCode.USAGE)
    assert "--token-stdin" in caught.value.hint
    assert simulator.requests == []


def test_no_usable_keyring_stops_before_asking_for_secrets(simulator: SipgateSimulator) -> None:
    keyring.set_keyring(fail.Keyring())
    prompter, ctx = interactive(simulator, [])
    with pytest.raises(AppError) as caught:
        run(LoginOptions(), ctx)
    assert (caught.value.code, caught.value.exit_code) == (
        "keyring-unavailable",
        ExitCode.ENVIRONMENT,
    )
    assert "never falls back to a plain-text file" in caught.value.message
    assert "SIPGATE_TOKEN_ID" in caught.value.hint and "gnome-keyring" in caught.value.hint
    assert prompter.questions == [] and simulator.requests == []


def test_a_failing_keyring_write_is_exit_7(simulator: SipgateSimulator) -> None:
    keyring.set_keyring(FailingWriteKeyring())
    _, ctx = interactive(simulator, [TOKEN_ID, TOKEN])
    with pytest.raises(AppError) as caught:
        run(LoginOptions(), ctx)
    assert (caught.value.code, caught.value.exit_code) == ("keyring-error", ExitCode.ENVIRONMENT)
    assert "sipgate accepted the token, but it could not be kept" in caught.value.message
    assert "PasswordSetError" in caught.value.message


def test_a_write_that_times_out_says_the_state_is_unknown(simulator: SipgateSimulator) -> None:
    backend = BlockingWriteKeyring()
    keyring.set_keyring(backend)
    _, ctx = interactive(simulator, [TOKEN_ID, TOKEN], keyring_timeout=0.3)
    try:
        with pytest.raises(AppError) as caught:
            run(LoginOptions(), ctx)
    finally:
        backend.release.set()
    assert (caught.value.code, caught.value.exit_code) == (
        "keyring-write-unknown",
        ExitCode.ENVIRONMENT,
    )
    assert "may or may not be there" in caught.value.message
    assert "sipgate-tui status" in caught.value.hint


def test_login_warns_when_env_vars_would_shadow_the_stored_token(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    prompter = ScriptedPrompter([TOKEN_ID, TOKEN])
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)  # env has credentials
    run(LoginOptions(), ctx)
    assert "take precedence" in flat(output_of(ctx.out))
    assert stored(memory_keyring) is not None


def test_odd_looking_ids_get_a_warning_not_a_refusal(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    simulator.tokens["my-token-id"] = SimulatedToken("short-secret")
    _, ctx = interactive(simulator, ["my-token-id", "short-secret"])
    assert run(LoginOptions(), ctx) == ExitCode.OK
    shown = flat(output_of(ctx.out))
    assert "does not look like a token id" in shown and "trying it anyway" in shown
    assert "does not look like the usual UUID" in shown


def test_a_profile_gets_its_own_item_and_login_says_what_it_replaced(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password(
        "sipgate-tui", "work", json.dumps({"token_id": "token-OLD001", "token": "old"})
    )
    _, ctx = interactive(simulator, [TOKEN_ID, TOKEN], profile="work")
    run(LoginOptions(), ctx)
    assert stored(memory_keyring, "work") == {"token_id": TOKEN_ID, "token": TOKEN}
    assert stored(memory_keyring) is None
    shown = flat(output_of(ctx.out))
    assert "token-OLD001" in shown and "profile work" in shown


def test_the_token_pasted_as_token_id_is_refused_without_echoing_it(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    prompter, ctx = interactive(simulator, [TOKEN, TOKEN_ID, TOKEN])
    assert run(LoginOptions(), ctx) == ExitCode.OK
    assert prompter.rejected == [
        (TOKEN, "That is the token itself: paste the token id (token-…) here, the token next.")
    ]
    assert TOKEN not in output_of(ctx.out)


def test_a_token_given_as_token_id_in_a_script_is_refused(simulator: SipgateSimulator) -> None:
    with pytest.raises(AppError) as caught:
        run(
            LoginOptions(token_id=TOKEN, token_stdin=True),
            make_context(simulator.url, env={}),
            read_stdin=lambda: TOKEN,
        )
    assert caught.value.code == "token-as-argument"
    assert TOKEN not in caught.value.message + (caught.value.hint or "")
    assert simulator.requests == []


def test_only_one_env_var_set_gets_its_own_warning(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring
) -> None:
    ctx = make_context(simulator.url, env={"SIPGATE_TOKEN_ID": TOKEN_ID})
    run(LoginOptions(token_id=TOKEN_ID, token_stdin=True, json=True), ctx, read_stdin=lambda: TOKEN)
    [warning] = json.loads(output_of(ctx.out))["warnings"]
    assert warning.startswith("SIPGATE_TOKEN_ID is set but SIPGATE_TOKEN is not")


def test_a_locked_keyring_stops_login_before_any_secret_is_typed(
    simulator: SipgateSimulator,
) -> None:
    from helpers import LockedKeyring

    keyring.set_keyring(LockedKeyring())
    prompter, ctx = interactive(simulator, [])
    with pytest.raises(AppError) as caught:
        run(LoginOptions(), ctx)
    assert (caught.value.code, caught.value.exit_code) == ("keyring-locked", ExitCode.ENVIRONMENT)
    assert prompter.questions == [] and simulator.requests == []


@pytest.mark.parametrize(
    ("stdin", "stored_token"),
    [(f"'{TOKEN}'\n", TOKEN), (f'"{TOKEN}"', TOKEN), (f"\n  {TOKEN}  \n\n", TOKEN)],
)
def test_stdin_tokens_are_tidied(
    simulator: SipgateSimulator, memory_keyring: MemoryKeyring, stdin: str, stored_token: str
) -> None:
    run(
        LoginOptions(token_id=TOKEN_ID, token_stdin=True),
        make_context(simulator.url, env={}),
        read_stdin=lambda: stdin,
    )
    assert stored(memory_keyring) == {"token_id": TOKEN_ID, "token": stored_token}


def test_two_lines_on_stdin_are_refused(simulator: SipgateSimulator) -> None:
    with pytest.raises(AppError, match="stdin held 2 lines"):
        run(
            LoginOptions(token_id=TOKEN_ID, token_stdin=True),
            make_context(simulator.url, env={}),
            read_stdin=lambda: f"{TOKEN}\nsecond line\n",
        )


def test_a_token_on_stdin_that_is_not_text_is_refused_and_nothing_is_stored(
    console_script: str, clean_env: dict[str, str], tmp_path
) -> None:
    import subprocess

    keyring_file = tmp_path / "keyring.json"
    env = {
        **clean_env,
        "PYTHONPATH": str(Path(__file__).parent),
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",  # a usable store, so stdin is read
        "TEST_KEYRING_FILE": str(keyring_file),
    }
    result = subprocess.run(
        [console_script, "login", "--token-id", "token-ABC123", "--token-stdin", "--json"],
        input=b"5f0c2a4e-\xff\xfe-8b1d\n",
        env=env,
        capture_output=True,
        timeout=60,
    )
    document = json.loads(result.stdout)
    assert result.returncode == 2 and document["error"]["code"] in ("invalid-token",), document
    assert "not text" in document["error"]["message"]
    assert b"Traceback" not in result.stderr
    assert "token-ABC123" not in (keyring_file.read_text() if keyring_file.exists() else "")


def test_a_plain_text_backend_stops_login_like_no_keyring(simulator: SipgateSimulator) -> None:
    """keyrings.alt's file backends are refused before any secret is typed, and login never
    calls a file "your keyring" (the real keyrings.alt: test_plaintext_keyrings.py)."""
    backend = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": "keyrings.alt.file"})()
    keyring.set_keyring(backend)
    prompter, ctx = interactive(simulator, [])
    with pytest.raises(AppError) as caught:
        run(LoginOptions(), ctx)
    assert (caught.value.code, caught.value.exit_code) == (
        "keyring-unavailable",
        ExitCode.ENVIRONMENT,
    )
    assert "never falls back to a plain-text file" in caught.value.message
    assert "PlaintextKeyring (keyrings.alt.file)" in caught.value.message
    assert "your keyring" not in caught.value.message + (caught.value.hint or "")
    assert prompter.questions == [] and simulator.requests == [] and backend.items == {}


def test_the_hidden_token_echoes_the_same_character_as_the_demo(
    console_script: str, clean_env: dict[str, str], tmp_path: Path, simulator: SipgateSimulator
) -> None:
    """In a real terminal each typed character of the token shows as •, the character the
    demo's token and every masked token show; the token itself never appears."""
    import io
    import re

    import pexpect

    from sipgate_tui.prompts import HIDDEN_ECHO

    env = {
        **clean_env,
        "PYTHONPATH": str(Path(__file__).parent),
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "SIPGATE_API_URL": simulator.url,
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("COLUMNS", None)
    child = pexpect.spawn(
        console_script, ["login"], env=env, encoding="utf-8", timeout=30, dimensions=(40, 100)
    )
    child.logfile_read = screen = io.StringIO()
    child.expect("Token id")
    child.send(TOKEN_ID + "\r")
    child.expect(r"Token \(hidden\)")
    child.send(TOKEN)
    child.expect(HIDDEN_ECHO * len(TOKEN))
    child.send("\r")
    child.expect("Logged in")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert HIDDEN_ECHO == "•"  # as in the demo's answer and known_secrets.MASK
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert TOKEN not in shown and "*" * 6 not in shown
