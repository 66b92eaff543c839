"""The contacts cache: per profile, for one token id, user-only, atomic, stale after a day, and
never fatal when damaged (real files in temporary directories)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

from sipgate_tui import contacts_cache
from sipgate_tui.contacts import FOLD_VERSION, Contact, ContactNumber, parse_contact
from sipgate_tui.contacts_cache import CacheNotWritten, cache_dir, cache_path, load, remove, save
from sipgate_tui.simulator import default_contacts

TOKEN_ID = "token-CACHE1"
NOW = 1_800_000_000.0


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SIPGATE_TUI_CACHE_DIR": str(tmp_path / "cache")}


def demo() -> list[Contact]:
    found = [parse_contact(item, "DE") for item in default_contacts()]
    return [contact for contact in found if contact is not None]


def by_id(contacts: list[Contact]) -> dict[str, Contact]:
    return {contact.id: contact for contact in contacts}


def test_what_is_saved_is_loaded_for_the_same_token_id(env: dict[str, str]) -> None:
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    cached = load(env, "default", TOKEN_ID, "DE")
    assert cached is not None
    assert by_id(cached.contacts) == by_id(demo())  # kept in name order: the index's
    assert [c.name for c in cached.contacts][:2] == ["ACME GmbH, Sales", "Ada Lovelace"]
    keys = {c.id: (c.search_key, c.digits_key) for c in demo()}
    assert {c.id: (c.search_key, c.digits_key) for c in cached.contacts} == keys
    assert (cached.token_id, cached.fetched_at, cached.region) == (TOKEN_ID, NOW, "DE")


def test_another_token_id_or_profile_sees_no_cache(env: dict[str, str]) -> None:
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    assert load(env, "default", "token-OTHER1", "DE") is None
    assert load(env, "work", TOKEN_ID, "DE") is None
    save(env, "work", "token-WORK01", "DE", demo()[:1], now=NOW)
    work = load(env, "work", "token-WORK01", "DE")
    assert work is not None and len(work.contacts) == 1
    defaults = load(env, "default", TOKEN_ID, "DE")
    assert defaults is not None and len(defaults.contacts) == len(demo())


def test_the_file_names_the_token_id_and_holds_nothing_derived_from_the_token(
    env: dict[str, str],
) -> None:
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    path = cache_path(env, "default")
    assert path is not None and path.name == "contacts-default.json"
    document = json.loads(path.read_text())
    assert document["tokenId"] == TOKEN_ID
    assert set(document) == {"version", "foldVersion", "tokenId", "fetchedAt", "region", "contacts"}


def test_file_and_directory_are_user_only(tmp_path: Path) -> None:
    old = os.umask(0o000)  # the most permissive umask: the modes must not depend on it
    try:
        env = {"SIPGATE_TUI_CACHE_DIR": str(tmp_path / "a" / "cache")}
        save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    finally:
        os.umask(old)
    path = cache_path(env, "default")
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700


def test_a_rewrite_is_atomic_and_keeps_the_mode(env: dict[str, str]) -> None:
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    path = cache_path(env, "default")
    assert path is not None
    path.chmod(0o644)  # someone opened it up: a rewrite closes it again
    save(env, "default", TOKEN_ID, "DE", demo()[:2], now=NOW + 5)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["contacts-default.json"]  # no leftovers
    cached = load(env, "default", TOKEN_ID, "DE")
    assert cached is not None and len(cached.contacts) == 2


def test_the_platform_cache_directory_is_used_without_the_override(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    try:
        assert cache_dir(env) == tmp_path / "xdg" / "sipgate-tui"
        (tmp_path / "xdg" / "sipgate-tui").mkdir(parents=True, mode=0o755)
        save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
        assert stat.S_IMODE((tmp_path / "xdg" / "sipgate-tui").stat().st_mode) == 0o700
    finally:
        if old is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = old


def test_stale_after_a_day_or_from_the_future(env: dict[str, str]) -> None:
    cached = save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    assert not cached.is_stale(NOW + 23 * 3600)
    assert cached.is_stale(NOW + 24 * 3600 + 1)
    assert cached.is_stale(NOW - 3600)  # fetched "in an hour": a clock was wrong
    assert not cached.is_stale(NOW - 60)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"\xff\xfe garbage",
        b"[]",
        b'{"version": 1}',
        b'{"version": 99, "tokenId": "token-CACHE1"}',
        b'{"version": 1, "tokenId": "token-CACHE1", "fetchedAt": "yesterday", "region": "DE", '
        b'"contacts": []}',
        b'{"version": 1, "tokenId": "token-CACHE1", "fetchedAt": 1, "region": "DE", '
        b'"contacts": [["id", "name"]]}',
        b'{"version": 1, "tokenId": "token-CACHE1", "fetchedAt": 1, "region": "DE", '
        b'"contacts": [["i", "n", "o", "p", [["0211", "work", "+49../x"]], "k", ""]]}',
        b"[" * 100000,
    ],
)
def test_a_damaged_cache_is_ignored(env: dict[str, str], content: bytes) -> None:
    path = cache_path(env, "default")
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert load(env, "default", TOKEN_ID, "DE") is None
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)  # and rebuilt over it
    assert load(env, "default", TOKEN_ID, "DE") is not None


def test_a_fifo_or_directory_in_its_place_is_no_cache(env: dict[str, str]) -> None:
    path = cache_path(env, "default")
    assert path is not None
    path.parent.mkdir(parents=True)
    os.mkfifo(path)  # opening it would wait for a writer for ever
    assert load(env, "default", TOKEN_ID, "DE") is None
    path.unlink()
    path.mkdir()
    assert load(env, "default", TOKEN_ID, "DE") is None
    with pytest.raises(CacheNotWritten):
        save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    assert remove(env, "default") is False


def test_an_unwritable_directory_is_cache_not_written(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory should be")
    env = {"SIPGATE_TUI_CACHE_DIR": str(blocker / "cache")}
    with pytest.raises(CacheNotWritten) as caught:
        save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    assert isinstance(caught.value, OSError) and caught.value.reason


def test_search_keys_of_another_fold_version_are_made_again(env: dict[str, str]) -> None:
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    path = cache_path(env, "default")
    assert path is not None
    document = json.loads(path.read_text())
    document["foldVersion"] = FOLD_VERSION - 1
    for entry in document["contacts"]:
        entry[5] = entry[6] = "stale key"
    path.write_text(json.dumps(document))
    cached = load(env, "default", TOKEN_ID, "DE")
    assert cached is not None
    keys = {c.id: (c.search_key, c.digits_key) for c in demo()}
    assert {c.id: (c.search_key, c.digits_key) for c in cached.contacts} == keys


def test_national_numbers_are_read_again_in_another_region(env: dict[str, str]) -> None:
    contact = Contact(
        "x",
        "Wien",
        "",
        "shared",
        (
            ContactNumber("01 5880000", "work", "+4915880000"),  # what DE made of it
            ContactNumber("+49 211 5550003", "home", "+492115550003"),
        ),
    )
    save(env, "default", TOKEN_ID, "DE", [contact], now=NOW)
    cached = load(env, "default", TOKEN_ID, "AT")
    assert cached is not None and cached.region == "AT"
    assert [n.e164 for n in cached.contacts[0].numbers] == ["+4315880000", "+492115550003"]
    assert " 4315880000" in cached.contacts[0].digits_key  # digits find the new reading


def test_logout_removal(env: dict[str, str]) -> None:
    assert remove(env, "default") is False
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    path = cache_path(env, "default")
    assert path is not None
    unfinished = path.with_name(f".{path.name}.abc123")  # a write cut short by os._exit
    unfinished.write_text("[half")
    assert remove(env, "default") is True
    assert load(env, "default", TOKEN_ID, "DE") is None
    assert list(path.parent.iterdir()) == []


def test_unfinished_writes_are_cleared_once_they_are_old(env: dict[str, str]) -> None:
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    path = cache_path(env, "default")
    assert path is not None
    old, fresh = path.with_name(f".{path.name}.old111"), path.with_name(f".{path.name}.new222")
    old.write_text("[half")
    fresh.write_text("[half")  # another sipgate-tui may be writing it right now
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    save(env, "default", TOKEN_ID, "DE", demo(), now=NOW)
    assert not old.exists() and fresh.exists()


def test_a_name_that_cannot_be_a_profile_never_becomes_a_path(env: dict[str, str]) -> None:
    assert cache_path(env, "../evil") is None
    assert load(env, "../evil", TOKEN_ID, "DE") is None
    with pytest.raises(CacheNotWritten):
        save(env, "../evil", TOKEN_ID, "DE", demo(), now=NOW)


def test_names_with_lone_surrogates_or_controls_are_written_and_read_back(
    env: dict[str, str],
) -> None:
    odd = Contact("s", "Bad \ud800 name \x00", "", "shared", ())
    save(env, "default", TOKEN_ID, "DE", [odd], now=NOW)
    cached = load(env, "default", TOKEN_ID, "DE")
    assert cached is not None and cached.contacts[0].name == odd.name


def test_ten_thousand_contacts_load_quickly_enough_to_measure(env: dict[str, str]) -> None:
    from sipgate_tui.simulator import generated_contacts

    many = [parse_contact(item, "DE") for item in generated_contacts(10_000)]
    save(env, "default", TOKEN_ID, "DE", [c for c in many if c], now=NOW)
    path = cache_path(env, "default")
    assert path is not None and path.stat().st_size < contacts_cache.MAX_CACHE_BYTES
    cached = load(env, "default", TOKEN_ID, "DE")
    assert cached is not None and len(cached.contacts) == 10_000
