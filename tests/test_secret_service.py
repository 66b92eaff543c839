"""Integration: the installed app against a real Secret Service (gnome-keyring, private bus).

These run ``sipgate-tui login/status/call/logout`` as subprocesses and check the real keyring
item. They skip where no Secret Service can be started, and must run in .ci/run.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import TOKEN, TOKEN_ID
from secret_service import SecretService, private_secret_service

from sipgate_tui.simulator import SimulatedToken, SipgateSimulator

pytestmark = pytest.mark.secret_service
OTHER_ID, OTHER_TOKEN = "token-SIM002", "0b8e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def secret_service(tmp_path: Path) -> Iterator[SecretService]:
    with private_secret_service(tmp_path / "keyring-home") as service:
        yield service


@pytest.fixture
def env(
    clean_env: dict[str, str], simulator: SipgateSimulator, secret_service: SecretService
) -> dict[str, str]:
    simulator.tokens[OTHER_ID] = SimulatedToken(OTHER_TOKEN)
    environment = {**clean_env, **secret_service.env, "SIPGATE_API_URL": simulator.url}
    environment.pop("PYTHON_KEYRING_BACKEND")  # let keyring find the real Secret Service
    return environment


def app(
    script: str, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [script, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr
    return result


def test_login_status_call_logout_against_the_real_keyring(
    console_script: str,
    env: dict[str, str],
    secret_service: SecretService,
    simulator: SipgateSimulator,
) -> None:
    login = app(
        console_script,
        env,
        "login",
        "--token-id",
        TOKEN_ID,
        "--token-stdin",
        "--json",
        stdin=TOKEN + "\n",
    )
    assert login.returncode == 0, login.stdout
    assert "SecretService" in json.loads(login.stdout)["backend"]
    assert secret_service.items() == {"default": json.dumps({"token_id": TOKEN_ID, "token": TOKEN})}

    status = app(console_script, env, "status", "--json")
    document = json.loads(status.stdout)
    assert (status.returncode, document["source"], document["valid"]) == (0, "keyring", True)
    assert "SecretService" in document["backend"]

    call = app(console_script, env, "call", "0157 99912345", "-d", "e0", "--yes")
    assert call.returncode == 0
    assert simulator.call_requests()[0].headers["authorization"].startswith("Basic ")

    logout = app(console_script, env, "logout")
    assert logout.returncode == 0 and f"Removed the token {TOKEN_ID}" in logout.stdout
    assert secret_service.items() == {}
    assert app(console_script, env, "logout").returncode == 0
    assert app(console_script, env, "status").returncode == 3


def test_a_second_login_overwrites_the_one_item(
    console_script: str, env: dict[str, str], secret_service: SecretService
) -> None:
    app(console_script, env, "login", "--token-id", TOKEN_ID, "--token-stdin", stdin=TOKEN)
    second = app(
        console_script, env, "login", "--token-id", OTHER_ID, "--token-stdin", stdin=OTHER_TOKEN
    )
    assert second.returncode == 0
    assert f"the token {TOKEN_ID} stored before" in " ".join(second.stdout.split())
    assert secret_service.items() == {
        "default": json.dumps({"token_id": OTHER_ID, "token": OTHER_TOKEN})
    }


def test_profiles_are_separate_items(
    console_script: str, env: dict[str, str], secret_service: SecretService
) -> None:
    app(console_script, env, "login", "--token-id", TOKEN_ID, "--token-stdin", stdin=TOKEN)
    app(
        console_script,
        {**env, "SIPGATE_PROFILE": "work"},
        "login",
        "--token-id",
        OTHER_ID,
        "--token-stdin",
        stdin=OTHER_TOKEN,
    )
    assert set(secret_service.items()) == {"default", "work"}
    status = app(console_script, env, "--profile", "work", "status", "--json")
    assert json.loads(status.stdout)["tokenId"] == OTHER_ID


def test_a_locked_keyring_is_exit_7_quickly_and_changes_nothing(
    console_script: str, env: dict[str, str], secret_service: SecretService
) -> None:
    app(console_script, env, "login", "--token-id", TOKEN_ID, "--token-stdin", stdin=TOKEN)
    secret_service.lock()
    started = time.monotonic()
    status = app(console_script, {**env, "SIPGATE_TUI_KEYRING_TIMEOUT": "5"}, "status")
    assert status.returncode == 7
    assert time.monotonic() - started < 15
    assert "locked" in status.stdout or "did not answer" in status.stdout  # in the status
    login = app(
        console_script,
        {**env, "SIPGATE_TUI_KEYRING_TIMEOUT": "5"},
        "login",
        "--token-id",
        OTHER_ID,
        "--token-stdin",
        stdin=OTHER_TOKEN,
    )
    assert login.returncode == 7


def test_the_first_run_journey_in_a_terminal(
    console_script: str,
    env: dict[str, str],
    secret_service: SecretService,
    simulator: SipgateSimulator,
) -> None:
    import pexpect

    terminal_env = {**env, "PROMPT_TOOLKIT_NO_CPR": "1"}
    terminal_env.pop("COLUMNS")
    child = pexpect.spawn(
        console_script, [], env=terminal_env, dimensions=(50, 100), encoding="utf-8", timeout=20
    )
    child.logfile_read = screen = io.StringIO()
    child.expect("Log in to sipgate")
    child.expect("Token id:")
    child.send(TOKEN_ID + "\r")
    child.expect("Token \\(hidden\\):")
    child.send(TOKEN + "\r")
    child.expect("Logged in")
    child.expect("Whom do you want to call?")
    child.send("0157 99912345\r")
    child.expect("Which phone rings first?")
    child.expect("Desk phone")  # the token may list devices: a picker, Desk phone first
    child.send("\r")
    child.expect("Which number should they see?")
    child.expect("The phone's own number")
    child.send("\r")
    child.expect("Place this call?")
    child.send("y")
    child.expect("Call accepted")
    child.expect("Ringing|Connected")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # Two asserts: pytest's report of a passing "not in" inside an "and" reads as a match.
    assert "Traceback" not in screen.getvalue()
    assert TOKEN not in screen.getvalue()
    assert secret_service.items() == {"default": json.dumps({"token_id": TOKEN_ID, "token": TOKEN})}
    assert [r.json for r in simulator.call_requests()] == [
        {"caller": "e0", "callee": "+4915799912345"}
    ]


# -- the fast path (issue 16): the remembered backend, loaded without keyring's discovery ------

# Modules only keyring's discovery imports on Linux (every backend it knows, and the chain).
DISCOVERY_ONLY = ("keyring.backends.macOS", "keyring.backends.kwallet", "keyring.backends.chainer")
LOGIN_ARGS = ("login", "--token-id", TOKEN_ID, "--token-stdin")


# The app as its entry point runs it (the output guard, then the Typer app), in a process of
# its own, which then writes the names of every module it imported to the file named by its
# first argument (the entry point itself ends with os._exit, before anyone could look).
DIAL_AND_LIST_MODULES = """
import json, sys
from sipgate_tui.safe_output import guard_stdio
modules_file = sys.argv[1]
sys.argv = ["sipgate-tui", "call", "0157 99912345", "-d", "e0", "--yes"]
guard_stdio()
from sipgate_tui.cli import main
try:
    main()
    code = 0
