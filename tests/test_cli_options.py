"""Command lines to options, for every command: one table, in process, nothing run.

The Typer app is called with its own dispatcher replaced through click's ``obj`` (the seam in
``cli._dispatch``), so each row sees what a command line produces: the global options, the
command's run function, its options and ``--json``. Nothing is patched and no command runs;
what the commands then do with their options is tested elsewhere, on the real wiring.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import typer

from sipgate_tui.cli import Invocation, app
from sipgate_tui.commands import calls as calls_command
from sipgate_tui.commands import contacts as contacts_command
from sipgate_tui.commands import (
    demo,
    guided,
    handler,
    lists,
    login,
    logout,
    profiles,
    settings_commands,
    status,
)
from sipgate_tui.commands.call import CallOptions
from sipgate_tui.commands.call import run as call
from sipgate_tui.commands.calls import CallsOptions, HangupOptions, HistoryOptions
from sipgate_tui.commands.contacts import ContactsOptions
from sipgate_tui.commands.handler import HandlerOptions
from sipgate_tui.commands.lists import ListOptions
from sipgate_tui.commands.login import LoginOptions
from sipgate_tui.commands.logout import LogoutOptions
from sipgate_tui.commands.profiles import ProfilesOptions
from sipgate_tui.commands.settings_commands import ConfigOptions, FavouriteOptions
from sipgate_tui.commands.status import StatusOptions
from sipgate_tui.context import GlobalOptions

Parsed = tuple[GlobalOptions, Callable[..., Any], object, bool, bool]


def parse(args: list[str]) -> Parsed:
    """What ``sipgate-tui ARGS`` asks for: global options, run function, options, --json and
    whether the global options are checked (all but the demo)."""
    seen: list[Parsed] = []

    def record(typer_ctx: typer.Context, invocation: Invocation) -> None:
        seen.append(
            (
                typer_ctx.obj,
                invocation.run,
                invocation.options,
                invocation.json_mode,
                invocation.check_globals,
            )
        )

    app(args, prog_name="sipgate-tui", standalone_mode=False, obj=record)
    assert len(seen) == 1, f"{args} dispatched {len(seen)} commands"
    return seen[0]


@pytest.fixture(autouse=True)
def no_sipgate_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own SIPGATE_* variables must not change what a command line means."""
    for name in list(os.environ):
        if name.startswith("SIPGATE"):
            monkeypatch.delenv(name)


G = GlobalOptions()

