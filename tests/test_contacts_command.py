"""``sipgate-tui contacts [SEARCH]``: the table and the narrow list, the cache (fresh, stale,
another token, damaged, unwritable), --refresh, --json, the missing scope, and logout removing
the cache. Real simulator on 127.0.0.1, real files in temporary directories."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import typer
from helpers import CREDENTIALS_ENV, TOKEN, TOKEN_ID, MemoryKeyring, flat, make_context, output_of
from servers import closed_port_url

from sipgate_tui import contacts_cache
from sipgate_tui.cli import Invocation, app
from sipgate_tui.commands import contacts as contacts_command
from sipgate_tui.commands.contacts import ContactsOptions, run
from sipgate_tui.commands.logout import LogoutOptions
from sipgate_tui.commands.logout import run as logout
from sipgate_tui.contacts import parse_contact
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import Credentials, encode_item
from sipgate_tui.errors import AppError, ExitCode
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator, contact_item


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**CREDENTIALS_ENV, "SIPGATE_TUI_CACHE_DIR": str(tmp_path / "cache")}


def context(url: str, env: dict[str, str], tmp_path: Path, **kwargs: object) -> AppContext:
    return make_context(url, env=env, settings_dir=tmp_path, **kwargs)  # type: ignore[arg-type]


def contacts_fetches(simulator: SipgateSimulator) -> int:
    return sum(1 for r in simulator.requests if r.path == "/contacts")


def listed(
    simulator: SipgateSimulator,
    env: dict[str, str],
    tmp_path: Path,
    width: int = 100,
    **options: object,
) -> tuple[str, str]:
    ctx = context(simulator.url, env, tmp_path, width=width)
    assert run(ContactsOptions(**options), ctx) == ExitCode.OK  # type: ignore[arg-type]
    return output_of(ctx.out), output_of(ctx.err)


def test_the_table_shows_name_number_type_and_phonebook(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    shown, errors = listed(simulator, env, tmp_path)
    assert errors == ""
    lines = shown.splitlines()
    assert lines[0].split() == ["Name", "Number", "Type", "Phonebook"]
    ada = next(line for line in lines if line.startswith("Ada Lovelace"))
    assert "+49 1579 9912347" in ada and "mobile" in ada and "shared" in ada
    assert any("+49 211 5550003" in line and "work" in line for line in lines)
    assert any(line.startswith("Jürgen Müller") and "private" in line for line in lines)
    assert any(line.startswith("Reception") and "internal" in line for line in lines)
    assert any("0800-FLOWERS" in line for line in lines)
    assert "Numbers marked ✗ cannot be dialled" in flat(shown) and "0800-FLOWERS ✗" in shown
    assert "8 contacts, fetched just now." in flat(shown)
    assert all(len(line) <= 100 for line in lines)


def test_a_narrow_terminal_gets_a_list(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    shown, _ = listed(simulator, env, tmp_path, width=40)
    lines = shown.splitlines()
    assert "Phonebook" not in shown
    ada = next(i for i, line in enumerate(lines) if line.startswith("Ada Lovelace"))
    assert lines[ada + 1].split() == ["+49", "1579", "9912347", "mobile"]
    assert all(len(line) <= 40 for line in lines)


def test_search_finds_folded_names_best_first(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    shown, _ = listed(simulator, env, tmp_path, search="mueller")
    assert "Jürgen Müller" in shown and "Ada" not in shown
    assert "1 of 8 contacts" in flat(shown)
    shown, _ = listed(simulator, env, tmp_path, search="nobody")
    assert "No contact matches 'nobody' (of 8)." in flat(shown)


def test_the_cache_answers_until_it_is_a_day_old(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    listed(simulator, env, tmp_path)
    shown, _ = listed(simulator, env, tmp_path, search="grace")
    assert contacts_fetches(simulator) == 1
    assert "from the cache" in flat(shown) and "--refresh fetches them again" in flat(shown)
    cached = contacts_cache.load(env, "default", TOKEN_ID, "DE")
    assert cached is not None
    contacts_cache.save(env, "default", TOKEN_ID, "DE", cached.contacts, now=time.time() - 90000)
    simulator.contacts.append(contact_item("new", "Newcomer", [("+49 211 5550099", ["work"])]))
    shown, _ = listed(simulator, env, tmp_path, search="newcomer")
    assert contacts_fetches(simulator) == 2 and "Newcomer" in shown


def test_refresh_always_fetches(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    listed(simulator, env, tmp_path)
    simulator.contacts = simulator.contacts[:1]
    shown, _ = listed(simulator, env, tmp_path, refresh=True)
    assert contacts_fetches(simulator) == 2
    assert "1 contacts, fetched just now." in flat(shown)
    cached = contacts_cache.load(env, "default", TOKEN_ID, "DE")
    assert cached is not None and len(cached.contacts) == 1


def test_a_cache_of_another_token_is_not_shown(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    stranger = parse_contact(contact_item("s", "Someone Else's", [("+49 211 5550098", [])]), "DE")
    assert stranger is not None
    contacts_cache.save(env, "default", "token-OTHER1", "DE", [stranger])
    shown, _ = listed(simulator, env, tmp_path)
    assert "Someone Else" not in shown and contacts_fetches(simulator) == 1


def test_a_damaged_cache_is_rebuilt(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    path = contacts_cache.cache_path(env, "default")
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_text('{"version": 1, "tokenId": "token-SIM001", "contacts": [[')
    shown, errors = listed(simulator, env, tmp_path)
    assert "Ada Lovelace" in shown and errors == ""
    assert contacts_cache.load(env, "default", TOKEN_ID, "DE") is not None


def test_a_cache_that_cannot_be_written_is_a_note(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    env = {**CREDENTIALS_ENV, "SIPGATE_TUI_CACHE_DIR": str(blocker / "cache")}
    shown, _ = listed(simulator, env, tmp_path)
    assert "Ada Lovelace" in shown
    assert "could not be kept in" in flat(shown) and "SIPGATE_TUI_CACHE_DIR" in flat(shown)


def test_a_stale_cache_stands_in_when_sipgate_cannot_be_reached(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    listed(simulator, env, tmp_path)
    cached = contacts_cache.load(env, "default", TOKEN_ID, "DE")
    assert cached is not None
    contacts_cache.save(
        env, "default", TOKEN_ID, "DE", cached.contacts, now=time.time() - 3 * 86400
    )
    ctx = context(closed_port_url(), env, tmp_path, width=100)
    assert run(ContactsOptions(search="ada"), ctx) == ExitCode.OK
    shown = flat(output_of(ctx.out))
    assert "Ada Lovelace" in shown and "3 days ago" in shown
    assert "These contacts are the ones kept before." in shown


def test_without_a_cache_a_network_problem_is_the_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(AppError) as caught:
        run(ContactsOptions(), context(closed_port_url(), env, tmp_path))
    assert caught.value.exit_code == ExitCode.NETWORK


@pytest.mark.parametrize("json_mode", [False, True])
def test_without_contacts_read_the_fix_is_named(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path, json_mode: bool
) -> None:
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    with pytest.raises(AppError) as caught:
        run(ContactsOptions(json=json_mode), context(simulator.url, env, tmp_path))
    error = caught.value
    assert (error.code, error.exit_code, error.status) == ("forbidden", ExitCode.REFUSED, 403)
    assert "read your contacts" in error.message
    assert "contacts:read" in (error.hint or "") and "SIPGATE_TOKEN" in (error.hint or "")
    assert contacts_cache.load(env, "default", TOKEN_ID, "DE") is None


def test_json_lists_numbers_as_written_with_e164(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    shown, errors = listed(simulator, env, tmp_path, json=True, search="flower")
    assert errors == ""
    assert json.loads(shown) == [
        {
            "id": "c7",
            "name": "Flower shop",
            "organization": None,
            "phonebook": "shared",
            "numbers": [{"number": "0800-FLOWERS", "type": "work", "e164": None, "usable": False}],
        }
    ]
    everyone = json.loads(listed(simulator, env, tmp_path, json=True)[0])
    assert len(everyone) == 8 and everyone[1]["numbers"][0]["e164"] == "+4915799912347"


def test_json_notes_go_to_stderr(simulator: SipgateSimulator, tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    env = {**CREDENTIALS_ENV, "SIPGATE_TUI_CACHE_DIR": str(blocker / "c")}
    shown, errors = listed(simulator, env, tmp_path, json=True)
    assert len(json.loads(shown)) == 8
    assert errors.startswith("! The contacts could not be kept")


def test_names_with_escapes_are_shown_cleaned_from_sipgate_and_from_the_cache(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    simulator.contacts = [
        contact_item("e", "Mallory\x1b]0;pwned\x07\u202e", [("0211\x1b[2J 5550003", ["work"])])
    ]
    shown, _ = listed(simulator, env, tmp_path)
    assert "\x1b" not in shown and "\u202e" not in shown and "Mallory" in shown
    path = contacts_cache.cache_path(env, "default")
    assert path is not None
    document = json.loads(path.read_text())
    document["contacts"][0][1] = "Tampered\x1b[31m\u202e"  # the file is the user's: still cleaned
    path.write_text(json.dumps(document))
    shown, _ = listed(simulator, env, tmp_path)
    assert "Tampered" in shown and "\x1b" not in shown and "\u202e" not in shown


def test_ten_thousand_contacts_are_listed(
    simulator: SipgateSimulator, env: dict[str, str], tmp_path: Path
) -> None:
    simulator.large_phonebook(10_000)
    shown, _ = listed(simulator, env, tmp_path, search="firma 99")
    assert "Firma 99" in shown
    # 20 full pages of 500, then one empty one: a total is never trusted to end full pages
    # (one that is too low would lose contacts).
    assert contacts_fetches(simulator) == 21


def test_logout_removes_the_cache(
    simulator: SipgateSimulator, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.set_password("sipgate-tui", "default", encode_item(Credentials(TOKEN_ID, TOKEN)))
    env = {"SIPGATE_TUI_CACHE_DIR": str(tmp_path / "cache")}
    listed(simulator, env, tmp_path)
    path = contacts_cache.cache_path(env, "default")
    assert path is not None and path.exists()
    ctx = context(simulator.url, env, tmp_path)
    assert logout(LogoutOptions(), ctx) == ExitCode.OK
    assert not path.exists() and output_of(ctx.err) == ""
    assert logout(LogoutOptions(), context(simulator.url, env, tmp_path)) == ExitCode.OK


def test_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Invocation] = []

    def record(typer_ctx: typer.Context, invocation: Invocation) -> None:
        seen.append(invocation)

    for name in ("SIPGATE_TOKEN_ID", "SIPGATE_TOKEN", "SIPGATE_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    app(
        ["contacts", "ada", "love", "--refresh", "--json", "--timeout", "3"],
        prog_name="sipgate-tui",
        standalone_mode=False,
        obj=record,
    )
    [invocation] = seen
    assert invocation.run is contacts_command.run and invocation.json_mode
    assert invocation.options == ContactsOptions(
        search="ada love", refresh=True, json=True, timeout=3.0
    )
