"""Shell completion from the user's own files (issue 14, item 7): favourite names, contact names,
device ids and profile names; never a request, never the keyring, nothing at all from a damaged
file. The real shells (bash, zsh, fish) are driven in a pseudo-terminal; the callbacks run
in-process through click's own completion machinery, over real files in temporary directories.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pexpect
import pytest
from helpers import TOKEN, TOKEN_ID

from sipgate_tui import completion, contacts_cache
from sipgate_tui.contacts import Contact, ContactNumber
from sipgate_tui.settings import SettingsStore
from sipgate_tui.simulator import SipgateSimulator

CONFIG = """\
[profiles.default]
region = "DE"
[profiles.default.favourites]
mom = "+4915799912345"
Dad = "+4915799912346"
[profiles.work.favourites]
boss = "+4915799912347"
[profiles."bad name"]
"""


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """config.toml with favourites in two profiles, an empty state and cache directory; the
    process environment points at them (the callbacks read os.environ, as in a shell)."""
    dirs = {name: tmp_path / name for name in ("config", "state", "cache")}
    for directory in dirs.values():
        directory.mkdir()
    (dirs["config"] / "config.toml").write_text(CONFIG)
    for name in list(os.environ):
        if name.startswith("SIPGATE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SIPGATE_TUI_CONFIG_DIR", str(dirs["config"]))
    monkeypatch.setenv("SIPGATE_TUI_STATE_DIR", str(dirs["state"]))
    monkeypatch.setenv("SIPGATE_TUI_CACHE_DIR", str(dirs["cache"]))
    return dirs


def complete(line: str) -> list[tuple[str, str | None]]:
    """What click's completion offers for ``line`` (the last word is the one being typed)."""
    from typer._click.shell_completion import get_completion_class
    from typer.main import get_command

    from sipgate_tui.cli import app

    completion._register_shells()
    words = shlex.split(line)[1:]
    args, incomplete = (words, "") if line.endswith(" ") else (words[:-1], words[-1])
    shell = get_completion_class("bash")
    assert shell is not None
    found = shell(get_command(app), {}, "sipgate-tui", completion.COMPLETE_VAR).get_completions(
        args, incomplete
    )
    return [(item.value, item.help) for item in found]


def values(line: str) -> list[str]:
    return [value for value, _ in complete(line)]


def keep_devices(env: dict[str, str], token_id: str = TOKEN_ID, profile: str = "default") -> None:
    SettingsStore(env, profile).remember_devices(
        token_id, [("e0", "Desk phone"), ("x1", "Softphone: desk"), ("fax-0", "Fax")]
    )


# -- what each place completes ---------------------------------------------------------------


def test_favourite_names_complete_whatever_the_case(files: dict[str, Path]) -> None:
    assert values("sipgate-tui call M") == ["mom"]
    assert values("sipgate-tui call d") == ["Dad"]
    assert values("sipgate-tui call ") == ["Dad", "mom"]
    assert values("sipgate-tui favourites remove MO") == ["mom"]
    assert values("sipgate-tui favorites remove ") == ["Dad", "mom"]


