"""The real keyrings.alt, in a throwaway venv: its file "keyrings" are refused like no keyring.

keyrings.alt keeps secrets in a file under HOME (base64 at best). With it installed, keyring
picks its PlaintextKeyring whenever no real keyring answers (its default priority), or when
PYTHON_KEYRING_BACKEND or keyringrc.cfg name it. sipgate-tui must then answer as it does when
there is no keyring at all (keyring-unavailable, exit 7 for login; exit 3 for the commands that
need a token), store nothing, read nothing, and never call a file "your keyring".

The venv is built once for the module (``pip install`` of this repository and keyrings.alt; the
pip cache makes a second build quick). Without the package registry the test is skipped, except
in CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from helpers import TOKEN, TOKEN_ID, flat

from sipgate_tui.simulator import SipgateSimulator

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="keyrings.alt's default priority is checked on Linux, where no real keyring is "
    "reachable once D-Bus is out of reach (elsewhere the OS keyring would win)",
)


@pytest.fixture(scope="module")
def alt_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with this project (from its source) and the real keyrings.alt installed.

    The project's dependencies (keyring among them) are the ones of the environment running
    the tests, put on the venv's path with a .pth file: resolving and installing them again
    would take most of a minute and prove nothing more. The project itself and keyrings.alt
    are pip-installed into the venv, and come first on its path.
    """
    venv = tmp_path_factory.mktemp("keyrings-alt-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    ours = sysconfig.get_paths()["purelib"]
    Path(site_packages, "zz_project_dependencies.pth").write_text(ours + "\n")
    install = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--retries",
            "1",
            "--timeout",
            "30",
            str(ROOT),
            "keyrings.alt",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if install.returncode != 0:
        last = (install.stderr.strip().splitlines() or ["(no output)"])[-1]
        if os.environ.get("CI"):
            pytest.fail(f"CI must run this test, but pip could not install keyrings.alt: {last}")
        pytest.skip(f"the package registry is unreachable (pip install keyrings.alt: {last})")
    where = subprocess.run(
        [python, "-c", "import sipgate_tui, keyrings.alt; print(sipgate_tui.__file__)"],
        cwd=venv,  # `python -c` looks in its working directory first: not in the checkout
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert where.startswith(str(venv)), f"the venv runs another sipgate-tui: {where}"
    return venv


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def environment(home: Path, api_url: str, **extra: str) -> dict[str, str]:
    """A user's environment under ``home``, with no D-Bus (so no real keyring can answer and
    keyrings.alt is what keyring falls back to) and nothing of the developer's own."""
    keep = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        XDG_RUNTIME_DIR=str(home / "run"),
        DBUS_SESSION_BUS_ADDRESS="unix:path=" + str(home / "no-bus"),
        SIPGATE_API_URL=api_url,
        SIPGATE_TUI_KEYRING_TIMEOUT="20",
        PYTHONIOENCODING="utf-8",
        COLUMNS="100",
        **extra,
    )
    return env


def run(venv: Path, args: list[str], env: dict[str, str], stdin: str = "") -> tuple[int, str]:
    result = subprocess.run(
        [str(venv / "bin" / "sipgate-tui"), *args],
        input=stdin,
        cwd=env["HOME"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert TOKEN not in output, output
    return result.returncode, output if "--json" in args else flat(output)


def files_holding_the_token(home: Path) -> list[Path]:
    """Files under ``home`` that hold the token: plain, or inside a base64 run (keyrings.alt's
    PlaintextKeyring base64-encodes the whole item, so the token's own base64 is not there)."""
    found = []
    for path in home.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        texts = [data]
        # Runs of base64, also wrapped over lines (keyrings.alt writes an ini file), decoded
        # from each of the four alignments in case a word of the file precedes the run.
        for run_ in re.findall(rb"(?:[A-Za-z0-9+/]+={0,2}[ \t\r\n]*){2,}", data):
            squeezed = re.sub(rb"\s", b"", run_)
            for start in range(4):
                chunk = squeezed[start:].rstrip(b"=")
                chunk = chunk[: len(chunk) - len(chunk) % 4]
                try:
                    texts.append(base64.b64decode(chunk))
                except ValueError:
                    continue
        if any(TOKEN.encode() in text for text in texts):
            found.append(path)
    return found


LOGIN = ["login", "--token-id", TOKEN_ID, "--token-stdin", "--timeout", "5"]
CHOSEN_BY = {
    "PYTHON_KEYRING_BACKEND=PlaintextKeyring": {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"
    },
    "PYTHON_KEYRING_BACKEND=EncryptedKeyring": {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.EncryptedKeyring"
    },
    "default priority": {},
    "keyringrc.cfg": {},  # written by the test
}


@pytest.mark.parametrize("chosen_by", list(CHOSEN_BY))
@pytest.mark.parametrize("json_mode", [False, True], ids=["human", "json"])
def test_login_refuses_keyrings_alt(
    alt_venv: Path, home: Path, chosen_by: str, json_mode: bool
) -> None:
    if chosen_by == "keyringrc.cfg":
        config = home / ".config" / "python_keyring" / "keyringrc.cfg"
        config.parent.mkdir(parents=True)
        config.write_text("[backend]\ndefault-keyring=keyrings.alt.file.PlaintextKeyring\n")
    with SipgateSimulator() as simulator:
        env = environment(home, simulator.url, **CHOSEN_BY[chosen_by])
        args = LOGIN + (["--json"] if json_mode else [])
        code, output = run(alt_venv, args, env, stdin=TOKEN)
        asked = list(simulator.requests)
    assert code == 7, output
    if json_mode:
        error = json.loads(output)["error"]
        assert error["code"] == "keyring-unavailable"
        output = error["message"] + error["hint"]
    assert "No usable keyring" in output and "never falls back to a plain-text file" in output
    assert "keyrings.alt" in output and "keeps secrets in a file" in output
    assert "your keyring" not in output and "Logged in" not in output
    assert "Traceback" not in output and TOKEN not in output
    assert asked == []  # refused before the token was even checked
    assert files_holding_the_token(home) == []


def test_a_token_kept_by_keyrings_alt_before_is_not_read(alt_venv: Path, home: Path) -> None:
    """An older sipgate-tui may have stored the token with keyrings.alt: status and call treat
    that file as no keyring (exit 3), send nothing, and say why."""
    item = json.dumps({"token_id": TOKEN_ID, "token": TOKEN})
    with SipgateSimulator() as simulator:
        env = environment(home, simulator.url)
        subprocess.run(
            [
                str(alt_venv / "bin" / "python"),
                "-c",
                "import keyring, sys; keyring.set_password('sipgate-tui', 'default', sys.argv[1])",
                item,
            ],
            env=env,
            cwd=home,
            check=True,
            timeout=60,
        )
        assert files_holding_the_token(home), "keyrings.alt should have kept the item in a file"
        status_code, status = run(alt_venv, ["status", "--timeout", "5"], env)
        call_code, call = run(
            alt_venv, ["call", "0157 99912345", "-d", "e0", "--yes", "--timeout", "5"], env
        )
        asked = list(simulator.requests)
    for code, output in ((status_code, status), (call_code, call)):
        assert code == 3, output
        assert "no usable keyring" in output and "PlaintextKeyring" in output
        assert "Traceback" not in output and TOKEN not in output
    assert "none found" in status
    assert asked == []


def test_logout_with_keyrings_alt_says_how_to_remove_an_old_item(
    alt_venv: Path, home: Path
) -> None:
    with SipgateSimulator() as simulator:
        env = environment(home, simulator.url)
        code, output = run(alt_venv, ["logout"], env)
    assert code == 7, output
    assert "no stored token" in output and "python -m keyring del sipgate-tui" in output
