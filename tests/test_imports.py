"""Structural guards for start-up speed: which heavy modules each path imports.

Timed tests flake; import lists do not. These run the installed console script with Python's
import profiling on and read which top-level packages were loaded.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from helpers import TOKEN, TOKEN_ID

from sipgate_tui.simulator import SipgateSimulator

HEAVY = {
    "questionary",
    "prompt_toolkit",
    "requests",
    "urllib3",
    "keyring",
    "phonenumbers",
    "rich",
    "pydantic",
    "typer",
    "secretstorage",
    "tomlkit",
}


def imported(script: str, env: dict[str, str], *args: str) -> set[str]:
    result = subprocess.run(
        [script, *args],
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    names = {
        line.split("|")[2].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "cumulative" not in line
    }
    return names & HEAVY


@pytest.fixture
def env(clean_env: dict[str, str], tmp_path) -> dict[str, str]:
    # The keyring must not be discoverable: with env credentials it is never needed.
    environment = {
        **clean_env,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "c"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "s"),
    }
    environment.pop("PYTHON_KEYRING_BACKEND")
    return environment


def test_version_imports_nothing_heavy(console_script: str, env: dict[str, str]) -> None:
    assert imported(console_script, env, "--version") == set()


@pytest.mark.parametrize("args", [("--help",), ("call", "--help"), ("login", "--help")])
def test_help_needs_only_typer(console_script: str, env: dict[str, str], args: tuple) -> None:
    assert imported(console_script, env, *args) == {"typer"}


@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_a_one_shot_dial_with_env_credentials_needs_no_prompt_or_keyring_library(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator, json_flag: tuple
) -> None:
    loaded = imported(
        console_script,
        {**env, "SIPGATE_API_URL": simulator.url},
        "call",
        "+4915799912345",
        "--device",
        "e0",
        "--yes",
        *json_flag,
    )
    assert not loaded & {
        "questionary",
        "prompt_toolkit",
        "keyring",
        "secretstorage",
        "pydantic",
        "tomlkit",
    }
    assert len(simulator.call_requests()) == 1


def test_a_dry_run_needs_no_http_library(console_script: str, env: dict[str, str]) -> None:
    loaded = imported(console_script, env, "call", "+4915799912345", "-d", "e0", "--dry-run")
    assert not loaded & {"requests", "urllib3", "keyring", "questionary"}


def test_typer_is_a_version_without_pydantic() -> None:
    # 0.29 imports pydantic for every command (about +80 ms a call, see benchmarks/run.py).
    import typer

    major, minor = (int(part) for part in typer.__version__.split(".")[:2])
    assert (major, minor) < (0, 29), "measure before widening the typer bound"


@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_a_one_shot_dial_by_number_pays_nothing_for_contacts(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator, json_flag: tuple
) -> None:
    # Issue 14: no contacts module imported, so no cache file read either.
    result = subprocess.run(
        [console_script, "call", "+4915799912345", "--device", "e0", "--yes", *json_flag],
        env={**env, "SIPGATE_API_URL": simulator.url, "PYTHONPROFILEIMPORTTIME": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = {
        line.split("|")[2].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "cumulative" not in line
    }
    assert "sipgate_tui.cli" in modules  # the profile did list our own modules
    assert not modules & {"sipgate_tui.contacts", "sipgate_tui.contacts_cache"}
    # Issue 15: a number with no link or tones pays nothing for them either.
    assert not modules & {
        "sipgate_tui.links",
        "sipgate_tui.tones",
        "sipgate_tui.watch",
        "sipgate_tui.desktop_handler",
        "sipgate_tui.commands.desktop_call",
    }
    # Issue 16: of phonenumbers, only the parts reading a number (phone_library.py).
    assert "phonenumbers.phonenumberutil" in modules
    assert not modules & {
        "phonenumbers.asyoutypeformatter",
        "phonenumbers.phonenumbermatcher",
    }
    assert len(simulator.call_requests()) == 1
    assert not any(r.path == "/contacts" for r in simulator.requests)


def test_the_whole_phonenumbers_package_still_works_after_the_light_load() -> None:
    # A fresh interpreter: the deferred __init__ runs on the first name the package lacks.
    script = (
        "import sys\n"
        "from sipgate_tui.numbers import parse_phone_number\n"
        "print(parse_phone_number('0157 99912345', 'DE').e164)\n"
        "print('phonenumbers.asyoutypeformatter' in sys.modules)\n"
        "import phonenumbers\n"
        "formatter = phonenumbers.AsYouTypeFormatter('DE')\n"
        "print(''.join(formatter.input_digit(d) for d in '0157')[-4:])\n"
        "from phonenumbers import PhoneNumberMatcher\n"
        "print(len(list(PhoneNumberMatcher('call 0157 99912345 now', 'DE'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["+4915799912345", "False", "0157", "1"]


@pytest.mark.parametrize(
    ("args", "built"),
    [
        (["call", "+4915799912345", "--yes"], {"call"}),
        (["--profile", "work", "--debug", "status"], {"status"}),
        (["config", "set", "region", "AT"], {"config"}),
        (["favorites"], {"favorites"}),  # the hidden spelling is a group of its own
    ],
)
def test_a_run_naming_a_command_builds_only_that_command(args: list[str], built: set) -> None:
    from typer.main import get_command

    from sipgate_tui.cli import command_tree

    assert set(get_command(command_tree(args, {})).commands) == built


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ([], {}),  # the guided mode
        (["--help"], {}),
        (["cal"], {}),  # click's "No such command 'cal'. Did you mean 'call', 'calls'?"
        (["call"], {"_SIPGATE_TUI_COMPLETE": "complete_bash"}),  # completion lists commands
    ],
)
def test_the_whole_command_tree_where_more_than_one_command_can_show(
    args: list[str], env: dict[str, str]
) -> None:
    from typer.main import get_command

    from sipgate_tui.cli import app, command_tree

    tree = command_tree(args, env)
    assert tree is app
    assert {"call", "calls", "status", "config", "handler"} <= set(get_command(tree).commands)


# Records a one-shot dial may still create as dataclasses: each costs about a millisecond to
# create (Python generates and compiles its methods), so the records on this path are
# NamedTuples or slotted classes instead, except these: a secret kept out of repr
# (credentials), a mutable context, a dict field (the favourites), and the dial-string steps
# (a Pause's `count` would shadow tuple.count).
DATACLASSES_ON_THE_DIAL_PATH = {
    "sipgate_tui.context.AppContext",
    "sipgate_tui.credentials.Credentials",
    "sipgate_tui.credentials.FoundCredentials",
    "sipgate_tui.dial_string.DialString",
    "sipgate_tui.dial_string.Pause",
    "sipgate_tui.dial_string.Tones",
    "sipgate_tui.dial_string.WaitForEnter",
    "sipgate_tui.settings.ProfileSettings",
}
COUNT_DATACLASSES = """
import dataclasses, os, sys
created = []
create = dataclasses._process_class
def counted(cls, *args, **kwargs):
    created.append(cls.__module__ + "." + cls.__qualname__)
    return create(cls, *args, **kwargs)
dataclasses._process_class = counted
exit_now = os._exit  # the app ends with os._exit: report just before
def report(code):
    sys.stderr.write("\\ncreated: " + " ".join(created) + "\\n")
    sys.stderr.flush()
    exit_now(code)
os._exit = report
sys.argv = ["sipgate-tui", *sys.argv[1:]]
from sipgate_tui.__main__ import main
main()
"""


def test_a_one_shot_dial_creates_no_dataclass_beyond_the_listed_ones(
    env: dict[str, str], simulator: SipgateSimulator
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", COUNT_DATACLASSES, "call", "+4915799912345", "-d", "e0", "--yes"],
        env={**env, "SIPGATE_API_URL": simulator.url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Call accepted" in result.stdout
    [line] = [line for line in result.stderr.splitlines() if line.startswith("created: ")]
    ours = {name for name in line.split()[1:] if name.startswith("sipgate_tui.")}
    assert "sipgate_tui.settings.ProfileSettings" in ours  # the count saw our modules
    assert ours <= DATACLASSES_ON_THE_DIAL_PATH, sorted(ours - DATACLASSES_ON_THE_DIAL_PATH)
