"""``sipgate-tui demo``: the real flow against the built-in simulator, never anything real."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import pexpect
import pytest
from helpers import make_context, output_of

from sipgate_tui.commands import demo
from sipgate_tui.errors import ExitCode
from sipgate_tui.simulator import SipgateSimulator


def test_the_recorded_walkthrough_places_the_call_on_the_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[dict] = []
    original_exit = SipgateSimulator.__exit__

    def record_then_stop(self: SipgateSimulator, *exc: object) -> None:
        received.extend(r.json for r in self.call_requests())
        original_exit(self, *exc)

    # Observe the demo's own simulator (the one thing it never exposes) before it stops.
    monkeypatch.setattr(SipgateSimulator, "__exit__", record_then_stop)
    ctx = make_context(
        "https://api.sipgate.invalid/v2",
        env={"SIPGATE_TOKEN_ID": "real-id", "SIPGATE_TOKEN": "real-token"},
    )
    assert demo.run(demo.DemoOptions(), ctx) == ExitCode.OK
    assert received == [{"caller": "e0", "callee": "+4915799912345", "callerId": "+492115550001"}]
    shown = output_of(ctx.out)
    for screen in (
        "Log in to sipgate",
        "Logged in",
        "Which phone rings first?",
        "is offline",
        "Pick another phone",
        "Ready to call",
        "Call accepted",
        "Demo finished",
    ):
        assert screen in shown, screen
    panels = re.findall(r"╭─(.*?)─", shown)
    assert panels and all("DEMO" in title for title in panels)  # every panel says so


def test_the_neo_walkthrough_places_the_call_the_neo_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    placed: list[tuple[str, dict]] = []
    original_exit = SipgateSimulator.__exit__

    def record_then_stop(self: SipgateSimulator, *exc: object) -> None:
        placed.extend((r.path, r.json) for r in self.requests if r.method == "POST")
        original_exit(self, *exc)

    monkeypatch.setattr(SipgateSimulator, "__exit__", record_then_stop)
    ctx = make_context("https://api.sipgate.invalid/v2")
    assert demo.run(demo.DemoOptions(neo=True), ctx) == ExitCode.OK
    calls = [(path, body) for path, body in placed if path in ("/sessions/calls", "/calls")]
    assert calls == [
        (
            "/calls",
            {
                "deviceId": "e0",
                "targetNumber": "4915799912345",
                "callerId": "492115550001",
                "channelId": "ch0",
            },
        )
    ]
    shown = output_of(ctx.out)
    assert "sipgate Neo" in shown and "Demo finished" in shown


def test_the_demo_never_uses_the_real_environment_keyring_or_config(
    console_script: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **clean_env,
        "SIPGATE_API_URL": "https://api.sipgate.invalid/v2",  # would fail if used
        "SIPGATE_TOKEN_ID": "token-REAL01",
        "SIPGATE_TOKEN": "real-secret-0000000000",
        "SIPGATE_PROFILE": "work",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
    }
    result = subprocess.run(
        [console_script, "demo"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Demo finished" in result.stdout and '"callee": "+4915799912345"' in result.stdout
    assert "real-secret" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "config").exists() and not (tmp_path / "state").exists()
    assert not list(Path(env["HOME"]).rglob("*"))  # nothing written under HOME either


def test_no_input_plays_the_walkthrough_even_in_a_terminal(
    console_script: str, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, "PROMPT_TOOLKIT_NO_CPR": "1"}
    env.pop("COLUMNS")
    child = pexpect.spawn(
        console_script,
        ["--no-input", "demo"],
        env=env,
        dimensions=(50, 100),
        encoding="utf-8",
        timeout=30,
    )
    child.logfile_read = screen = io.StringIO()
    child.expect("Demo finished")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "recorded walkthrough" in screen.getvalue()


def test_the_interactive_demo_asks_the_real_questions(
    console_script: str, clean_env: dict[str, str]
) -> None:
    env = {**clean_env, "PROMPT_TOOLKIT_NO_CPR": "1"}
    env.pop("COLUMNS")
    child = pexpect.spawn(
        console_script, ["demo"], env=env, dimensions=(50, 100), encoding="utf-8", timeout=30
    )
    child.logfile_read = screen = io.StringIO()
    child.expect("Logged in")  # the login is played with the fake token
    child.expect("Whom do you want to call?")
    child.send("0211 5550099\r")
    child.expect("Which phone rings first?")
    child.send("\r")
    child.expect("Which number should they see?")
    child.send("\r")
    child.expect("Place this call")
    child.send("y")
    child.expect("Connected to")  # the simulated phone picks up: the live view shows it
    child.send("h")
    child.expect("You hung up")
    child.expect("Demo finished")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert '"callee": "+492115550099"' in re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    assert "DEMO ?" in screen.getvalue()


def test_ctrl_c_ends_the_demo(console_script: str, clean_env: dict[str, str]) -> None:
    env = {**clean_env, "PROMPT_TOOLKIT_NO_CPR": "1"}
    env.pop("COLUMNS")
    child = pexpect.spawn(
        console_script, ["demo"], env=env, dimensions=(50, 100), encoding="utf-8", timeout=30
    )
    child.expect("Whom do you want to call?")
    child.sendintr()
    child.expect("Nothing real happened")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_json_is_not_a_demo_option(console_script: str, clean_env: dict[str, str]) -> None:
    result = subprocess.run(
        [console_script, "demo", "--json"], env=clean_env, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["code"] == "usage"
