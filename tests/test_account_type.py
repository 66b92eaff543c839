"""The account type (classic, sipgate Neo, unknown): the rule, the probes, forcing and
remembering it, ``login`` and ``status`` on both kinds of account; and the Neo parts of the API
layer it rests on (``POST /calls``, ``probe_refusal``, ``GET /channels``)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from helpers import TOKEN, TOKEN_ID, ScriptedPrompter, flat, make_context, output_of
from servers import closed_port_url

from sipgate_tui import account_type
from sipgate_tui.account_type import classify, detect, effective_type, explain
from sipgate_tui.api import (
    HttpStatusError,
    NeoCallRequest,
    OutcomeUnknownError,
    SipgateClient,
    Timeouts,
    parse_call_id,
)
from sipgate_tui.channels import Channel, channels_of_device, list_channels, parse_channels
from sipgate_tui.commands.login import LoginOptions
from sipgate_tui.commands.login import run as login
from sipgate_tui.commands.settings_commands import ConfigOptions, config
from sipgate_tui.commands.status import StatusOptions
from sipgate_tui.commands.status import run as status
from sipgate_tui.context import AppContext
from sipgate_tui.credentials import Credentials
from sipgate_tui.errors import AppError, ExitCode, InputError
from sipgate_tui.options import ACCOUNT_TYPE_CHOICES
from sipgate_tui.setting_keys import BY_NAME
from sipgate_tui.settings import SettingsStore
from sipgate_tui.simulator import (
    CLASSIC_PBX_REFUSAL,
    SimulatedChannel,
    SimulatedToken,
    SipgateSimulator,
)

CREDENTIALS = Credentials(TOKEN_ID, TOKEN)
FAST = Timeouts(connect=0.5, read=2)
GROUPS, LINES, CHANNELS = "/groups", "/w0/phonelines", "/channels"
OK, REFUSED, SCOPE_403, MISSING = (200, False), (403, True), (403, False), (404, False)
NO_TYPE_SCOPES = frozenset({"sessions:calls:write", "devices:read", "numbers:read"})


def client_for(url: str) -> SipgateClient:
    return SipgateClient(url, CREDENTIALS, timeouts=FAST)


@pytest.fixture
def neo() -> Iterator[SipgateSimulator]:
    with SipgateSimulator(account_type="neo") as sim:
        yield sim


# -- the rule ----------------------------------------------------------------------------------

CLASSIFY: list[tuple[dict[str, tuple[int, bool]], str]] = [
    ({GROUPS: OK, LINES: OK, CHANNELS: MISSING}, "classic"),
    ({GROUPS: OK}, "classic"),
    ({LINES: OK, GROUPS: SCOPE_403}, "classic"),
    ({GROUPS: OK, CHANNELS: OK}, "classic"),  # a classic-only 200 comes before /channels
    ({GROUPS: REFUSED, LINES: REFUSED, CHANNELS: OK}, "neo"),
    ({GROUPS: REFUSED}, "neo"),
    ({LINES: REFUSED, CHANNELS: SCOPE_403}, "neo"),
    ({CHANNELS: OK}, "neo"),
    ({GROUPS: SCOPE_403, LINES: SCOPE_403, CHANNELS: OK}, "neo"),
    ({GROUPS: OK, LINES: REFUSED}, "unknown"),  # contradicts itself: never a guess
    ({GROUPS: SCOPE_403, LINES: SCOPE_403, CHANNELS: SCOPE_403}, "unknown"),
    ({GROUPS: SCOPE_403, LINES: SCOPE_403, CHANNELS: MISSING}, "unknown"),
    ({GROUPS: (401, False)}, "unknown"),
    ({GROUPS: (500, False), CHANNELS: (503, False)}, "unknown"),
    ({GROUPS: (403, False), CHANNELS: (201, False)}, "neo"),  # any 2xx answers
    ({}, "unknown"),  # every probe failed on the network
]


@pytest.mark.parametrize(("answers", "expected"), CLASSIFY, ids=[str(a) for a, _ in CLASSIFY])
def test_the_account_type_follows_only_from_definite_answers(
    answers: dict[str, tuple[int, bool]], expected: str
) -> None:
    assert classify(answers) == expected


def test_the_placeholder_path_counts_like_the_users_own() -> None:
    assert classify({"/{userId}/phonelines": OK}) == "classic"
    assert classify({"/w7/phonelines": REFUSED}) == "neo"


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({GROUPS: REFUSED, LINES: REFUSED}, "sipgate refuses classic-only requests"),
        ({GROUPS: OK, LINES: OK}, "classic-only requests work (/groups, /w0/phonelines)"),
        ({CHANNELS: OK}, "only sipgate Neo has channels"),
        ({GROUPS: OK, LINES: REFUSED}, "answered one classic-only request and refused another"),
        (
            {GROUPS: SCOPE_403, LINES: SCOPE_403, CHANNELS: SCOPE_403},
            "the token lacks groups:read, phonelines:read and channels:read",
        ),
        (
            {GROUPS: SCOPE_403, CHANNELS: (500, False)},
            "the token lacks groups:read; /w0/phonelines could not be checked; /channels could "
            "not be checked (HTTP 500)",
        ),
    ],
)
def test_the_reason_says_what_sipgate_answered(
    answers: dict[str, tuple[int, bool]], words: str
) -> None:
    assert words in explain(answers, "w0")


# -- the probes ------------------------------------------------------------------------------


def test_probe_refusal_tells_the_classic_pbx_refusal_from_a_scope_403(
    neo: SipgateSimulator,
) -> None:
    client = client_for(neo.url)
    assert client.probe_refusal("/groups") == (403, True)
    assert client.probe_refusal("/channels") == (200, False)
    neo.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_TYPE_SCOPES)
    assert client.probe_refusal("/channels") == (403, False)
    assert client.probe_refusal("/nowhere", {"limit": 1}) == (404, False)


def test_detect_on_both_kinds_of_account(
    simulator: SipgateSimulator, neo: SipgateSimulator
) -> None:
    assert detect(client_for(simulator.url), "w0") == "classic"
    assert detect(client_for(neo.url), "w0") == "neo"
    probed = {r.path for r in neo.requests}
    assert probed == {GROUPS, LINES, CHANNELS}
    assert not neo.neo_calls and not neo.call_requests()


def test_detect_without_the_probe_scopes_is_unknown(neo: SipgateSimulator) -> None:
    neo.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_TYPE_SCOPES)
    assert detect(client_for(neo.url), "w0") == "unknown"


def test_detect_on_neo_with_only_channels_read(neo: SipgateSimulator) -> None:
    neo.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_TYPE_SCOPES | {"channels:read"})
    assert detect(client_for(neo.url), "w0") == "neo"


def test_a_neo_account_that_refuses_before_checking_the_scope(neo: SipgateSimulator) -> None:
    neo.neo_refusal_before_scope = True
    neo.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_TYPE_SCOPES)
    assert detect(client_for(neo.url), "w0") == "neo"


def test_network_errors_tell_nothing() -> None:
    assert detect(client_for(closed_port_url()), "w0") == "unknown"


def test_the_probes_run_at_once(neo: SipgateSimulator) -> None:
    neo.read_delay = 0.3
    detect(client_for(neo.url), "w0")
    starts = sorted(r.received_at for r in neo.requests)
    assert starts[-1] - starts[0] < 0.25  # not one after the other


def test_debug_says_which_type_was_found_and_why(
    neo: SipgateSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="sipgate_tui.account_type"):
        detect(client_for(neo.url), "w0")
    assert "account type: neo (sipgate refuses classic-only requests" in caplog.text


# -- forcing, remembering --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "setting", "remembered", "expected"),
    [
        ("auto", "auto", None, "unknown"),
        ("auto", "auto", "neo", "neo"),
        ("auto", "classic", "neo", "classic"),  # the setting forces
        ("neo", "classic", "classic", "neo"),  # the option beats the setting
        ("classic", "auto", "neo", "classic"),
        ("auto", "auto", "unknown", "unknown"),  # never remembered, never acted on
    ],
)
def test_the_option_beats_the_setting_which_beats_what_was_found(
    option: str, setting: str, remembered: str | None, expected: str
) -> None:
    forced = account_type.forced_choice(option, setting)
    assert effective_type(forced, remembered) == expected


def test_who_forces_the_type() -> None:
    env = {"SIPGATE_TUI_ACCOUNT_TYPE": "Neo"}
    assert account_type.forced_by("neo", "auto", env) == "SIPGATE_TUI_ACCOUNT_TYPE"
    assert account_type.forced_by("classic", "neo", env) == "--account-type"
    assert account_type.forced_by("auto", "neo", {}) == "the setting account-type"
    assert account_type.forced_by("auto", "auto", env) is None


def test_the_forcing_choices_are_the_settings_choices() -> None:
    assert BY_NAME["account-type"].choices == ACCOUNT_TYPE_CHOICES


def store_at(tmp_path: Path) -> SettingsStore:
    return SettingsStore(
        {
            "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
        },
        "default",
    )


def test_the_type_is_remembered_per_token_id(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.remember(account_type=(TOKEN_ID, "neo"))
    state = store.load_state()
    assert state.account_type_for(TOKEN_ID) == "neo"
    assert state.account_type_for("token-OTHER1") is None  # another token, maybe another account
    store.remember(account_type=("token-OTHER1", "classic"))
    assert store.load_state().account_type_for(TOKEN_ID) is None


def test_unknown_is_never_written(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.remember(account_type=(TOKEN_ID, "unknown"))
    assert not store.state_path.exists()
    store.remember(account_type=(TOKEN_ID, "classic"))
    store.remember(account_type=(TOKEN_ID, "unknown"))
    assert store.load_state().account_type_for(TOKEN_ID) == "classic"


def test_user_id_and_type_go_in_one_write_next_to_the_recent_numbers(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.remember_call("+4915799912345", "e0")
    store.remember(user=(TOKEN_ID, "w0"), account_type=(TOKEN_ID, "neo"))
    state = store.load_state()
    assert (state.user_id_for(TOKEN_ID), state.account_type_for(TOKEN_ID)) == ("w0", "neo")
    assert [r.number for r in state.recent] == ["+4915799912345"]
    entry = json.loads(store.state_path.read_text())["profiles"]["default"]
    assert (entry["account_type"], entry["account_type_token_id"]) == ("neo", TOKEN_ID)


def test_a_hand_edited_type_that_is_no_type_is_ignored(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.state_path.parent.mkdir(parents=True)
    entry = {"account_type": "neo-ish", "account_type_token_id": TOKEN_ID}
    store.state_path.write_text(json.dumps({"profiles": {"default": entry}}))
    assert store.load_state().account_type_for(TOKEN_ID) is None


# -- the settings ------------------------------------------------------------------------------


def run_config(tmp_path: Path, **fields: str) -> str:
    ctx = make_context("http://127.0.0.1:9/v2", settings_dir=tmp_path)
    config(ConfigOptions(**fields), ctx)
    return flat(output_of(ctx.out))


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("account-type", "Neo", "neo"),
        ("account-type", " classic ", "classic"),
        ("account-type", "auto", "auto"),
        ("neo-numbers", "plus", "plus"),
        ("neo-numbers", "DIGITS", "digits"),
        ("live-view", "on", "on"),  # a word here, not the boolean that history takes
        ("live-view", "off", "off"),
    ],
)
def test_config_set_takes_the_new_settings(
    tmp_path: Path, key: str, typed: str, stored: str
) -> None:
    shown = run_config(tmp_path, action="set", key=key, value=typed)
    assert f"{key} {stored}" in shown
    field = BY_NAME[key].field
    assert getattr(store_at(tmp_path).load(), field) == stored
    assert f'{field} = "{stored}"' in (tmp_path / "config" / "config.toml").read_text()


@pytest.mark.parametrize(
    ("key", "typed", "words"),
    [
        ("account-type", "pbx", "account-type takes auto, classic or neo, not 'pbx'"),
        ("neo-numbers", "+", "neo-numbers takes digits or plus"),
        ("live-view", "yes", "live-view takes auto, on or off"),
    ],
)
def test_config_set_refuses_other_words(tmp_path: Path, key: str, typed: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        run_config(tmp_path, action="set", key=key, value=typed)
    assert (caught.value.code, caught.value.exit_code) == ("invalid-value", ExitCode.USAGE)
    assert words in caught.value.message
    assert not (tmp_path / "config" / "config.toml").exists()


def test_the_defaults_and_a_bad_value_in_the_file(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    settings = store.load()
    assert (settings.account_type, settings.neo_numbers, settings.live_view) == (
        "auto",
        "digits",
        "auto",
    )
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text(
        '[profiles.default]\naccount_type = "neo-pbx"\n'
    )
    with pytest.raises(AppError) as caught:
        store.load()
    assert caught.value.code == "config-invalid"
    assert "profiles.default.account_type must be auto, classic or neo" in caught.value.message


def test_config_unset_brings_the_default_back(tmp_path: Path) -> None:
    run_config(tmp_path, action="set", key="live-view", value="off")
    run_config(tmp_path, action="unset", key="live-view")
    assert store_at(tmp_path).load().live_view == "auto"


# -- status and login on both kinds of account ------------------------------------------------


def context(api_url: str, tmp_path: Path, *, forced: str = "auto", **kwargs: Any) -> AppContext:
    ctx = make_context(api_url, settings_dir=tmp_path, **kwargs)
    ctx.options = ctx.options._replace(account_type=forced)
    return ctx


def status_json(ctx: AppContext) -> dict[str, Any]:
    assert status(StatusOptions(json=True), ctx) == ExitCode.OK
    document: dict[str, Any] = json.loads(output_of(ctx.out))
    return document


def test_status_on_neo(neo: SipgateSimulator, tmp_path: Path) -> None:
    document = status_json(context(neo.url, tmp_path))
    assert (document["accountType"], document["accountTypeDetected"]) == ("neo", "neo")
    assert document["scopes"]["channels:read"] is True
    # The refusal is about the account, not the token: it says nothing about the scope.
    assert document["scopes"]["groups:read"] is None
    assert document["scopes"]["phonelines:read"] is None
    assert document["scopes"]["rtcm:read"] is None  # GET /calls is only "planned" on Neo
    for key in ("ok", "profile", "apiUrl", "source", "tokenId", "valid", "userId", "exitCode"):
        assert key in document
    assert store_at(tmp_path).load_state().account_type_for(TOKEN_ID) == "neo"


def test_status_on_neo_for_people(neo: SipgateSimulator, tmp_path: Path) -> None:
    ctx = context(neo.url, tmp_path)
    assert status(StatusOptions(), ctx) == ExitCode.OK
    shown = flat(output_of(ctx.out))
    assert "Account sipgate Neo · sipgate refuses classic-only requests" in shown
    assert "✓ channels:read" in shown
    assert "– groups:read" in shown and "not used on sipgate Neo accounts" in shown
    assert "– rtcm:read" in shown and "sipgate Neo lists no active calls yet" in shown
    assert "channels:read picks the channel a call goes through" in shown


def test_status_on_classic(simulator: SipgateSimulator, tmp_path: Path) -> None:
    ctx = context(simulator.url, tmp_path)
    assert status(StatusOptions(), ctx) == ExitCode.OK
    shown = flat(output_of(ctx.out))
    assert "Account classic · classic-only requests work" in shown
    assert "– channels:read" in shown and "not used on classic accounts" in shown
    assert "✗" not in shown  # the classic account's missing /channels is no missing scope
    assert store_at(tmp_path).load_state().account_type_for(TOKEN_ID) == "classic"


def test_status_without_the_probe_scopes_says_why_unknown(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    neo.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_TYPE_SCOPES)
    ctx = context(neo.url, tmp_path)
    document = status_json(ctx)
    assert (document["accountType"], document["accountTypeDetected"]) == ("unknown", "unknown")
    assert document["accountTypeWhy"] == (
        "the token lacks groups:read, phonelines:read and channels:read"
    )
    assert not store_at(tmp_path).state_path.exists()  # nothing found, nothing written
    ctx = context(neo.url, tmp_path)
    status(StatusOptions(), ctx)
    shown = flat(output_of(ctx.out))
    assert "Account unknown · the token lacks groups:read, phonelines:read and channels:read" in (
        shown
    )
    assert "If your account is on sipgate Neo" in shown and "tick channels:read" in shown


def test_status_falls_back_on_the_remembered_type(neo: SipgateSimulator, tmp_path: Path) -> None:
    store_at(tmp_path).remember(account_type=(TOKEN_ID, "neo"))
    neo.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_TYPE_SCOPES)
    document = status_json(context(neo.url, tmp_path))
    assert (document["accountType"], document["accountTypeDetected"]) == ("neo", "unknown")
    assert document["accountTypeWhy"].startswith("remembered from an earlier check (now: ")


@pytest.mark.parametrize(
    ("forced", "env", "by"),
    [
        ("classic", {}, "--account-type"),
        ("classic", {"SIPGATE_TUI_ACCOUNT_TYPE": "classic"}, "SIPGATE_TUI_ACCOUNT_TYPE"),
    ],
)
def test_a_forced_type_wins_and_status_says_who_forced_it(
    neo: SipgateSimulator, tmp_path: Path, forced: str, env: dict[str, str], by: str
) -> None:
    ctx = context(neo.url, tmp_path, forced=forced, env={**env, **CREDENTIALS_ENV})
    document = status_json(ctx)
    assert (document["accountType"], document["accountTypeDetected"]) == ("classic", "neo")
    assert document["accountTypeWhy"] == f"forced by {by} (detected: sipgate Neo)"
    # What was detected is still remembered: forcing is a choice, not a finding.
    assert store_at(tmp_path).load_state().account_type_for(TOKEN_ID) == "neo"


CREDENTIALS_ENV = {"SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": TOKEN}


def test_the_setting_forces_unless_the_option_says_otherwise(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    store_at(tmp_path).set_value("account_type", "neo")
    document = status_json(context(simulator.url, tmp_path))
    assert document["accountType"] == "neo"
    assert document["accountTypeWhy"] == "forced by the setting account-type (detected: classic)"
    document = status_json(context(simulator.url, tmp_path, forced="classic"))
    assert (document["accountType"], document["accountTypeWhy"]) == (
        "classic",
        "forced by --account-type (detected: classic)",
    )


def test_status_without_a_network_shows_the_remembered_type(tmp_path: Path) -> None:
    store_at(tmp_path).remember(account_type=(TOKEN_ID, "neo"))
    ctx = context(closed_port_url(), tmp_path)
    assert status(StatusOptions(timeout=0.5), ctx) == ExitCode.NETWORK
    shown = flat(output_of(ctx.out))
    assert "Account sipgate Neo · remembered from an earlier check" in shown


def test_status_without_credentials_shows_no_account_row(
    simulator: SipgateSimulator, tmp_path: Path
) -> None:
    ctx = context(simulator.url, tmp_path, env={})
    assert status(StatusOptions(), ctx) == ExitCode.CREDENTIALS
    assert "Account" not in flat(output_of(ctx.out))
    ctx = context(simulator.url, tmp_path, env={})
    status(StatusOptions(json=True), ctx)
    assert json.loads(output_of(ctx.out))["accountType"] == "unknown"


def login_in_terminal(api_url: str, tmp_path: Path) -> AppContext:
    prompter = ScriptedPrompter([TOKEN_ID, TOKEN])
    ctx = context(api_url, tmp_path, prompter=prompter, terminal=True, env={})
    assert login(LoginOptions(), ctx) == ExitCode.OK
    return ctx


def test_login_on_neo_names_the_scopes_that_matter_there(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    ctx = login_in_terminal(neo.url, tmp_path)
    shown = flat(output_of(ctx.out))
    intro = shown[: shown.index("Logged in")]
    assert (
        "channels:read optional pick the channel a call goes through, and list recent calls, "
        "on sipgate Neo" in intro
    )
    assert "groups:read optional tell a classic account from a sipgate Neo one" in intro
    done = shown[shown.index("Logged in") :]
    assert "Account sipgate Neo" in done
    assert "channels:read picks the channel a call goes through" in done
    assert store_at(tmp_path).load_state().account_type_for(TOKEN_ID) == "neo"
    probed = [r.path for r in neo.requests]
    assert {GROUPS, LINES, CHANNELS} <= set(probed)
    assert probed.count(CHANNELS) == 1  # the type's probes are the scope probes, sent once
    assert not neo.neo_calls and not neo.call_requests()


def test_login_on_neo_without_channels_read_says_to_tick_it(
    neo: SipgateSimulator, tmp_path: Path
) -> None:
    neo.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_TYPE_SCOPES)
    neo.neo_refusal_before_scope = True  # the account still shows itself as Neo
    ctx = login_in_terminal(neo.url, tmp_path)
    shown = flat(output_of(ctx.out))
    assert "Account sipgate Neo" in shown
    assert "✗ channels:read" in shown
    assert "tick channels:read, without it sipgate-tui cannot pick the channel" in shown


def test_login_on_classic(simulator: SipgateSimulator, tmp_path: Path) -> None:
    ctx = login_in_terminal(simulator.url, tmp_path)
    shown = flat(output_of(ctx.out))
    assert "Account classic" in shown
    assert "not used on classic accounts" in shown
    assert store_at(tmp_path).load_state().account_type_for(TOKEN_ID) == "classic"


def test_login_json_has_the_type(neo: SipgateSimulator, tmp_path: Path) -> None:
    ctx = context(neo.url, tmp_path, env={})
    code = login(
        LoginOptions(token_id=TOKEN_ID, token_stdin=True, json=True), ctx, read_stdin=lambda: TOKEN
    )
    assert code == ExitCode.OK
    document = json.loads(output_of(ctx.out))
    assert (document["accountType"], document["accountTypeDetected"]) == ("neo", "neo")
    assert document["scopes"]["channels:read"] is True


def test_a_rejected_login_remembers_nothing(neo: SipgateSimulator, tmp_path: Path) -> None:
    ctx = context(neo.url, tmp_path, env={})
    with pytest.raises(AppError):
        login(
            LoginOptions(token_id=TOKEN_ID, token_stdin=True),
            ctx,
            read_stdin=lambda: "wrong",
        )
    assert not store_at(tmp_path).state_path.exists()


# -- POST /calls and GET /channels -----------------------------------------------------------


def test_the_neo_call_body_leaves_out_what_is_not_set() -> None:
    call = NeoCallRequest("e0", "+4915799912345")
    assert call.body() == {"deviceId": "e0", "targetNumber": "4915799912345"}
    full = NeoCallRequest("e2", "+4915799912345", "+492115550001", "ch0", plus_sign=True)
    assert full.body() == {
        "deviceId": "e2",
        "targetNumber": "+4915799912345",
        "callerId": "+492115550001",
        "channelId": "ch0",
    }


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"callSid": "abc"}, "abc"),
        ({"callId": "def"}, "def"),
        ({"id": 42}, "42"),
        ({"callSid": "abc", "callId": "def", "id": "x"}, "abc"),
        ({"callSid": "", "callId": "def"}, "def"),
        ({"callSid": "\x1b[2J"}, None),
        ({"callSid": True}, None),
        ({"sessionId": "s"}, None),
        (["callSid"], None),
        (None, None),
    ],
)
def test_the_call_id_whichever_field_holds_it(data: object, expected: str | None) -> None:
    assert parse_call_id(data) == expected


@pytest.mark.parametrize("field", ["callSid", "callId"])
def test_a_neo_call_is_placed_once_and_its_id_read(neo: SipgateSimulator, field: str) -> None:
    neo.neo_call_id_field = field
    call_id = client_for(neo.url).place_neo_call(
        NeoCallRequest("e0", "+4915799912345", "+492115550001", "ch0")
    )
    [request] = [r for r in neo.requests if r.method == "POST"]
    assert request.path == "/calls"
    assert request.json == {
        "deviceId": "e0",
        "targetNumber": "4915799912345",
        "callerId": "492115550001",
        "channelId": "ch0",
    }
    assert request.headers["content-type"] == "application/json"
    assert neo.neo_calls[0]["callSid"] == call_id


def test_a_neo_answer_without_an_id_may_have_placed_the_call(neo: SipgateSimulator) -> None:
    neo.respond_with(200, {"ok": True}, method="POST", path="/calls")
    with pytest.raises(OutcomeUnknownError) as caught:
        client_for(neo.url).place_neo_call(NeoCallRequest("e0", "+4915799912345"))
    assert caught.value.kind == "unreadable-response"
    assert "without a call id" in (caught.value.detail or "")


def test_a_failing_neo_call_is_never_sent_twice(neo: SipgateSimulator) -> None:
    neo.respond_with(503, {"error": "busy"}, method="POST", path="/calls")
    with pytest.raises(HttpStatusError) as caught:
        client_for(neo.url).place_neo_call(NeoCallRequest("e0", "+4915799912345"))
    assert caught.value.status == 503
    assert len([r for r in neo.requests if r.method == "POST"]) == 1


def test_the_neo_call_refused_for_a_mobile(neo: SipgateSimulator) -> None:
    with pytest.raises(HttpStatusError) as caught:
        client_for(neo.url).place_neo_call(NeoCallRequest("y0", "+4915799912345"))
    assert caught.value.status == 400 and "Invalid invitable device" in caught.value.body


def test_the_channels_of_the_user_and_of_a_device(neo: SipgateSimulator) -> None:
    neo.channels.append(
        SimulatedChannel("ch1", "Support\x1b[31m", ("e0",), other_users={"w1": ("e9",)})
    )
    neo.channels.append(SimulatedChannel("ch2", "Others only", other_users={"w1": ("e0",)}))
    channels = list_channels(client_for(neo.url), "w0")
    assert [(c.id, c.name, c.device_ids) for c in channels] == [
        ("ch0", "Main", ("e0", "e1", "e2")),
        ("ch1", "Support", ("e0",)),
        ("ch2", "Others only", ()),  # another user's e0 is not ours
    ]
    assert [c.id for c in channels_of_device(channels, "e0")] == ["ch0", "ch1"]
    assert channels_of_device(channels, "y0") == []
    assert channels[0].raw["owner"] == "w0"


def test_channels_are_read_defensively() -> None:
    data = {
        "items": [
            {"id": "c1"},
            {"name": "no id"},
            "junk",
            {"id": "", "name": "empty id"},
            {"id": "c2", "name": "  ", "users": [{"id": "w0", "deviceIds": ["e0", 7, "e0"]}]},
            {"id": "c3", "users": "nope"},
        ]
    }
    assert parse_channels(data, "w0") == [
        Channel("c1", "c1", (), {"id": "c1"}),
        Channel("c2", "c2", ("e0",), data["items"][4]),
        Channel("c3", "c3", (), {"id": "c3", "users": "nope"}),
    ]
    assert parse_channels({"items": None}, "w0") == []
    assert parse_channels([], "w0") == []


def test_no_channels_read_is_the_clients_error(neo: SipgateSimulator) -> None:
    neo.tokens[TOKEN_ID] = SimulatedToken(TOKEN, NO_TYPE_SCOPES)
    with pytest.raises(HttpStatusError) as caught:
        list_channels(client_for(neo.url), "w0")
    assert caught.value.status == 403


class PagingServer:
    """``GET /v2/channels`` in pages of two: by ``totalCount`` and offset, or by cursor."""

    def __init__(self, count: int, *, cursor: bool, endless: bool = False) -> None:
        items = [{"id": f"c{i}", "name": f"C{i}"} for i in range(count)]
        self.queries: list[dict[str, list[str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                server.queries.append(query)
                if cursor:
                    start = int(query.get("position", ["0"])[0])
                    if endless:
                        start = 0  # a server that ignores the cursor
                    body: dict[str, Any] = {"items": items[start : start + 2]}
                    if start + 2 < count or endless:
                        body["position"] = str(start + 2)
                else:
                    start = int(query.get("offset", ["0"])[0])
                    body = {"items": items[start : start + 2], "totalCount": count}
                payload = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v2"

    def __enter__(self) -> PagingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("cursor", [False, True], ids=["totalCount", "position"])
def test_channels_follow_the_pages_the_answer_announces(cursor: bool) -> None:
    with PagingServer(5, cursor=cursor) as server:
        channels = list_channels(client_for(server.url), "w0")
    assert [c.id for c in channels] == ["c0", "c1", "c2", "c3", "c4"]
    assert len(server.queries) == 3
    assert server.queries[0] == {}  # the first request asks as the clients that work do


def test_a_cursor_that_goes_nowhere_stops_the_paging() -> None:
    with PagingServer(5, cursor=True, endless=True) as server:
        channels = list_channels(client_for(server.url), "w0")
    assert [c.id for c in channels] == ["c0", "c1"]
    assert len(server.queries) == 2  # the second page added nothing


def test_the_simulators_refusal_is_the_one_api_recognises() -> None:
    from sipgate_tui.api import is_classic_pbx_refusal

    error = HttpStatusError(403, "u", None, None, body=CLASSIC_PBX_REFUSAL)
    assert is_classic_pbx_refusal(error)


def test_the_console_script_refuses_an_unknown_account_type(
    console_script: str, clean_env: dict[str, str]
) -> None:
    import subprocess

    result = subprocess.run(
        [console_script, "--account-type", "pbx", "status", "--json"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == ExitCode.USAGE
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "usage" and "'pbx' is not one of auto, classic, neo" in error["message"]
    misplaced = subprocess.run(
        [console_script, "status", "--account-type", "neo"],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # After the command it means the same (issue 13, item 19): no usage error, the
    # command runs (and finds no credentials here).
    assert misplaced.returncode == ExitCode.CREDENTIALS, misplaced.stdout
    assert "global option" not in flat(misplaced.stdout + misplaced.stderr)