# (command line, run function, options, --json); the global options are the defaults.
COMMANDS: list[tuple[list[str], Callable[..., Any], object, bool]] = [
    # call
    (["call"], call, CallOptions(), False),
    (
        ["call", "0157 999", "-d", "e0", "--yes"],
        call,
        CallOptions(callee="0157 999", device="e0", yes=True),
        False,
    ),
    (
        ["call", "0157", "99912345", "--device", "e0", "-y"],
        call,
        CallOptions(callee="0157 99912345", device="e0", yes=True),
        False,
    ),
    (["call", "mom"], call, CallOptions(callee="mom"), False),
    (
        ["call", "+49 157 99912345", "-d", "e0", "--dry-run"],
        call,
        CallOptions(callee="+49 157 99912345", device="e0", dry_run=True),
        False,
    ),
    (
        ["call", "0157 999", "-d", "e0", "--yes", "--json"],
        call,
        CallOptions(callee="0157 999", device="e0", yes=True, json=True),
        True,
    ),
    (
        [
            "call",
            "0157 999",
            "-d",
            "p0",
            "--caller",
            "+49 211 5550002",
            "--caller-id",
            "+492115550001",
        ],
        call,
        CallOptions(
            callee="0157 999", device="p0", caller="+49 211 5550002", caller_id="+492115550001"
        ),
        False,
    ),
    (
        ["call", "0664 1234567", "--region", "at", "--timeout", "2.5"],
        call,
        CallOptions(callee="0664 1234567", region="at", timeout=2.5),
        False,
    ),
    (
        ["call", "0157 999", "-d", "e0", "--no-history", "--no-wait"],
        call,
        CallOptions(callee="0157 999", device="e0", history=False, wait=False),
        False,
    ),
    # login
    (["login"], login.run, LoginOptions(), False),
    (
        ["login", "--token-id", "token-ABC123", "--token-stdin"],
        login.run,
        LoginOptions(token_id="token-ABC123", token_stdin=True),
        False,
    ),
    (
        ["login", "--token-id", "token-ABC123", "--token-stdin", "--json", "--timeout", "3"],
        login.run,
        LoginOptions(token_id="token-ABC123", token_stdin=True, json=True, timeout=3.0),
        True,
    ),
    # status, logout
    (["status"], status.run, StatusOptions(), False),
    (["status", "--all"], status.run, StatusOptions(all=True), False),
    (["profiles"], profiles.run, ProfilesOptions(), False),
    (["profiles", "--json"], profiles.run, ProfilesOptions(json=True), True),
    (
        ["status", "--json", "--timeout", "1"],
        status.run,
        StatusOptions(json=True, timeout=1.0),
        True,
    ),
    (["logout"], logout.run, LogoutOptions(), False),
    (["logout", "--json"], logout.run, LogoutOptions(json=True), True),
    # the lists
    (["devices"], lists.devices, ListOptions(), False),
    (
        ["devices", "--json", "--timeout", "4"],
        lists.devices,
        ListOptions(json=True, timeout=4.0),
        True,
    ),
    (["numbers"], lists.numbers, ListOptions(), False),
    (["numbers", "--json"], lists.numbers, ListOptions(json=True), True),
    (["calls"], calls_command.calls, CallsOptions(), False),
    (["calls", "--watch"], calls_command.calls, CallsOptions(watch=True), False),
    (
        ["calls", "--json", "--timeout", "2"],
        calls_command.calls,
        CallsOptions(json=True, timeout=2.0),
        True,
    ),
    # hangup
    (["hangup"], calls_command.hangup, HangupOptions(), False),
    (["hangup", "abc123"], calls_command.hangup, HangupOptions(call_id="abc123"), False),
    (["hangup", "--all"], calls_command.hangup, HangupOptions(all=True), False),
    (
        ["hangup", "--all", "--yes", "--json"],
        calls_command.hangup,
        HangupOptions(all=True, yes=True, json=True),
        True,
    ),
    (
        ["hangup", "abc123", "-y", "--timeout", "1.5"],
        calls_command.hangup,
        HangupOptions(call_id="abc123", yes=True, timeout=1.5),
        False,
    ),
    # history
    (["history"], calls_command.history, HistoryOptions(), False),
    (["history", "--limit", "5"], calls_command.history, HistoryOptions(limit=5), False),
    (["history", "--missed"], calls_command.history, HistoryOptions(missed=True), False),
    (
        ["history", "--limit", "1000", "--json", "--timeout", "9"],
        calls_command.history,
        HistoryOptions(limit=1000, json=True, timeout=9.0),
        True,
    ),
    # contacts
    (["contacts"], contacts_command.run, ContactsOptions(), False),
    (
        ["contacts", "ada", "love", "--refresh", "--json", "--timeout", "3"],
        contacts_command.run,
        ContactsOptions(search="ada love", refresh=True, json=True, timeout=3.0),
        True,
    ),
    # config
    (["config"], settings_commands.config, ConfigOptions(action="show"), False),
    (["config", "--json"], settings_commands.config, ConfigOptions(action="show", json=True), True),
    (
        ["config", "set", "default-device", "e0"],
        settings_commands.config,
        ConfigOptions(action="set", key="default-device", value="e0"),
        False,
    ),
    (
        ["config", "set", "default-caller-id", "+49", "211", "5550001"],
        settings_commands.config,
        ConfigOptions(action="set", key="default-caller-id", value="+49 211 5550001"),
        False,
    ),
    (
        ["config", "set", "history", "off", "--json"],
        settings_commands.config,
        ConfigOptions(action="set", key="history", value="off", json=True),
        True,
    ),
    (
        ["config", "unset", "region"],
        settings_commands.config,
        ConfigOptions(action="unset", key="region"),
        False,
    ),
    (
        ["config", "unset", "region", "--json"],
        settings_commands.config,
        ConfigOptions(action="unset", key="region", json=True),
        True,
    ),
    (
        ["config", "clear-recent"],
        settings_commands.config,
        ConfigOptions(action="clear-recent"),
        False,
    ),
    (
        ["config", "clear-recent", "--json"],
        settings_commands.config,
        ConfigOptions(action="clear-recent", json=True),
        True,
    ),
    # favourites (and the hidden American spelling)
    (["favourites"], settings_commands.favourites, FavouriteOptions(action="list"), False),
    (
        ["favourites", "--json"],
        settings_commands.favourites,
        FavouriteOptions(action="list", json=True),
        True,
    ),
    (["favourites", "list"], settings_commands.favourites, FavouriteOptions(action="list"), False),
    (
        ["favourites", "list", "--json"],
        settings_commands.favourites,
        FavouriteOptions(action="list", json=True),
        True,
    ),
    (
        ["favourites", "add", "mom", "0157", "99912345"],
        settings_commands.favourites,
        FavouriteOptions(action="add", name="mom", number="0157 99912345"),
        False,
    ),
    (
        ["favourites", "add", "mom", "+49 157 99912345", "--json"],
        settings_commands.favourites,
        FavouriteOptions(action="add", name="mom", number="+49 157 99912345", json=True),
        True,
    ),
    (
        ["favourites", "remove", "mom"],
        settings_commands.favourites,
        FavouriteOptions(action="remove", name="mom"),
        False,
    ),
    (
        ["favorites", "remove", "mom", "--json"],
        settings_commands.favourites,
        FavouriteOptions(action="remove", name="mom", json=True),
        True,
    ),
    (["favorites"], settings_commands.favourites, FavouriteOptions(action="list"), False),
    # the desktop link handler (issue 15); bare `handler` is its status
    (["handler"], handler.run, HandlerOptions(action="status"), False),
    (["handler", "install"], handler.run, HandlerOptions(action="install"), False),
    (["handler", "install", "--json"], handler.run, HandlerOptions("install", json=True), True),
    (["handler", "uninstall"], handler.run, HandlerOptions(action="uninstall"), False),
    (["handler", "status", "--json"], handler.run, HandlerOptions("status", json=True), True),
    # call: links and tones (issue 15)
    (
        ["call", "--from-desktop", "--", "tel:+49-211,,1#"],
        call,
        CallOptions(callee="tel:+49-211,,1#", from_desktop=True),
        False,
    ),
    (["call", "+49211", "--dtmf", ",,1#"], call, CallOptions(callee="+49211", dtmf=",,1#"), False),
    # the guided mode: no command at all
    ([], guided.run, None, False),
]


