"""Where credentials come from: environment first, then one keyring item; failures are clear."""

from __future__ import annotations

import json
import subprocess
import time
from typing import ClassVar

import keyring
import pytest
from helpers import TOKEN, TOKEN_ID, BlockingKeyring, LockedKeyring, MemoryKeyring, flat
from keyring.backends import chainer, fail, null
from keyring.compat import properties

from sipgate_tui.credentials import (
    KEYRING_SERVICE,
    Credentials,
    KeyringStore,
    encode_item,
    is_refused_backend,
    mask_secret,
    resolve,
)
from sipgate_tui.errors import AppError, ExitCode

ENV = {"SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": TOKEN}


def store(timeout: float = 2.0) -> KeyringStore:
    return KeyringStore(timeout=timeout)


def test_the_environment_wins_and_the_keyring_is_not_asked(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password(
        KEYRING_SERVICE, "default", encode_item(Credentials("token-OTHER1", "x" * 36))
    )
    asked = []
    found = resolve(ENV, lambda: asked.append(1) or store())
    assert (found.source, found.credentials.token_id) == ("env", TOKEN_ID)
    assert asked == []


def test_the_keyring_item_is_read_when_the_environment_is_empty(
    memory_keyring: MemoryKeyring,
) -> None:
    memory_keyring.set_password(
        KEYRING_SERVICE, "default", json.dumps({"token_id": TOKEN_ID, "token": TOKEN, "extra": 1})
    )
    found = resolve({}, store)
    assert found.source == "keyring"
    assert found.credentials == Credentials(TOKEN_ID, TOKEN)
    assert found.backend is not None and "MemoryKeyring" in found.backend


@pytest.mark.parametrize(
    ("present", "missing"),
    [("SIPGATE_TOKEN_ID", "SIPGATE_TOKEN"), ("SIPGATE_TOKEN", "SIPGATE_TOKEN_ID")],
)
def test_only_one_env_var_set_names_the_missing_one(present: str, missing: str) -> None:
    with pytest.raises(AppError) as caught:
        resolve({present: "value-of-it", missing: "  "}, store)
    assert caught.value.code == "incomplete-credentials"
    assert caught.value.exit_code == ExitCode.CREDENTIALS
    assert f"{present} is set, but {missing} is not" in caught.value.message


def test_nothing_anywhere_explains_both_ways_to_set_up() -> None:
    with pytest.raises(AppError) as caught:
        resolve({}, store)
    assert caught.value.exit_code == ExitCode.CREDENTIALS
    assert "nothing is stored in the keyring" in caught.value.message
    assert "sipgate-tui login" in caught.value.hint and "SIPGATE_TOKEN" in caught.value.hint


def test_no_usable_keyring_backend_counts_as_no_credentials() -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(AppError) as caught:
        resolve({}, store)
    assert caught.value.code == "credentials-missing"
    assert "no usable keyring" in caught.value.message


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        "[]",
        '{"token_id": "x"}',
        '{"token_id": 1, "token": 2}',
        '{"token_id": "", "token": "y"}',
    ],
)
def test_a_corrupted_item_says_so(memory_keyring: MemoryKeyring, value: str) -> None:
    memory_keyring.set_password(KEYRING_SERVICE, "default", value)
    with pytest.raises(AppError) as caught:
        resolve({}, store)
    assert caught.value.code == "credentials-corrupted"
    assert "sipgate-tui login" in caught.value.hint


def test_a_locked_keyring_is_an_environment_problem() -> None:
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(AppError) as caught:
        resolve({}, store)
    assert (caught.value.code, caught.value.exit_code) == ("keyring-locked", ExitCode.ENVIRONMENT)
    assert "SIPGATE_TOKEN_ID" in caught.value.hint


def test_a_blocking_keyring_times_out_instead_of_hanging() -> None:
    backend = BlockingKeyring()
    keyring.set_keyring(backend)
    started = time.monotonic()
    try:
        with pytest.raises(AppError) as caught:
            resolve({}, lambda: store(timeout=0.2))
    finally:
        backend.release.set()
    assert time.monotonic() - started < 2
    assert (caught.value.code, caught.value.exit_code) == ("keyring-timeout", ExitCode.ENVIRONMENT)
    assert "0.2 s" in caught.value.message


def test_the_token_is_masked_in_repr_and_never_shown_whole() -> None:
    credentials = Credentials(TOKEN_ID, TOKEN)
    assert TOKEN not in repr(credentials)
    assert credentials.masked_token() == "••••9f84"
    assert mask_secret("short") == "••••"


# -- backends that are no keyring (issue 13, item 4) -------------------------------------------
# The real keyrings.alt is tried in a venv of its own (test_plaintext_keyrings.py); here, classes
# that come from its modules by name stand in, to pin the rule itself: decided by the module of
# the class or of one it derives from.


