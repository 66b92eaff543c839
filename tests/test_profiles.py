"""``sipgate-tui profiles`` and ``status --all`` (issue 16), through the installed console
script with the file keyring of tests/file_keyring.py and the simulator."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from helpers import TOKEN, TOKEN_ID, flat

from sipgate_tui.credentials import Credentials, encode_item
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator

TESTS = Path(__file__).parent
WORK_ID, WORK_TOKEN = "token-SIM002", "0b8e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
STALE_ID, STALE_TOKEN = "token-OLD001", "1c9f7a4b-2d3e-4f5a-9b0c-1d2e3f4a5b6c"  # sipgate: 401


@pytest.fixture
def env(clean_env: dict[str, str], simulator: SipgateSimulator, tmp_path: Path) -> dict[str, str]:
    simulator.tokens[WORK_ID] = SimulatedToken(WORK_TOKEN)
    return {
        **clean_env,
        "SIPGATE_API_URL": simulator.url,
        "PYTHONPATH": str(TESTS),
        "PYTHON_KEYRING_BACKEND": "file_keyring.FaultyKeyring",
        "TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "SIPGATE_TUI_KEYRING_TIMEOUT": "2",
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
    }


def app(
    script: str, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [script, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    for secret in (TOKEN, WORK_TOKEN, STALE_TOKEN):
        assert secret not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result


def login(script: str, env: dict[str, str], token_id: str, token: str, *globals_: str) -> None:
    args = (*globals_, "login", "--token-id", token_id, "--token-stdin")
    done = app(script, env, *args, stdin=token)
    assert done.returncode == 0, done.stdout + done.stderr


def store_items(env: dict[str, str], items: dict[str, Credentials]) -> None:
    """Items put into the keyring file directly, as a login before the index existed did."""
    path = Path(env["TEST_KEYRING_FILE"])
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update({f"sipgate-tui/{name}": encode_item(c) for name, c in items.items()})
    path.write_text(json.dumps(current))


def index_of(env: dict[str, str]) -> list[str]:
    path = Path(env["SIPGATE_TUI_STATE_DIR"]) / "state.json"
    return json.loads(path.read_text()).get("profile_index", []) if path.exists() else []


def listed(script: str, env: dict[str, str], *globals_: str) -> list[dict[str, object]]:
    result = app(script, env, *globals_, "profiles", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    documents: list[dict[str, object]] = json.loads(result.stdout)
    return documents


def test_login_and_logout_keep_the_index_and_profiles_lists_what_is_stored(
    console_script: str, env: dict[str, str]
) -> None:
    login(console_script, env, TOKEN_ID, TOKEN)
    login(console_script, env, WORK_ID, WORK_TOKEN, "--profile", "work")
    assert index_of(env) == ["default", "work"]
    assert listed(console_script, env) == [
        {
            "profile": "default",
            "stored": True,
            "tokenId": TOKEN_ID,
            "tokenMasked": "••••9f84",
            "backend": "file keyring FaultyKeyring",
            "inUse": True,
            "inUseBecause": "default",
            "environmentOverrides": False,
            "error": None,
        },
        {
            "profile": "work",
            "stored": True,
            "tokenId": WORK_ID,
            "tokenMasked": "••••4a5b",
            "backend": "file keyring FaultyKeyring",
            "inUse": False,
            "inUseBecause": None,
            "environmentOverrides": False,
            "error": None,
        },
    ]
    shown = app(console_script, env, "profiles")
    assert shown.returncode == 0
    text = flat(shown.stdout)
    assert f"default {TOKEN_ID} ••••9f84 your keyring (file keyring FaultyKeyring)" in text
    assert f"work {WORK_ID} ••••4a5b" in text
    assert "Commands use profile default now (the default" in text

    assert app(console_script, env, "--profile", "work", "logout").returncode == 0
    assert index_of(env) == ["default"]
    assert [d["profile"] for d in listed(console_script, env)] == ["default"]


@pytest.mark.parametrize(
    ("globals_", "extra_env", "because", "says"),
    [
        (("--profile", "work"), {}, "--profile", "use profile work now (chosen with --profile)"),
        ((), {"SIPGATE_PROFILE": "work"}, "SIPGATE_PROFILE", "(chosen with SIPGATE_PROFILE)"),
        ((), {}, None, "Commands use profile default now (the default"),
    ],
)
def test_profiles_says_which_profile_commands_use_and_why(
    console_script: str,
    env: dict[str, str],
    globals_: tuple[str, ...],
    extra_env: dict[str, str],
    because: str | None,
    says: str,
) -> None:
    store_items(
        env, {"default": Credentials(TOKEN_ID, TOKEN), "work": Credentials(WORK_ID, WORK_TOKEN)}
    )
    run_env = {**env, **extra_env}
    documents = listed(console_script, run_env, *globals_)
    in_use = {d["profile"]: d["inUseBecause"] for d in documents if d["inUse"]}
    assert in_use == ({"work": because} if because else {"default": "default"})
    assert says in flat(app(console_script, run_env, *globals_, "profiles").stdout)


def test_environment_credentials_override_every_profile(
    console_script: str, env: dict[str, str]
) -> None:
    store_items(env, {"default": Credentials(TOKEN_ID, TOKEN)})
    run_env = {**env, "SIPGATE_TOKEN_ID": WORK_ID, "SIPGATE_TOKEN": WORK_TOKEN}
    documents = listed(console_script, run_env)
    assert [(d["profile"], d["inUse"], d["environmentOverrides"]) for d in documents] == [
        ("default", False, True)
    ]
    text = flat(app(console_script, run_env, "profiles").stdout)
    assert "Commands use SIPGATE_TOKEN_ID and SIPGATE_TOKEN from the environment now" in text


def test_profiles_stored_before_the_index_are_found_from_config_and_state_and_indexed(
    console_script: str, env: dict[str, str]
) -> None:
    config = Path(env["SIPGATE_TUI_CONFIG_DIR"])
    config.mkdir()
    (config / "config.toml").write_text('[profiles.office]\nregion = "DE"\n')
    state = Path(env["SIPGATE_TUI_STATE_DIR"])
    state.mkdir()
    (state / "state.json").write_text(json.dumps({"profiles": {"home": {"recent": []}}}))
    store_items(
        env,
        {
            "office": Credentials(WORK_ID, WORK_TOKEN),
            "home": Credentials(TOKEN_ID, TOKEN),
            "unknown": Credentials(STALE_ID, STALE_TOKEN),  # named nowhere: cannot be found
        },
    )
    documents = listed(console_script, env)
    assert [(d["profile"], d["stored"]) for d in documents] == [
        ("default", False),
        ("home", True),
        ("office", True),
    ]
    assert index_of(env) == ["home", "office"]


def test_none_stored_lists_the_profile_in_use_and_says_how_to_store_one(
    console_script: str, env: dict[str, str]
) -> None:
    assert [(d["profile"], d["stored"]) for d in listed(console_script, env)] == [
        ("default", False)
    ]
    shown = app(console_script, env, "profiles")
    assert shown.returncode == 0
    assert "No profile has a stored token yet: `sipgate-tui login` stores" in flat(shown.stdout)


def test_a_keyring_that_does_not_answer_is_waited_for_once_not_per_profile(
    console_script: str, env: dict[str, str]
) -> None:
    state = Path(env["SIPGATE_TUI_STATE_DIR"])
    state.mkdir()
    names = ["default", "a", "b", "c", "d"]
    (state / "state.json").write_text(json.dumps({"profile_index": names}))
    started = time.monotonic()
    result = app(console_script, {**env, "TEST_KEYRING_FAULT": "block"}, "profiles", "--json")
    took = time.monotonic() - started
    assert result.returncode == 7
    documents = json.loads(result.stdout)
    assert sorted(d["profile"] for d in documents) == sorted(names)
    assert {d["stored"] for d in documents} == {None}
    assert all(d["error"]["code"] == "keyring-timeout" for d in documents)
    assert took < 2 * 4  # five profiles, a 2 s timeout: one wait, not five


def test_status_all_checks_every_profile_and_exits_with_the_worst(
    console_script: str, env: dict[str, str]
) -> None:
    store_items(
        env,
        {
            "default": Credentials(TOKEN_ID, TOKEN),
            "work": Credentials(WORK_ID, WORK_TOKEN),
            "old": Credentials(STALE_ID, STALE_TOKEN),
        },
    )
    state = Path(env["SIPGATE_TUI_STATE_DIR"])
    state.mkdir()
    (state / "state.json").write_text(json.dumps({"profile_index": ["old", "work"]}))
    result = app(console_script, env, "status", "--all", "--json")
    assert result.returncode == 3
    documents = json.loads(result.stdout)
    assert [(d["profile"], d["tokenId"], d["valid"], d["exitCode"]) for d in documents] == [
        ("default", TOKEN_ID, True, 0),
        ("old", STALE_ID, False, 3),
        ("work", WORK_ID, True, 0),
    ]
    assert documents[1]["error"]["code"] == "unauthorized"
    assert [d["inUse"] for d in documents] == [True, False, False]
    shown = app(console_script, env, "status", "--all")
    assert shown.returncode == 3
    text = flat(shown.stdout)
    assert f"default {TOKEN_ID} ••••9f84 ✓ token accepted" in text
    assert f"old {STALE_ID} ••••5b6c ✗ token not accepted" in text
    assert "old: sipgate did not accept the token id and token" in text


def test_status_all_is_0_when_every_token_works_and_3_when_none_is_stored(
    console_script: str, env: dict[str, str]
) -> None:
    empty = app(console_script, env, "status", "--all")
    assert empty.returncode == 3
    assert "No profile has a stored token" in flat(empty.stdout)
    assert json.loads(app(console_script, env, "status", "--all", "--json").stdout) == []
    store_items(env, {"default": Credentials(TOKEN_ID, TOKEN)})
    assert app(console_script, env, "status", "--all").returncode == 0


@pytest.mark.parametrize("fault", ["locked", "corrupted"])
def test_an_unreadable_keyring_or_item_is_never_called_nothing_stored(
    console_script: str, env: dict[str, str], fault: str
) -> None:
    Path(env["TEST_KEYRING_FILE"]).write_text(json.dumps({"sipgate-tui/default": "{not json"}))
    run_env = {**env, "TEST_KEYRING_FAULT": fault if fault == "locked" else ""}
    shown = app(console_script, run_env, "profiles")
    text = flat(shown.stdout)
    assert "No profile has a stored token" not in text
    if fault == "locked":
        assert shown.returncode == 7
        assert "unknown: the keyring could not be read" in text
        assert "The keyring is locked" in text
    else:
        assert shown.returncode == 0
        assert "the item is unreadable" in text
        [document] = listed(console_script, run_env)
        assert (document["stored"], document["error"]["code"]) == (True, "credentials-corrupted")