@pytest.mark.parametrize(
    ("args", "run", "options", "json_mode"),
    COMMANDS,
    ids=[" ".join(row[0]) or "(no command)" for row in COMMANDS],
)
def test_a_command_line_becomes_these_options(
    args: list[str], run: Callable[..., Any], options: object, json_mode: bool
) -> None:
    assert parse(args) == (G, run, options, json_mode, True)


def test_the_demo_takes_its_account_kind_and_ignores_the_global_ones() -> None:
    assert parse(["demo"]) == (G, demo.run, demo.DemoOptions(), False, False)
    assert parse(["demo", "--neo"]) == (G, demo.run, demo.DemoOptions(neo=True), False, False)
    assert parse(["--api-url", "http://127.0.0.1:1/v2", "demo"])[4] is False


# (global options, then a command) -> GlobalOptions; the command's own options stay default.
GLOBALS: list[tuple[list[str], GlobalOptions]] = [
    ([], GlobalOptions()),
    (["--no-input"], GlobalOptions(no_input=True)),
    (["--debug"], GlobalOptions(debug=True)),
    (["--profile", "work"], GlobalOptions(profile="work")),
    (["--api-url", "http://127.0.0.1:8080/v2"], GlobalOptions(api_url="http://127.0.0.1:8080/v2")),
    (["--account-type", "neo"], GlobalOptions(account_type="neo")),
    (["--account-type", "Classic"], GlobalOptions(account_type="classic")),
    (["--account-type", "auto"], GlobalOptions()),
    (
        ["--api-url", "https://api.example.test/v2", "--profile", "work", "--no-input", "--debug"],
        GlobalOptions(
            api_url="https://api.example.test/v2", profile="work", no_input=True, debug=True
        ),
    ),
]


@pytest.mark.parametrize(
    ("args", "expected"), GLOBALS, ids=[" ".join(g[0]) or "-" for g in GLOBALS]
)
@pytest.mark.parametrize(
    "command", [["status"], ["call", "0157 999"], ["config", "set", "region", "at"], []]
)
def test_global_options_go_before_any_command(
    args: list[str], expected: GlobalOptions, command: list[str]
) -> None:
    global_options, *_ = parse([*args, *command])
    assert global_options == expected