def test_the_profile_on_the_line_or_in_the_environment_is_the_one_read(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert values("sipgate-tui --profile work call ") == ["boss"]
    assert values("sipgate-tui --profile=work call b") == ["boss"]
    # After the command, as a run takes it (cli.hoist_global_options).
    assert values("sipgate-tui call --profile work b") == ["boss"]
    assert values("sipgate-tui favourites remove --profile work ") == ["boss"]
    monkeypatch.setenv("SIPGATE_PROFILE", "work")
    assert values("sipgate-tui call ") == ["boss"]
    assert values("sipgate-tui --profile default call ") == ["Dad", "mom"]


def test_profile_names_come_from_config_and_state(files: dict[str, Path]) -> None:
    (files["state"] / "state.json").write_text(json.dumps({"profiles": {"home": {}, "../x": {}}}))
    assert values("sipgate-tui --profile ") == ["default", "home", "work"]
    assert values("sipgate-tui --profile W") == ["work"]
    assert values("sipgate-tui call --profile h") == ["home"]  # after the command, too


def test_device_ids_kept_when_listed_complete_with_their_names(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = dict(os.environ)
    assert values("sipgate-tui call -d ") == []  # never listed: nothing to offer
    keep_devices(env)
    assert complete("sipgate-tui call -d ") == [("e0", "Desk phone"), ("x1", "Softphone: desk")]
    assert values("sipgate-tui call --device X") == ["x1"]
    assert values("sipgate-tui call --device=e") == ["e0"]
    assert values("sipgate-tui config set default-device ") == ["e0", "x1"]
    assert values("sipgate-tui config set live-view o") == ["on", "off"]
    assert values("sipgate-tui config set region ") == []
    # Another token in the environment may be another account: not its devices.
    monkeypatch.setenv("SIPGATE_TOKEN_ID", "token-OTHER")
    assert values("sipgate-tui call -d ") == []
    monkeypatch.setenv("SIPGATE_TOKEN_ID", TOKEN_ID)
    assert values("sipgate-tui call -d ") == ["e0", "x1"]
    assert values("sipgate-tui --profile work call -d ") == []


def test_the_device_list_is_written_once_per_change(files: dict[str, Path]) -> None:
    env = dict(os.environ)
    state = files["state"] / "state.json"
    keep_devices(env)
    entry = json.loads(state.read_text())["profiles"]["default"]
    assert entry["devices"] == {
        "token_id": TOKEN_ID,
        "items": [["e0", "Desk phone"], ["x1", "Softphone: desk"]],  # fax-0 cannot ring first
    }
    assert completion.device_ids(env, "default") == [
        ("e0", "Desk phone"),
        ("x1", "Softphone: desk"),
    ]
    written = state.stat().st_mtime_ns
    os.utime(state, ns=(written - 10**9, written - 10**9))
    keep_devices(env)  # the same list: no write
    assert state.stat().st_mtime_ns == written - 10**9
    SettingsStore(env, "default").remember_devices(TOKEN_ID, [("e1", "New phone\x1b[31m")])
    entry = json.loads(state.read_text())["profiles"]["default"]
    assert entry["devices"]["items"] == [["e1", "e1"]]  # a name with a control: the id instead


def test_contact_names_complete_from_the_cache_of_the_same_token(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = dict(os.environ)
    people = [
        Contact("1", "Ada Lovelace", "", "shared", (ContactNumber("0157 1", "mobile", None),)),
        Contact("2", "Müller GmbH", "Müller GmbH", "shared", ()),
        Contact("3", "Grace Hopper", "", "private", ()),
    ]
    contacts_cache.save(env, "default", TOKEN_ID, "DE", people)
    # No token id known without the keyring: no names (the cache may be another account's).
    assert values("sipgate-tui call ad") == []
    keep_devices(env)  # the state file now names the token id the profile used last
    assert complete("sipgate-tui call AD") == [("Ada Lovelace", "contact")]
    assert values("sipgate-tui call mu") == ["Müller GmbH"]
    assert values("sipgate-tui call m") == ["mom"]  # contacts from the second letter on
    assert values("sipgate-tui call Ada L") == ["Lovelace"]  # the rest of the name
    assert values("sipgate-tui call Ada X") == []
    monkeypatch.setenv("SIPGATE_TOKEN_ID", "token-OTHER")
    assert values("sipgate-tui call ad") == []


def test_completion_reads_the_contacts_cache_as_contacts_cache_does(
    files: dict[str, Path],
) -> None:
    """completion.py reads the cache without importing the contacts module (speed); these
    keep its reader and contacts_cache in step."""
    env = dict(os.environ)
    people = [
        Contact(str(n), f"Person {n}", "Firma" if n % 2 else "", "shared", ()) for n in range(50)
    ]
    # A company contact is named by its company (contacts.parse_contact does so).
    people.append(Contact("co", "Acme AG", "Acme AG", "shared", ()))
    contacts_cache.save(env, "work", TOKEN_ID, "DE", people)
    loaded = contacts_cache.load(env, "work", TOKEN_ID, "DE")
    assert loaded is not None
    assert completion.contact_names({**env, "SIPGATE_TOKEN_ID": TOKEN_ID}, "work") == [
        contact.name for contact in loaded.contacts
    ]
    assert "Acme AG" in completion.contact_names({**env, "SIPGATE_TOKEN_ID": TOKEN_ID}, "work")
    assert completion.app_dir(env, "cache") / "contacts-work.json" == (
        contacts_cache.cache_path(env, "work")
    )
    assert completion.CACHE_VERSION == contacts_cache.CACHE_VERSION
    for overridden in (env, {"HOME": env.get("HOME", "/")}):  # with and without the variables
        store = SettingsStore(overridden, "default")
        assert completion.app_dir(overridden, "config") / "config.toml" == store.config_path
        assert completion.app_dir(overridden, "state") / "state.json" == store.state_path
        assert completion.app_dir(overridden, "cache") == contacts_cache.cache_dir(overridden)
    assert completion.contact_names({**env, "SIPGATE_TOKEN_ID": "token-X"}, "work") == []
    assert completion.contact_names({**env, "SIPGATE_TOKEN_ID": TOKEN_ID}, "../work") == []


# -- never a failure the user sees -----------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "state"),
    [
        ("[profiles.default\nmom =", "{"),
        ("\xff\xfe", "[1, 2]"),
        ("profiles = 3", json.dumps({"profiles": {"default": {"devices": "e0"}}})),
        ("[profiles.default]\nfavourites = 'mom'", json.dumps({"profiles": []})),
    ],
)
def test_damaged_files_complete_nothing(files: dict[str, Path], config: str, state: str) -> None:
    (files["config"] / "config.toml").write_bytes(config.encode("latin-1"))
    (files["state"] / "state.json").write_text(state)
    (files["cache"] / "contacts-default.json").write_text("{not json")
    assert values("sipgate-tui call ") == []
    assert values("sipgate-tui call -d ") == []
    assert values("sipgate-tui --profile ") == ["default"]


def test_a_fifo_in_place_of_a_file_does_not_block(files: dict[str, Path]) -> None:
    config = files["config"] / "config.toml"
    config.unlink()
    os.mkfifo(config)
    os.mkfifo(files["state"] / "state.json")
    assert values("sipgate-tui call ") == []
    assert values("sipgate-tui --profile ") == ["default"]


def _run_completion(
    console_script: str, env: dict[str, str], words: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script],
        env={
            **env,
            "_SIPGATE_TUI_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(shlex.split(words)) - (0 if words.endswith(" ") else 1)),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_completion_in_a_process_reads_no_keyring_and_prints_no_traceback(
    console_script: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "config.toml").write_text(CONFIG)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "state.json").write_text("{damaged")
    env = {
        **clean_env,
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "c"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "s"),
        "SIPGATE_TUI_CACHE_DIR": str(tmp_path / "cache"),
        # A keyring that fails on any use: a completion that touched it would show it.
        "PYTHON_KEYRING_BACKEND": "no.such.Backend",
        "SIPGATE_API_URL": "http://127.0.0.1:9",  # nothing listens: a request would fail
        "PYTHONPROFILEIMPORTTIME": "1",
    }
    result = _run_completion(console_script, env, "sipgate-tui call M")
    assert (result.returncode, result.stdout) == (0, "mom\n")
    loaded = {
        line.split("|")[2].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "cumulative" not in line
    }
    assert not loaded & {"keyring", "requests", "urllib3", "phonenumbers", "rich", "questionary"}
    assert "Traceback" not in result.stderr
    broken = _run_completion(console_script, env, "sipgate-tui call -d ")
    assert (broken.returncode, broken.stdout.strip()) == (0, "")
    assert "Traceback" not in broken.stderr


