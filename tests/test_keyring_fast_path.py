"""The keyring's fast path (issue 16): the backend that served the token is remembered in the
state file and loaded directly next time, without keyring's discovery, while it is usable.

keyring's own discovery runs here for real (in this process: every KeyringBackend class that
is imported takes part, as keyring does it), with keyring's choice reset for each test. The
backends are in-memory ones built on tests/helpers.py's MemoryKeyring; their items are shared
by class, because the fast path makes its own instance.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import keyring
import keyring.backend
import keyring.core
import pytest
from helpers import TOKEN, TOKEN_ID, MemoryKeyring
from keyring.backends import null
from keyring.compat import properties
from keyring.errors import KeyringError, KeyringLocked

from sipgate_tui.credentials import (
    KEYRING_SERVICE,
    Credentials,
    CredentialsMissing,
    FoundCredentials,
    KeyringStore,
    encode_item,
    resolve,
)
from sipgate_tui.credentials import KeyringLocked as LockedProblem

OTHER = Credentials("token-OTHER1", "0b8e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
OTHER_DEFAULT = Credentials(TOKEN_ID, TOKEN)
HERE = __name__  # the module keyring imports these backends from: the tests directory


class SharedKeyring(MemoryKeyring):
    """An in-memory backend whose instances share their items; viable only in these tests
    (``usable``), so keyring's discovery elsewhere never picks it."""

    shared: ClassVar[dict[tuple[str, str], str]] = {}
    usable: ClassVar[bool] = False
    rank: ClassVar[float] = 50  # above the chain (10) and every other backend: discovery's pick

    def __init__(self) -> None:
        super().__init__()
        self.items = type(self).shared

    @properties.classproperty
    def priority(cls) -> float:
        if not cls.usable:
            raise RuntimeError("only in tests/test_keyring_fast_path.py")
        return cls.rank


class OtherKeyring(SharedKeyring):
    """A second real-looking backend, below discovery's pick."""

    shared: ClassVar[dict[tuple[str, str], str]] = {}
    rank: ClassVar[float] = 3


class UnviableKeyring(SharedKeyring):
    """A backend whose own check says it cannot work here (as SecretService without D-Bus)."""

    shared: ClassVar[dict[tuple[str, str], str]] = {}

    @properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("The Secret Service daemon is neither running nor activatable")


class ZeroKeyring(SharedKeyring):
    """Viable, but with priority 0: keyring would not recommend it."""

    shared: ClassVar[dict[tuple[str, str], str]] = {}
    rank: ClassVar[float] = 0


class BrokenKeyring(SharedKeyring):
    """Loads, but every read fails."""

    shared: ClassVar[dict[tuple[str, str], str]] = {}
    rank: ClassVar[float] = 2

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringError("the backend broke")


class LockedSharedKeyring(SharedKeyring):
    """Loads, and says it is locked."""

    shared: ClassVar[dict[tuple[str, str], str]] = {}
    rank: ClassVar[float] = 2

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")


class NullDerived(null.Keyring):
    """Derives from keyring's null backend (refused by what it derives from), yet answers."""

    priority = 5  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return encode_item(OTHER)


ALL = (SharedKeyring, OtherKeyring, UnviableKeyring, ZeroKeyring, BrokenKeyring)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """keyring left to choose by itself: no PYTHON_KEYRING_BACKEND, no keyringrc.cfg, no
    backend chosen yet in this process; state and config in tmp_path."""
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    forget_discovery()
    for backend in (*ALL, LockedSharedKeyring):
        backend.shared.clear()
    SharedKeyring.usable = True
    try:
        yield {
            "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
            "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
        }
    finally:
        SharedKeyring.usable = False
        forget_discovery()


def forget_discovery() -> None:
    """keyring runs its discovery once per process (jaraco's ``once`` keeps the result)."""
    vars(keyring.backend.get_all_keyring).pop("saved_result", None)


