"""The files sipgate-tui keeps, hardened (issue 13, items 7, 13, 14, 15's BOM, 24's remove).

Everything here runs the installed console script in real processes against the simulator:
parallel writers (no update lost, "Saved" only of what was saved), a lock another process holds
(a bounded wait and an error that names the lock file), cached user ids that would leave /v2
(the simulator's recorded paths prove none did), directories made under umask 000, symbolic
links, FIFOs and devices in a file's place, a byte order mark, and the region pins.
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import TOKEN, TOKEN_ID, flat
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sipgate_tui.errors import ExitCode
from sipgate_tui.settings import (
    DEFAULT_LOCK_TIMEOUT,
    MAX_RECENT,
    USER_ID,
    ProfileState,
    SettingsStore,
    valid_user_id,
)
from sipgate_tui.simulator import SipgateSimulator

POSIX = os.name == "posix"
needs_posix = pytest.mark.skipif(not POSIX, reason="FIFOs, devices and umask are POSIX things")


class Home:
    """A throwaway config and state directory, and the environment that points at them."""

    def __init__(self, tmp_path: Path, clean_env: dict[str, str], url: str) -> None:
        self.config_dir = tmp_path / "config"
        self.state_dir = tmp_path / "state"
        self.config = self.config_dir / "config.toml"
        self.state = self.state_dir / "state.json"
        self.env = {
            **clean_env,
            "SIPGATE_API_URL": url,
            "SIPGATE_TOKEN_ID": TOKEN_ID,
            "SIPGATE_TOKEN": TOKEN,
            "SIPGATE_TUI_CONFIG_DIR": str(self.config_dir),
            "SIPGATE_TUI_STATE_DIR": str(self.state_dir),
        }

    def run(self, script: str, *args: str, umask: int | None = None) -> tuple[int, str]:
        """Run the console script; a hang (a FIFO read) fails the test after 60 s."""
        result = subprocess.run(
            [script, *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=(lambda: os.umask(umask)) if umask is not None else None,
        )
        output = result.stdout + result.stderr
        assert "Traceback" not in output
        return result.returncode, output

    def start(self, script: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [script, *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def write_state(self, entry: dict[str, object]) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state.write_text(json.dumps({"profiles": {"default": entry}}))


@pytest.fixture
def sim() -> Iterator[SipgateSimulator]:
    with SipgateSimulator() as simulator:
        yield simulator


@pytest.fixture
def home(tmp_path: Path, clean_env: dict[str, str], sim: SipgateSimulator) -> Home:
    return Home(tmp_path, clean_env, sim.url)


def outside_v2(sim: SipgateSimulator) -> list[str]:
    return [r.path for r in sim.requests if r.path.startswith("/not-under-v2")]


# -- item 7: lost updates ------------------------------------------------------------------------


def finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    results = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert "Traceback" not in out + err
        results.append((process.returncode, out + err))
    return results


def test_twenty_parallel_calls_keep_all_twenty_recent_numbers(
    console_script: str, home: Home, sim: SipgateSimulator
) -> None:
    assert MAX_RECENT >= 20  # distinct numbers within the cap: every one must be kept
    numbers = [f"+4921155500{i:02d}" for i in range(20)]
    processes = [
        home.start(console_script, "call", number, "-d", "e0", "--yes", "--json")
        for number in numbers
    ]
    results = finish(processes)
    assert [code for code, _ in results] == [0] * 20, results
    kept = {r.number for r in SettingsStore(home.env, "default").load_state().recent}
    assert kept == set(numbers)
    assert len(sim.call_requests()) == 20  # one POST each, none retried
    assert not any("Not remembered" in output for _, output in results)


def test_ten_parallel_favourites_add_keep_all_ten_and_each_said_saved(
    console_script: str, home: Home
) -> None:
    home.config_dir.mkdir()
    home.config.write_text("# my favourites\n[profiles.default]\nregion = 'DE'  # home\n")
    names = [f"friend{i}" for i in range(10)]
    processes = [
        home.start(console_script, "favourites", "add", name, f"+4921155501{i:02d}")
        for i, name in enumerate(names)
    ]
    results = finish(processes)
    assert all(code == 0 for code, _ in results), results
    for name, (_, output) in zip(names, results, strict=True):
        assert f"Saved {name}" in flat(output)
    store = SettingsStore(home.env, "default")
    assert sorted(store.load().favourites) == names
    text = home.config.read_text()
    assert "# my favourites" in text and "# home" in text


@needs_posix
def test_a_lock_held_too_long_is_named_and_nothing_is_changed(
    console_script: str, home: Home, sim: SipgateSimulator
) -> None:
    import fcntl

    home.config_dir.mkdir()
    home.config.write_text("[profiles.default]\n")
    home.env["SIPGATE_TUI_LOCK_TIMEOUT"] = "0.5"
    lock = home.config_dir / "config.toml.lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another sipgate-tui, stopped mid-write
        code, output = home.run(console_script, "favourites", "add", "mom", "0157 99912345")
        json_code, document = home.run(console_script, "config", "set", "region", "AT", "--json")
    assert code == ExitCode.ENVIRONMENT
    assert str(lock) in flat(output).replace(" ", "") or str(lock) in output
    assert "Saved" not in output and "SIPGATE_TUI_LOCK_TIMEOUT" in flat(output)
    assert json_code == ExitCode.ENVIRONMENT
    assert json.loads(document)["error"]["code"] == "settings-locked"
    assert home.config.read_text() == "[profiles.default]\n"
    # Once it is let go, the same command goes through.
    assert home.run(console_script, "favourites", "add", "mom", "0157 99912345")[0] == 0


@needs_posix
def test_a_call_whose_state_lock_is_held_is_still_placed_and_says_not_remembered(
    console_script: str, home: Home, sim: SipgateSimulator
) -> None:
    import fcntl

    home.env["SIPGATE_TUI_LOCK_TIMEOUT"] = "0.5"
    home.state_dir.mkdir()
    with open(home.state_dir / "state.json.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        code, output = home.run(console_script, "call", "0157 99912345", "-d", "e0", "--yes")
    assert code == 0 and "Call accepted" in output
    assert "Not remembered" in flat(output) and "state.json.lock" in output.replace("\n", "")
    assert len(sim.call_requests()) == 1


def test_the_lock_timeout_is_checked(console_script: str, home: Home) -> None:
    home.env["SIPGATE_TUI_LOCK_TIMEOUT"] = "soon"
    code, output = home.run(console_script, "config", "set", "region", "AT")
    assert code == ExitCode.USAGE and "SIPGATE_TUI_LOCK_TIMEOUT" in flat(output)
    assert DEFAULT_LOCK_TIMEOUT == 10.0  # the documented default


# -- item 13: the cached user id -------------------------------------------------------------------

BAD_USER_IDS = [
    "../../x",
    "w0/../..",
    "..",
    "",
    "w" * 65,
    "w0\n",
    "w0\x1b]0;owned\x07",
    "w0\u202e",
    "w0%2f..%2f..",
    "w0?x=1",
    "w0#x",
    " w0",
    "%2e%2e",
    "w0/devices",
    5,
    None,
]


@pytest.mark.parametrize("bad", BAD_USER_IDS, ids=repr)
def test_a_bad_cached_user_id_is_not_cached(tmp_path: Path, bad: object) -> None:
    store = SettingsStore(
        {"SIPGATE_TUI_CONFIG_DIR": str(tmp_path), "SIPGATE_TUI_STATE_DIR": str(tmp_path)},
        "default",
    )
    store.state_path.write_text(
        json.dumps({"profiles": {"default": {"user_id": bad, "user_token_id": TOKEN_ID}}})
    )
    assert store.load_state().user_id_for(TOKEN_ID) is None
    assert ProfileState(user_id=bad, user_token_id=TOKEN_ID).user_id_for(TOKEN_ID) is None  # type: ignore[arg-type]


def test_the_cache_rule_is_the_userinfo_rule() -> None:
    from sipgate_tui import api

    assert USER_ID.pattern == api._USER_ID.pattern  # one rule, written twice


@given(st.text(max_size=80))
def test_no_accepted_user_id_leaves_v2(text: str) -> None:
    accepted = valid_user_id(text)
    if accepted is not None:
        path = f"/v2/{accepted}/devices"
        assert posixpath.normpath(path) == path  # no dot segments: stays under /v2
        assert accepted.isprintable() and "/" not in accepted and "%" not in accepted


@pytest.mark.parametrize("bad", ["../../x", "w0/../..", "", "w" * 65, "w0\r\nX-Evil: 1"], ids=repr)
@pytest.mark.parametrize("command", ["call", "devices", "history"])
def test_a_bad_cached_user_id_is_asked_again_and_no_request_leaves_v2(
    console_script: str, home: Home, sim: SipgateSimulator, bad: str, command: str
) -> None:
    home.write_state({"user_id": bad, "user_token_id": TOKEN_ID})
    args = {
        "call": ("call", "0157 99912345", "-d", "e0", "--yes"),
        "devices": ("devices",),
        "history": ("history",),
    }[command]
    code, output = home.run(console_script, *args)
    assert code == 0, output
    assert outside_v2(sim) == []
    paths = [r.path for r in sim.requests]
    assert "/authorization/userinfo" in paths  # not cached: asked again
    assert all(bad not in path for path in paths if bad)
    if command != "history":  # history on classic needs no user id, so none is learnt
        assert SettingsStore(home.env, "default").load_state().user_id == "w0"


# -- item 13: user-only directories and files ----------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@needs_posix
@pytest.mark.parametrize("umask", [0o000, 0o022, 0o277])
def test_directories_are_user_only_and_files_0600_whatever_the_umask(
    console_script: str, home: Home, tmp_path: Path, umask: int
) -> None:
    home.env["SIPGATE_TUI_CONFIG_DIR"] = str(tmp_path / "a" / "b" / "config")
    home.env["SIPGATE_TUI_STATE_DIR"] = str(tmp_path / "s" / "t" / "state")
    assert (
        home.run(console_script, "favourites", "add", "mom", "0157 99912345", umask=umask)[0] == 0
    )
    code, _ = home.run(console_script, "call", "mom", "-d", "e0", "--yes", umask=umask)
    assert code == 0
    for directory in ("a", "a/b", "a/b/config", "s", "s/t", "s/t/state"):
        assert mode(tmp_path / directory) == 0o700, directory
    for file in ("a/b/config/config.toml", "a/b/config/config.toml.lock"):
        assert mode(tmp_path / file) == 0o600, file
    for file in ("s/t/state/state.json", "s/t/state/state.json.lock"):
        assert mode(tmp_path / file) == 0o600, file


@needs_posix
def test_the_platform_directories_are_created_user_only(
    console_script: str, home: Home, tmp_path: Path
) -> None:
    for name in ("SIPGATE_TUI_CONFIG_DIR", "SIPGATE_TUI_STATE_DIR"):
        del home.env[name]
    assert home.run(console_script, "config", "set", "region", "AT", umask=0)[0] == 0
    config = Path(home.env["XDG_CONFIG_HOME"])
    assert mode(config) == 0o700 and mode(config / "sipgate-tui") == 0o700
    assert mode(config / "sipgate-tui" / "config.toml") == 0o600


@needs_posix
def test_an_existing_directory_and_file_keep_their_modes(console_script: str, home: Home) -> None:
    home.config_dir.mkdir(mode=0o755)
    os.chmod(home.config_dir, 0o755)  # the user's own choice: not ours to change
    home.config.write_text("[profiles.default]\n")
    os.chmod(home.config, 0o640)
    assert home.run(console_script, "config", "set", "region", "AT")[0] == 0
    assert mode(home.config_dir) == 0o755 and mode(home.config) == 0o640


# -- item 13: symbolic links ---------------------------------------------------------------------

CONFIG = '# mine\n[profiles.default]\nregion = "DE"  # home\n'


@needs_posix
@pytest.mark.parametrize("how", ["relative", "absolute", "chain"])
def test_a_linked_config_is_written_through_the_link(
    console_script: str, home: Home, tmp_path: Path, how: str
) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "sipgate.toml"
    real.write_text(CONFIG)
    home.config_dir.mkdir()
    if how == "chain":
        middle = tmp_path / "middle.toml"
        middle.symlink_to(real)
        home.config.symlink_to(middle)
    else:
        home.config.symlink_to(
            os.path.relpath(real, home.config_dir) if how == "relative" else real
        )
    link = os.readlink(home.config)
    code, output = home.run(console_script, "config", "set", "default-device", "e1")
    assert code == 0, output
    assert home.config.is_symlink() and os.readlink(home.config) == link
    text = real.read_text()
    assert "# mine" in text and "# home" in text and 'default_device = "e1"' in text
    assert sorted(p.name for p in dotfiles.iterdir()) == ["sipgate.toml"]  # no temporary left
    assert SettingsStore(home.env, "default").load().default_device == "e1"


@needs_posix
@pytest.mark.parametrize(
    "args",
    [
        ("config",),
        ("config", "set", "region", "AT"),
        ("favourites", "add", "mom", "0157 99912345"),
        ("call", "0157 99912345", "-d", "e0", "--yes"),
    ],
    ids=" ".join,
)
def test_a_dangling_config_link_is_named_and_left_alone(
    console_script: str, home: Home, sim: SipgateSimulator, tmp_path: Path, args: tuple[str, ...]
) -> None:
    home.config_dir.mkdir()
    home.config.symlink_to(tmp_path / "unmounted" / "sipgate.toml")
    code, output = home.run(console_script, *args)
    assert code == ExitCode.ENVIRONMENT
    assert "symbolic link" in flat(output) and "does not exist" in flat(output)
    assert home.config.is_symlink() and not (tmp_path / "unmounted").exists()
    assert sim.call_requests() == []


@needs_posix
def test_a_dangling_state_link_does_not_stop_a_call(
    console_script: str, home: Home, sim: SipgateSimulator, tmp_path: Path
) -> None:
    home.state_dir.mkdir()
    home.state.symlink_to(tmp_path / "gone.json")
    code, output = home.run(console_script, "call", "0157 99912345", "-d", "e0", "--yes")
    assert code == 0 and "does not exist" in flat(output)
    assert home.state.is_symlink() and not (tmp_path / "gone.json").exists()
    assert len(sim.call_requests()) == 1


# -- item 13: FIFOs and devices ------------------------------------------------------------------


def fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


@contextmanager
def nothing_read_from(path: Path) -> Iterator[None]:
    yield
    assert stat.S_ISFIFO(os.lstat(path).st_mode)  # still the FIFO: never replaced


@needs_posix
@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (("config",), 7),
        (("config", "set", "region", "AT"), 7),
        (("favourites",), 7),
        (("favourites", "add", "mom", "0157 99912345"), 7),
        (("call", "0157 99912345", "-d", "e0", "--yes"), 7),
        (("status",), 0),  # status needs only the account-type setting, and falls back to auto
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else str(value),
)
def test_a_fifo_config_is_refused_not_read(
    console_script: str, home: Home, sim: SipgateSimulator, args: tuple[str, ...], exit_code: int
) -> None:
    fifo(home.config)
    with nothing_read_from(home.config):
        code, output = home.run(console_script, *args)  # a read would block: timeout fails it
    assert code == exit_code, output
    if exit_code:
        assert "named pipe (FIFO)" in flat(output)
    assert sim.call_requests() == []


@needs_posix
def test_a_fifo_state_file_is_refused_and_the_call_still_goes(
    console_script: str, home: Home, sim: SipgateSimulator
) -> None:
    fifo(home.state)
    with nothing_read_from(home.state):
        code, output = home.run(console_script, "call", "0157 99912345", "-d", "e0", "--yes")
        cleared, said = home.run(console_script, "config", "clear-recent")
    assert code == 0 and "named pipe (FIFO)" in flat(output)
    assert len(sim.call_requests()) == 1
    assert cleared == ExitCode.ENVIRONMENT and "named pipe (FIFO)" in flat(said)


@needs_posix
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
@pytest.mark.parametrize("which", ["config", "state"])
def test_a_device_in_a_files_place_is_refused(
    console_script: str, home: Home, sim: SipgateSimulator, device: str, which: str
) -> None:
    path = home.config if which == "config" else home.state
    path.parent.mkdir(parents=True)
    path.symlink_to(device)
    code, output = home.run(console_script, "call", "0157 99912345", "-d", "e0", "--yes")
    assert "character device" in flat(output) and f"the link to {device}" in flat(output)
    if which == "config":  # a refused config ends the run, with the fix
        # A long temporary path is cut across the panel's lines: compared without spaces.
        fix = "".join(f"Remove the link {path}".split())
        assert code == ExitCode.ENVIRONMENT and fix in "".join(output.split()).replace("│", "")
    else:  # a state file only costs the recent numbers: the call goes, with a note
        assert code == 0 and len(sim.call_requests()) == 1
    assert os.readlink(path) == device


def test_a_directory_in_the_state_files_place_is_refused(
    console_script: str, home: Home, sim: SipgateSimulator
) -> None:
    home.state.mkdir(parents=True)
    code, output = home.run(console_script, "call", "0157 99912345", "-d", "e0", "--yes")
    assert code == 0 and "is a directory" in flat(output)
    assert home.state.is_dir()


def test_a_huge_config_is_refused(console_script: str, home: Home) -> None:
    home.config_dir.mkdir()
    home.config.write_text("# " + "x" * (2 << 20) + "\n")
    code, output = home.run(console_script, "config")
    assert code == ExitCode.ENVIRONMENT and "larger than 1 MiB" in flat(output)


# -- item 15: a byte order mark --------------------------------------------------------------------


def test_a_bom_in_config_is_accepted_and_kept(console_script: str, home: Home) -> None:
    home.config_dir.mkdir()
    home.config.write_bytes(("\ufeff" + CONFIG + "history = false\n").encode())
    code, output = home.run(console_script, "config", "--json")
    assert code == 0 and json.loads(output)["settings"]["history"] is False
    assert home.run(console_script, "config", "set", "default-device", "e2")[0] == 0
    data = home.config.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf# mine") and data.count(b"\xef\xbb\xbf") == 1
    assert b'default_device = "e2"' in data


def test_a_bom_in_state_is_accepted(console_script: str, home: Home) -> None:
    home.state_dir.mkdir()
    entry = {"recent": [{"number": "+492115550002", "at": "2026-01-01T00:00:00+00:00"}]}
    home.state.write_bytes(("\ufeff" + json.dumps({"profiles": {"default": entry}})).encode())
    code, output = home.run(console_script, "call", "0157 99912345", "-d", "e0", "--yes")
    assert code == 0 and "damaged" not in output
    numbers = [r.number for r in SettingsStore(home.env, "default").load_state().recent]
    assert numbers == ["+4915799912345", "+492115550002"]


# -- item 14: region pins --------------------------------------------------------------------------

NATIONAL = (
    "# my phones\n[profiles.default]\n"
    'default_caller_id = "0211 5550001"  # the office\n'
    "[profiles.default.favourites]\n"
    'mom = "0157 99912345"  # mum\n'
    'dad = "+43 1 5551234"\n'
    'aunt = "0049 30 1234567"\n'
)


def test_a_region_change_pins_national_numbers_in_the_same_write(
    console_script: str, home: Home
) -> None:
    home.config_dir.mkdir()
    home.config.write_text(NATIONAL)
    code, output = home.run(console_script, "config", "set", "region", "AT")
    assert code == 0, output
    said = flat(output)
    assert "region DE" in said and "mom" in said and "default-caller-id" in said
    assert "+49 211 5550001" in said and "aunt" in said and "dad" not in said
    text = home.config.read_text()
    assert 'mom = "+4915799912345"  # mum' in text
    assert 'default_caller_id = "+492115550001"  # the office' in text
    assert 'dad = "+43 1 5551234"' in text  # written with +: left as written
    assert "# my phones" in text and 'region = "AT"' in text
    settings = SettingsStore(home.env, "default").load()
    assert settings.favourites["mom"] == "+4915799912345" and settings.region == "AT"
    assert settings.favourites["aunt"] == "+49301234567"


def test_region_pins_in_json_and_unset_pins_with_the_old_region(
    console_script: str, home: Home
) -> None:
    home.config_dir.mkdir()
    home.config.write_text(
        '[profiles.default]\nregion = "AT"\n[profiles.default.favourites]\noma = "01 5551234"\n'
    )
    code, output = home.run(console_script, "config", "unset", "region", "--json")
    assert code == 0
    document = json.loads(output)
    assert document["pinned"] == [
        {"key": "favourites.oma", "was": "01 5551234", "now": "+4315551234", "region": "AT"}
    ]
    assert document["favourites"] == {"oma": "+4315551234"}  # still Vienna, now read in DE


def test_the_same_region_again_pins_nothing(console_script: str, home: Home) -> None:
    home.config_dir.mkdir()
    home.config.write_text(
        '[profiles.default]\nregion = "DE"\n[profiles.default.favourites]\nmom = "0157 99912345"\n'
    )
    code, output = home.run(console_script, "config", "set", "region", "de", "--json")
    assert code == 0 and json.loads(output)["pinned"] == []
    assert 'mom = "0157 99912345"' in home.config.read_text()


REGIONS = st.sampled_from(["DE", "AT", "CH", "US", "GB", "FR", "IT", "NL"])


@settings(max_examples=80, deadline=None)
@given(
    number=st.from_regex(r"0[1-9][0-9]{5,10}|[1-9][0-9]{6,9}|00[1-9][0-9]{7,11}", fullmatch=True),
    old=REGIONS,
    new=st.one_of(REGIONS, st.none()),
)
def test_a_region_change_never_changes_whom_a_favourite_calls(
    number: str, old: str, new: str | None
) -> None:
    """Whatever national number, whatever regions: after `config set/unset region` each
    favourite (and the caller id) still means the number it meant before."""
    import tempfile

    from sipgate_tui.errors import AppError

    with tempfile.TemporaryDirectory() as directory:
        store = SettingsStore({"SIPGATE_TUI_CONFIG_DIR": directory}, "default")
        store.config_path.write_text(
            f'[profiles.default]\nregion = "{old}"\ndefault_caller_id = "{number}"\n'
            f'[profiles.default.favourites]\nx = "{number}"\n'
        )
        try:
            before = store.load()
        except AppError:
            assume(False)  # not a usable number in the old region: nothing to keep
        pinned = store.set_value("region", new)
        after = store.load()
        assert after.favourites == before.favourites
        assert after.default_caller_id == before.default_caller_id
        assert len(pinned) == (0 if (new or "DE") == old else 2)


def test_other_settings_pin_nothing(console_script: str, home: Home) -> None:
    home.config_dir.mkdir()
    home.config.write_text('[profiles.default.favourites]\nmom = "0157 99912345"\n')
    code, output = home.run(console_script, "config", "set", "history", "off")
    assert code == 0 and "pinned" not in output
    assert 'mom = "0157 99912345"' in home.config.read_text()


# -- item 24: favourites remove names the favourite as stored ------------------------------------


def test_remove_names_the_favourite_as_stored(console_script: str, home: Home) -> None:
    assert home.run(console_script, "favourites", "add", "Mom", "0157 99912345")[0] == 0
    code, output = home.run(console_script, "favourites", "remove", "MOM")
    assert code == 0 and "Removed Mom" in flat(output) and "MOM" not in output