def test_devices_command_keeps_the_list_for_completion(
    console_script: str, clean_env: dict[str, str], tmp_path: Path, simulator: SipgateSimulator
) -> None:
    env = {
        **clean_env,
        "SIPGATE_API_URL": simulator.url,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "c"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "s"),
    }
    listed = subprocess.run(
        [console_script, "devices", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    ids = [item["id"] for item in json.loads(listed.stdout)]
    result = _run_completion(console_script, env, "sipgate-tui call -d ")
    offered = result.stdout.split()
    assert offered and set(offered) <= set(ids)
    requests_before = len(simulator.requests)
    _run_completion(console_script, env, "sipgate-tui call -d e")
    assert len(simulator.requests) == requests_before  # completion sent nothing


def test_the_calls_lookups_keep_the_device_list_they_fetched(
    files: dict[str, Path], simulator: SipgateSimulator
) -> None:
    from sipgate_tui.api import SipgateClient
    from sipgate_tui.credentials import Credentials
    from sipgate_tui.lookups import AccountLookups
    from sipgate_tui.user_id import UserId

    env = dict(os.environ)
    client = SipgateClient(simulator.url, Credentials(TOKEN_ID, TOKEN))
    store = SettingsStore(env, "default")
    lookups = AccountLookups(client, UserId(client, None), store=store)
    found = lookups.devices(wait=30)
    assert isinstance(found, list) and found
    callable_ids = [device.id for device in found if device.can_call]
    assert [device_id for device_id, _ in completion.device_ids(env, "default")] == callable_ids
    assert values("sipgate-tui call -d ") == callable_ids
    # Without a store (as before): nothing is written.
    other = SettingsStore(env, "work")
    AccountLookups(client, UserId(client, None)).devices(wait=30)
    assert completion.device_ids(env, "work") == []
    assert other.load_state().recent == ()


# -- the scripts -------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_names_the_shell(
    console_script: str, clean_env: dict[str, str], shell: str
) -> None:
    shown = subprocess.run(
        [console_script, "--show-completion", shell],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert f"_SIPGATE_TUI_COMPLETE=complete_{shell}" in shown.stdout
    equals = subprocess.run(
        [console_script, f"--show-completion={shell}"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert equals.stdout == shown.stdout


@pytest.mark.parametrize(
    ("shell", "where"),
    [("fish", ".config/fish/completions/sipgate-tui.fish"), ("zsh", ".zfunc/_sipgate-tui")],
)
def test_install_completion_writes_the_script_shown(
    console_script: str, clean_env: dict[str, str], shell: str, where: str
) -> None:
    installed = subprocess.run(
        [console_script, "--install-completion", shell],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr
    script = Path(clean_env["HOME"]) / where
    assert str(script) in installed.stdout
    shown = subprocess.run(
        [console_script, "--show-completion", shell],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.read_text().strip() == shown.stdout.strip()


def test_an_unknown_shell_is_a_usage_error(console_script: str, clean_env: dict[str, str]) -> None:
    refused = subprocess.run(
        [console_script, "--show-completion", "tcsh"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "bash, zsh or fish" in refused.stderr and "Traceback" not in refused.stderr
    assert refused.stdout == ""


# -- the real shells, in a pseudo-terminal -----------------------------------------------------

SHELLS = {
    "bash": (
        ["bash", "--norc", "--noprofile"],
        ["PS1='$ '", "source <(sipgate-tui --show-completion bash)"],
    ),
    "zsh": (
        ["zsh", "-f"],
        [
            "PROMPT='$ '",
            "bindkey -e",
            "autoload -U compinit; compinit -u -D",
            "source <(sipgate-tui --show-completion zsh)",
        ],
    ),
    "fish": (
        ["fish", "--no-config"],
        ["function fish_prompt; echo -n '$ '; end", "sipgate-tui --show-completion fish | source"],
    ),
}


def _shell_or_skip(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        # .ci/run installs bash, zsh and fish; there a missing shell is a failure.
        if os.environ.get("SIPGATE_TUI_REQUIRE_SECRET_SERVICE") == "1" or os.environ.get("CI"):
            pytest.fail(f"{name} is not installed, though CI installs it")
        pytest.skip(f"{name} is not installed (apt-get install {name}); CI runs this")
    return found


def _after_tab(shell: str, typed: str, env: dict[str, str]) -> str:
    """The command line ``shell`` shows after ``typed`` and one Tab: the line is then run as
    ``echo 42X <line>`` (Ctrl-A, the words, Ctrl-E, Enter), and its output read back."""
    command, setup = SHELLS[shell]
    child = pexpect.spawn(
        _shell_or_skip(command[0]),
        command[1:],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 200),
    )
    try:
        for line in setup:
            child.sendline(line)
        child.sendline('echo "RE""ADY"')
        child.expect("READY\r\n")
        child.send(typed + "\t")
        # 4""2X is 42X in every shell; only the command's output has it without the quotes.
        child.send('\x01echo 4""2X \x05\r')
        child.expect(r"42X (.*?)\r\n")
        return str(child.match.group(1)).strip()
    finally:
        child.close(force=True)


@pytest.fixture
def shell_env(clean_env: dict[str, str], console_script: str, tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in clean_env.items() if key not in ("EDITOR", "VISUAL", "ENV")}
    env.update(
        PATH=f"{Path(console_script).parent}:{clean_env['PATH']}",
        TERM="xterm",
        SIPGATE_TUI_CONFIG_DIR=str(tmp_path / "c"),
        SIPGATE_TUI_STATE_DIR=str(tmp_path / "s"),
        SIPGATE_TUI_CACHE_DIR=str(tmp_path / "cache"),
        fish_greeting="",
    )
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "config.toml").write_text(CONFIG)
    keep_devices(env)
    return env


@pytest.mark.pty
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("sipgate-tui call M", "sipgate-tui call mom"),
        ("sipgate-tui call --device x", "sipgate-tui call --device x1"),
        ("sipgate-tui call --profile w", "sipgate-tui call --profile work"),
        ("sipgate-tui --profile work call B", "sipgate-tui --profile work call boss"),
    ],
)
def test_tab_in_a_real_shell(shell: str, typed: str, line: str, shell_env: dict[str, str]) -> None:
    assert _after_tab(shell, typed, shell_env) == line