def state_of(env: dict[str, str]) -> dict[str, object]:
    path = Path(env["SIPGATE_TUI_STATE_DIR"]) / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def remember(env: dict[str, str], name: str) -> None:
    path = Path(env["SIPGATE_TUI_STATE_DIR"]) / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"keyring_backend": name}))


def store_item(backend: type[SharedKeyring], credentials: Credentials) -> None:
    backend.shared[(KEYRING_SERVICE, "default")] = encode_item(credentials)


def dial_lookup(env: dict[str, str], *, discover: bool = False) -> FoundCredentials:
    return resolve(env, lambda: KeyringStore(timeout=2.0, env=env), discover=discover)


def discovery_ran() -> bool:
    """keyring's discovery, once run, leaves its choice in keyring.core."""
    return keyring.core._keyring_backend is not None


def test_full_discovery_remembers_the_backend_that_served_and_nothing_secret(
    env: dict[str, str],
) -> None:
    store_item(SharedKeyring, Credentials(TOKEN_ID, TOKEN))
    found = dial_lookup(env)
    assert (found.source, found.credentials.token_id) == ("keyring", TOKEN_ID)
    assert discovery_ran()
    assert state_of(env)["keyring_backend"] == f"{HERE}.SharedKeyring"
    text = (Path(env["SIPGATE_TUI_STATE_DIR"]) / "state.json").read_text()
    assert TOKEN not in text and TOKEN_ID not in text


def test_the_remembered_backend_is_used_directly_without_discovery(env: dict[str, str]) -> None:
    remember(env, f"{HERE}.OtherKeyring")  # not discovery's pick: proves which one was read
    store_item(OtherKeyring, OTHER)
    store_item(SharedKeyring, Credentials(TOKEN_ID, TOKEN))
    found = dial_lookup(env)
    assert found.credentials == OTHER and found.source == "keyring"
    assert found.backend is not None and "OtherKeyring" in found.backend
    assert not discovery_ran()
    assert state_of(env) == {"keyring_backend": f"{HERE}.OtherKeyring"}  # not written again


@pytest.mark.parametrize(
    "remembered",
    [
        "no_such_module_anywhere.Keyring",  # uninstalled
        f"{HERE}.NoSuchClass",  # renamed
        f"{HERE}.UnviableKeyring",  # its own check fails here now
        f"{HERE}.ZeroKeyring",  # priority 0
        f"{HERE}.BrokenKeyring",  # reading fails
        f"{HERE}.OtherKeyring",  # viable, but the item is not there (any more)
        f"{HERE}.ALL",  # not a backend class at all
        "keyring.backends.chainer.ChainerBackend",  # a chain is discovery itself
        "not a name",
    ],
)
def test_a_stale_remembered_backend_falls_back_to_discovery_and_is_corrected(
    env: dict[str, str], remembered: str
) -> None:
    remember(env, remembered)
    store_item(SharedKeyring, Credentials(TOKEN_ID, TOKEN))
    found = dial_lookup(env)
    assert found.credentials.token_id == TOKEN_ID
    assert discovery_ran()
    assert state_of(env)["keyring_backend"] == f"{HERE}.SharedKeyring"


def test_a_locked_remembered_backend_is_the_answer_not_a_second_wait(env: dict[str, str]) -> None:
    remember(env, f"{HERE}.LockedSharedKeyring")
    LockedSharedKeyring.usable = True
    with pytest.raises(LockedProblem):
        dial_lookup(env)
    assert not discovery_ran()


@pytest.mark.parametrize(
    "remembered",
    [
        "keyring.backends.null.Keyring",
        "keyring.backends.fail.Keyring",
        "keyrings.alt.file.PlaintextKeyring",
        f"{HERE}.NullDerived",  # refused by the module of a class it derives from
    ],
)
def test_a_remembered_backend_that_is_refused_is_refused(
    env: dict[str, str], remembered: str
) -> None:
    remember(env, remembered)  # NullDerived would answer with OTHER; discovery's pick is empty
    with pytest.raises(CredentialsMissing):
        dial_lookup(env)
    assert discovery_ran()
    assert state_of(env) == {"keyring_backend": remembered}  # nothing served: nothing learnt