except SystemExit as exit_request:
    code = exit_request.code
with open(modules_file, "w") as out:
    json.dump(sorted(sys.modules), out)
sys.exit(code)
"""


def imports_of_a_dial(
    env: dict[str, str], tmp_path: Path
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """A one-shot dial through the app's entry point: its result, and every module it
    imported."""
    modules = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", DIAL_AND_LIST_MODULES, str(modules)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr
    return result, json.loads(modules.read_text())


def state_file(env: dict[str, str]) -> Path:
    return Path(env["SIPGATE_TUI_STATE_DIR"]) / "state.json"


@pytest.fixture
def fast_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return {**env, "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state")}


@pytest.fixture
def logged_in(console_script: str, fast_env: dict[str, str]) -> dict[str, str]:
    """``fast_env`` after ``login`` stored the token in the real keyring (keyring's discovery
    chose the backend, and login remembered it)."""
    login = app(console_script, fast_env, *LOGIN_ARGS, stdin=TOKEN)
    assert login.returncode == 0, login.stdout + login.stderr
    return fast_env


def test_a_dial_reads_the_real_item_through_the_remembered_backend_without_discovery(
    logged_in: dict[str, str],
    simulator: SipgateSimulator,
    tmp_path: Path,
) -> None:
    remembered = json.loads(state_file(logged_in).read_text())["keyring_backend"]
    assert remembered == "keyring.backends.SecretService.Keyring"  # login learnt it, by discovery
    assert TOKEN not in state_file(logged_in).read_text()

    result, imported = imports_of_a_dial(logged_in, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # Read with SecretStorage as keyring's backend reads it, keyring itself never imported.
    assert "secretstorage" in imported
    assert [name for name in imported if name.split(".")[0] == "keyring"] == []
    [call] = simulator.call_requests()
    basic = base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()
    assert call.headers["authorization"] == f"Basic {basic}"  # the real item's token


def test_debug_says_where_the_token_came_from(
    console_script: str,
    logged_in: dict[str, str],
) -> None:
    dial = ("call", "0157 99912345", "-d", "e0", "--yes", "--debug")

    fast = app(console_script, logged_in, *dial)
    assert "debug: keyring: reading the Secret Service item with SecretStorage" in fast.stderr
    assert (
        "debug: token: keyring, SecretService Keyring, the backend remembered from last time"
        in fast.stderr
    )
    state_file(logged_in).unlink()  # nothing remembered: keyring's discovery chooses
    discovered = app(console_script, logged_in, *dial)
    assert "debug: token: keyring, SecretService Keyring, chosen by keyring's discovery" in (
        discovered.stderr
    )
    from_env = app(
        console_script, {**logged_in, "SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": TOKEN}, *dial
    )
    assert "debug: token: from the environment (SIPGATE_TOKEN_ID, SIPGATE_TOKEN)" in (
        from_env.stderr
    )


def test_a_keyring_property_leaves_the_remembered_backend_to_keyring(
    logged_in: dict[str, str],
    simulator: SipgateSimulator,
    tmp_path: Path,
) -> None:
    """KEYRING_PROPERTY_* can change the collection or the attributes keyring's backend
    uses: then the backend itself reads, loaded directly, still without discovery."""
    with_property = {**logged_in, "KEYRING_PROPERTY_SCHEME": "default"}

    result, imported = imports_of_a_dial(with_property, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "keyring.backends.SecretService" in imported
    assert [name for name in DISCOVERY_ONLY if name in imported] == []
    assert len(simulator.call_requests()) == 1


def test_a_locked_keyring_stops_a_dial_on_the_fast_path_without_a_call(
    logged_in: dict[str, str],
    secret_service: SecretService,
    simulator: SipgateSimulator,
    tmp_path: Path,
) -> None:
    secret_service.lock()  # headless, gnome-keyring's unlock prompt is dismissed at once

    result, imported = imports_of_a_dial(
        {**logged_in, "SIPGATE_TUI_KEYRING_TIMEOUT": "5"}, tmp_path
    )
    assert result.returncode == 7, result.stdout + result.stderr
    assert "The keyring is locked" in result.stdout + result.stderr
    assert [name for name in DISCOVERY_ONLY if name in imported] == []  # no second look
    assert simulator.call_requests() == []


def test_a_secret_service_gone_since_falls_back_to_discovery(
    logged_in: dict[str, str],
    simulator: SipgateSimulator,
    tmp_path: Path,
) -> None:
    """The remembered Secret Service no longer answers (another session, no bus): keyring's
    full discovery decides, and with no keyring at all the dial says so, placing nothing."""
    no_bus = {**logged_in, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}"}

    result, imported = imports_of_a_dial(no_bus, tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr  # no credentials: exit 3
    assert "keyring.backends.macOS" in imported  # keyring's full discovery ran
    assert "no usable keyring" in " ".join((result.stdout + result.stderr).split())
    assert simulator.call_requests() == []


def test_a_stale_remembered_backend_falls_back_to_discovery_and_is_corrected(
    logged_in: dict[str, str],
    simulator: SipgateSimulator,
    tmp_path: Path,
) -> None:
    state = json.loads(state_file(logged_in).read_text())
    state_file(logged_in).write_text(json.dumps({**state, "keyring_backend": "gone.Keyring"}))

    result, imported = imports_of_a_dial(logged_in, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "keyring.backends.macOS" in imported  # keyring's full discovery ran
    assert len(simulator.call_requests()) == 1
    remembered = json.loads(state_file(logged_in).read_text())["keyring_backend"]
    assert remembered == "keyring.backends.SecretService.Keyring"
    again, imported = imports_of_a_dial(logged_in, tmp_path)
    assert again.returncode == 0 and "keyring.backends.macOS" not in imported
