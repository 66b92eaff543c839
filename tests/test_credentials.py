"""Where credentials come from: environment first, then one keyring item; failures are clear."""

from __future__ import annotations

import json
import time

import keyring
import pytest
from helpers import TOKEN, TOKEN_ID, BlockingKeyring, LockedKeyring, MemoryKeyring
from keyring.backends import fail

from sipgate_tui.credentials import (
    KEYRING_SERVICE,
    Credentials,
    KeyringStore,
    encode_item,
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