def test_status_runs_full_discovery_and_corrects_the_remembered_backend(
    env: dict[str, str],
) -> None:
    remember(env, f"{HERE}.OtherKeyring")
    store_item(OtherKeyring, OTHER)
    store_item(SharedKeyring, Credentials(TOKEN_ID, TOKEN))
    found = dial_lookup(env, discover=True)
    assert found.credentials.token_id == TOKEN_ID  # what keyring itself chooses
    assert state_of(env)["keyring_backend"] == f"{HERE}.SharedKeyring"


def test_python_keyring_backend_is_honoured_over_the_remembered_one(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    remember(env, f"{HERE}.SharedKeyring")
    store_item(SharedKeyring, Credentials(TOKEN_ID, TOKEN))
    store_item(OtherKeyring, OTHER)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{HERE}.OtherKeyring")
    found = dial_lookup(env)
    assert found.credentials == OTHER
    assert state_of(env) == {"keyring_backend": f"{HERE}.SharedKeyring"}  # nothing learnt


def test_keyrings_config_file_is_honoured_over_the_remembered_one(
    env: dict[str, str], tmp_path: Path
) -> None:
    remember(env, f"{HERE}.SharedKeyring")
    store_item(SharedKeyring, Credentials(TOKEN_ID, TOKEN))
    store_item(OtherKeyring, OTHER)
    config = tmp_path / "xdg" / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True)
    config.write_text(f"[backend]\ndefault-keyring = {HERE}.OtherKeyring\n")
    found = dial_lookup(env)
    assert found.credentials == OTHER
    assert state_of(env) == {"keyring_backend": f"{HERE}.SharedKeyring"}


def test_a_backend_this_process_already_holds_wins(
    env: dict[str, str], memory_keyring: MemoryKeyring
) -> None:
    """keyring.set_keyring (what every other test does) is keyring's choice: no fast path."""
    remember(env, f"{HERE}.OtherKeyring")
    store_item(OtherKeyring, OTHER)
    keyring.set_keyring(memory_keyring)
    memory_keyring.set_password(KEYRING_SERVICE, "default", encode_item(OTHER_DEFAULT))
    assert dial_lookup(env).credentials.token_id == TOKEN_ID
    assert state_of(env) == {"keyring_backend": f"{HERE}.OtherKeyring"}


def test_a_damaged_state_file_only_costs_the_fast_path(env: dict[str, str]) -> None:
    path = Path(env["SIPGATE_TUI_STATE_DIR"]) / "state.json"
    path.parent.mkdir(parents=True)
    path.write_text("{damaged")
    store_item(SharedKeyring, Credentials(TOKEN_ID, TOKEN))
    assert dial_lookup(env).credentials.token_id == TOKEN_ID
    assert path.read_text() == "{damaged"  # never rewritten


@pytest.mark.parametrize("xdg_config_home", [None, "", "/somewhere/else"])
def test_keyrings_config_file_is_found_where_keyring_itself_looks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg_config_home: str | None
) -> None:
    """The fast path looks for keyringrc.cfg without importing keyring: in the same place."""
    from keyring.util import platform_

    from sipgate_tui.credentials import keyring_config_file

    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg_config_home is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg_config_home)
    assert keyring_config_file() == platform_.config_root() / "keyringrc.cfg"


def test_an_empty_python_keyring_backend_counts_as_set_as_keyring_counts_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring loads whatever the variable names, "" included, and fails: a dial says so
    too, as status and login do, rather than quietly reading the remembered backend."""
    from sipgate_tui.credentials import KeyringFailed

    remember(env, f"{HERE}.SharedKeyring")
    store_item(SharedKeyring, Credentials(TOKEN_ID, TOKEN))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "")
    with pytest.raises(KeyringFailed, match="could not be loaded"):
        dial_lookup(env)