# The environment variables behind the global options (read by click, as in the product).
ENVIRONMENT: list[tuple[dict[str, str], GlobalOptions]] = [
    ({"SIPGATE_API_URL": "http://127.0.0.1:9/v2"}, GlobalOptions(api_url="http://127.0.0.1:9/v2")),
    ({"SIPGATE_PROFILE": "work"}, GlobalOptions(profile="work")),
    ({"SIPGATE_TUI_NO_INPUT": "1"}, GlobalOptions(no_input=True)),
    ({"SIPGATE_TUI_NO_INPUT": "true"}, GlobalOptions(no_input=True)),
    ({"SIPGATE_TUI_NO_INPUT": "0"}, GlobalOptions()),
    ({"SIPGATE_TUI_DEBUG": "1"}, GlobalOptions(debug=True)),
    ({"SIPGATE_TUI_ACCOUNT_TYPE": "neo"}, GlobalOptions(account_type="neo")),
    ({"SIPGATE_TUI_ACCOUNT_TYPE": " CLASSIC "}, GlobalOptions(account_type="classic")),
]


@pytest.mark.parametrize(
    ("variables", "expected"), ENVIRONMENT, ids=[str(e[0]) for e in ENVIRONMENT]
)
def test_global_options_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], expected: GlobalOptions
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    global_options, *_ = parse(["status"])
    assert global_options == expected


def test_a_flag_beats_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIPGATE_PROFILE", "home")
    monkeypatch.setenv("SIPGATE_TUI_ACCOUNT_TYPE", "neo")
    global_options, *_ = parse(["--profile", "work", "--account-type", "classic", "status"])
    assert (global_options.profile, global_options.account_type) == ("work", "classic")


@pytest.mark.parametrize(
    ("args", "variables"),
    [
        (["--account-type", "pbx", "status"], {}),
        (["--account-type", "unknown", "status"], {}),  # a finding, not a choice
        (["status"], {"SIPGATE_TUI_ACCOUNT_TYPE": "neo2"}),
    ],
    ids=["flag", "unknown", "variable"],
)
def test_an_account_type_that_is_no_choice_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, args: list[str], variables: dict[str, str]
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    seen: list[Invocation] = []
    with pytest.raises(typer.BadParameter) as caught:
        app(
            args,
            prog_name="sipgate-tui",
            standalone_mode=False,
            obj=lambda typer_ctx, invocation: seen.append(invocation),
        )
    assert "is not one of auto, classic, neo" in caught.value.format_message()
    assert seen == []


@pytest.mark.parametrize(
    "args",
    [
        ["call", "--timeout", "soon"],
        ["history", "--limit", "many"],
        ["status", "--no-input"],  # a global option after the command
        ["status", "--account-type", "neo"],
        ["--json", "status"],  # a command option before it
        ["config", "set", "region"],  # no value
        ["favourites", "add", "mom"],  # no number
        ["hangup", "a", "b"],  # one call id at most
        ["dial"],
    ],
    ids=" ".join,
)
def test_a_command_line_typer_rejects_runs_nothing(args: list[str]) -> None:
    seen: list[Invocation] = []
    with pytest.raises(typer.TyperException):
        app(
            args,
            prog_name="sipgate-tui",
            standalone_mode=False,
            obj=lambda typer_ctx, invocation: seen.append(invocation),
        )
    assert seen == []


def test_every_command_of_the_app_has_a_row() -> None:
    group = typer.main.get_command(app)
    commands = {name for name in group.commands}  # type: ignore[attr-defined]
    first_words = {row[0][0] for row in COMMANDS if row[0]} | {"demo"}
    assert commands == first_words
    for name in ("config", "favourites", "handler"):
        subcommands = set(group.commands[name].commands)  # type: ignore[attr-defined]
        rows = {args[1] for args, *_ in COMMANDS if args[:1] == [name] and len(args) > 1}
        assert subcommands <= rows, name


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["call", "--help"], ["config", "-h"]])
def test_help_and_version_dispatch_nothing(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[Invocation] = []
    app(
        args,
        prog_name="sipgate-tui",
        standalone_mode=False,
        obj=lambda typer_ctx, invocation: seen.append(invocation),
    )
    assert seen == []
    assert "sipgate-tui" in capsys.readouterr().out