def plain_text_backend(module: str = "keyrings.alt.file") -> MemoryKeyring:
    backend_class = type("PlaintextKeyring", (MemoryKeyring,), {"__module__": module})
    return backend_class()


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(null.Keyring(), id="null"),
        pytest.param(fail.Keyring(), id="fail"),
        pytest.param(plain_text_backend(), id="keyrings.alt.file"),
        pytest.param(plain_text_backend("keyrings.alt.Windows"), id="keyrings.alt.Windows"),
        pytest.param(
            type("Mine", (type(plain_text_backend()),), {"__module__": "mine"})(),
            id="derived from keyrings.alt",
        ),
    ],
)
def test_file_null_and_fail_backends_are_no_keyring(backend: object) -> None:
    keyring.set_keyring(backend)  # type: ignore[arg-type]
    assert is_refused_backend(backend)
    assert store().backend_name() is None
    with pytest.raises(AppError) as caught:
        store().require_backend()
    assert (caught.value.code, caught.value.exit_code) == (
        "keyring-unavailable",
        ExitCode.ENVIRONMENT,
    )
    assert "never falls back to a plain-text file" in caught.value.message


def test_a_plain_text_backend_is_named_and_its_item_never_read() -> None:
    backend = plain_text_backend()
    backend.set_password(KEYRING_SERVICE, "default", encode_item(Credentials(TOKEN_ID, TOKEN)))
    keyring.set_keyring(backend)
    with pytest.raises(AppError) as caught:
        resolve({}, store)
    assert caught.value.code == "credentials-missing"
    assert "PlaintextKeyring (keyrings.alt.file)" in caught.value.message
    with pytest.raises(AppError) as refused:
        store().write("default", Credentials(TOKEN_ID, "0" * 36))
    assert "keeps secrets in a file" in refused.value.message
    assert "pip uninstall keyrings.alt" in (refused.value.hint or "")
    assert json.loads(backend.items[(KEYRING_SERVICE, "default")])["token"] == TOKEN  # untouched


def test_the_test_suites_own_backends_stay_usable(memory_keyring: MemoryKeyring) -> None:
    from file_keyring import FaultyKeyring, FileKeyring

    for backend in (memory_keyring, FileKeyring(), FaultyKeyring(), LockedKeyring()):
        assert not is_refused_backend(backend)
    assert store().backend_name() is not None


class Chain(chainer.ChainerBackend):
    """keyring's chain of backends, with fixed members (keyring finds them by entry point)."""

    members: ClassVar[list[object]] = []

    @properties.classproperty
    def backends(cls) -> list[object]:  # type: ignore[override]
        return cls.members


def test_a_chain_of_only_refused_backends_is_no_keyring() -> None:
    Chain.members = [plain_text_backend(), null.Keyring()]
    keyring.set_keyring(Chain())
    assert store().backend_name() is None
    with pytest.raises(AppError) as caught:
        store().require_backend()
    assert "PlaintextKeyring (keyrings.alt.file)" in caught.value.message


def test_a_chain_uses_its_real_member_alone() -> None:
    """With a real keyring and keyrings.alt installed, the chain would also read the file;
    only the real member is used, for reading and writing."""
    plain, real = plain_text_backend(), MemoryKeyring()
    plain.set_password(KEYRING_SERVICE, "default", encode_item(Credentials(TOKEN_ID, TOKEN)))
    Chain.members = [real, plain]
    keyring.set_keyring(Chain())
    assert store().read("default") is None  # the file's item is not the keyring's
    store().write("default", Credentials("token-NEW001", "1" * 36))
    assert json.loads(real.items[(KEYRING_SERVICE, "default")])["token_id"] == "token-NEW001"
    assert json.loads(plain.items[(KEYRING_SERVICE, "default")])["token"] == TOKEN
    assert store().backend_name() == MemoryKeyring.name
    Chain.members = []


def test_a_refused_backend_named_but_not_loadable_is_refused_alike(
    console_script: str, clean_env: dict[str, str]
) -> None:
    """keyrings.alt's EncryptedKeyring without its crypto library, or keyrings.alt not even
    installed (as here): keyring cannot load what PYTHON_KEYRING_BACKEND names; that is still
    no keyring, not a broken one."""
    env = {**clean_env, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.EncryptedKeyring"}
    result = subprocess.run(
        [console_script, "logout"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == ExitCode.ENVIRONMENT, result.stderr
    shown = flat(result.stdout + result.stderr)
    assert "No usable keyring" in shown and "Traceback" not in shown
    assert "keyrings.alt.file.EncryptedKeyring (PYTHON_KEYRING_BACKEND)" in shown
