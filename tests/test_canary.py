"""Canary: a known token goes through every command and path; it must never come back out.

Neither the token nor the base64 of ``token_id:token`` may appear in any output (stdout,
stderr; success, failure, --dry-run, --json, --debug, a crash) or in any file under HOME.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import TOKEN, TOKEN_ID

from sipgate_tui.simulator import SipgateSimulator

TESTS = Path(__file__).parent
BASIC = base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()
CRASH_HOOK = """
import os
if os.environ.get("CANARY_CRASH"):
    import sipgate_tui.api as api

    def crash(*args, **kwargs):
        raise RuntimeError("crashed while holding " + os.environ["CANARY_SECRET"])

    api.SipgateClient.close = crash  # runs after every request, with the token loaded
"""


@pytest.fixture
def canary_env(
    clean_env: dict[str, str], simulator: SipgateSimulator, tmp_path: Path
) -> dict[str, str]:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(CRASH_HOOK)
    return {
        **clean_env,
        "SIPGATE_API_URL": simulator.url,
        "PYTHON_KEYRING_BACKEND": "file_keyring.FileKeyring",
        "TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),  # outside HOME, test-only
        "PYTHONPATH": f"{hooks}:{TESTS}",
        "CANARY_SECRET": TOKEN,
    }


def test_the_token_never_leaks(
    console_script: str, canary_env: dict[str, str], simulator: SipgateSimulator
) -> None:
    env_creds = {"SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": TOKEN}
    echo = f"you sent {TOKEN} aka Basic {BASIC}"
    runs: list[tuple[list[str], dict[str, str], str, int | None]] = [
        # args, extra env, stdin, expected exit code
        (["login", "--token-id", TOKEN_ID, "--token-stdin"], {}, TOKEN, 0),
        (["login", "--token-id", TOKEN_ID, "--token-stdin", "--json"], {}, TOKEN, 0),
        (["--debug", "login", "--token-id", TOKEN_ID, "--token-stdin"], {}, TOKEN, 0),
        (["login", "--token-id", TOKEN_ID, "--token-stdin"], {}, TOKEN + "x", 3),
        (["status"], {}, "", 0),
        (["status", "--json"], {}, "", 0),
        (["--debug", "status", "--json"], {}, "", 0),
        (["call", "0157 99912345", "-d", "e0", "--yes"], {}, "", 0),
        (["--debug", "call", "0157 99912345", "-d", "e0", "--yes", "--json"], {}, "", 0),
        (["call", "0157 99912345", "-d", "e0", "--dry-run"], env_creds, "", 0),
        (["--debug", "call", "0157 99912345", "-d", "e0", "--dry-run", "--json"], env_creds, "", 0),
        (["call", "0157 99912345", "-d", "e9", "--yes"], env_creds, "", 4),
        (["--debug", "call", "0157 99912345", "-d", "e9", "--yes", "--json"], env_creds, "", 4),
        # A bug after sipgate accepted the call: the exit code still says "accepted".
        (["--debug", "call", "0157 99912345", "-d", "e0", "--yes"], {"CANARY_CRASH": "1"}, "", 0),
        (["call", "0157 99912345", "-d", "e0", "--yes", "--json"], {"CANARY_CRASH": "1"}, "", 0),
        (["status"], {"SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": TOKEN + "x"}, "", 3),
        (["logout"], {}, "", 0),
        (["logout", "--json"], env_creds, "", 0),
    ]
    outputs = []
    for args, extra, stdin, expected in runs:
        result = subprocess.run(
            [console_script, *args],
            env={**canary_env, **extra},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        outputs.append((args, result))
        assert result.returncode == expected, (args, result.stdout, result.stderr)

    # A hostile server echoing the secret back, on success and error paths.
    simulator.respond_with(400, echo)
    outputs.append(
        (
            ["echo"],
            subprocess.run(
                [console_script, "--debug", "call", "0157 99912345", "-d", "e0", "--yes"],
                env={**canary_env, **env_creds},
                capture_output=True,
                text=True,
                timeout=60,
            ),
        )
    )

    for args, result in outputs:
        for stream in (result.stdout, result.stderr):
            assert TOKEN not in stream, args
            assert BASIC not in stream, args
    debug_crash = outputs[13][1]
    assert "Traceback" in debug_crash.stderr  # --debug shows the bug's traceback ...
    assert "crashed while holding ••••" in debug_crash.stderr  # ... with the secret scrubbed

    home = Path(canary_env["HOME"])
    for path in home.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert TOKEN.encode() not in content and BASIC.encode() not in content, path


def test_the_token_is_never_an_argument(console_script: str) -> None:
    # Other users can read the process list: no option takes the token itself.
    result = subprocess.run(
        [sys.executable, "-m", "sipgate_tui", "login", "--help"], capture_output=True, text=True
    )
    assert "--token-stdin" in result.stdout
    assert "--token " not in result.stdout and "--token=" not in result.stdout
