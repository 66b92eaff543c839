"""The Typer app: parse flags into options, build the real context, run, map errors to exit codes.

Nothing else lives here. Commands are imported inside their Typer functions so that ``--help``
does not pay for modules a command needs only when it runs.
"""

# No ``from __future__ import annotations`` here: Typer reads every command's signature at
# start-up, and string annotations would each have to be eval'ed (measured: several ms per call).
import contextlib
import copy
import logging
import os
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Optional

# The CLI is built with Typer; __main__ answers --version before this module is imported.
import typer  # noqa: TID253

from sipgate_tui import __version__, completion
from sipgate_tui.errors import AppError, Cancelled, ExitCode
from sipgate_tui.options import (
    ACCOUNT_TYPE_CHOICES,
    DEFAULT_API_URL,
    DEFAULT_PROFILE,
    ENV_ACCOUNT_TYPE,
    GlobalOptions,
)
from sipgate_tui.setting_keys import SETTING_KEYS, names_in_words

if TYPE_CHECKING:
    from typer.models import CommandInfo

    from sipgate_tui.context import AppContext

app = typer.Typer(
    name="sipgate-tui",
    help="Place phone calls through sipgate from your terminal: your phone rings first, "
    "then sipgate connects you to the number you chose.\n\n"
    "Run without a command for the guided mode: it logs you in if needed, then places a call.",
    invoke_without_command=True,
    # Completion from the user's own files, and --show-completion/--install-completion that
    # take the shell's name: sipgate_tui/completion.py (Typer's own flags would be a second pair).
    add_completion=False,
    cls=completion.CompletingGroup,
    pretty_exceptions_enable=False,  # we render every error ourselves
    pretty_exceptions_show_locals=False,  # locals would include the token
    # Plain help: Rich-formatted help costs about 60 ms more on every --help (measured with
    # benchmarks/run.py), twice the budget; the commands' own output keeps Rich.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"sipgate-tui {__version__}")
        raise typer.Exit()


# typer.Option is typed to return Any, so that it can stand in as any parameter's default; inside
# Annotated[...] it is what it really is, an OptionInfo, and these helpers say so.


def _flag(*names: str, help: str, envvar: str | None = None) -> typer.models.OptionInfo:
    # metavar="" keeps Typer from printing a "<bool>" type after on/off flags in --help.
    option: typer.models.OptionInfo = typer.Option(
        *names, help=help, envvar=envvar, metavar="", show_default=False
    )
    return option


def _value(
    *names: str,
    metavar: str,
    help: str,
    envvar: str | None = None,
    show_default: bool = True,
    autocompletion: Callable[..., list[tuple[str, str | None]]] | None = None,
) -> typer.models.OptionInfo:
    option: typer.models.OptionInfo = typer.Option(
        *names,
        metavar=metavar,
        help=help,
        envvar=envvar,
        show_default=show_default,
        autocompletion=autocompletion,
    )
    return option


def _account_type(value: str) -> str:
    """``--account-type`` (or SIPGATE_TUI_ACCOUNT_TYPE) checked: any other word is a usage
    error before anything runs."""
    word = (value or "").strip().lower()
    if word not in ACCOUNT_TYPE_CHOICES:
        raise typer.BadParameter(f"'{value[:20]}' is not one of {', '.join(ACCOUNT_TYPE_CHOICES)}.")
    return word


@app.callback()
def main_options(
    typer_ctx: typer.Context,
    api_url: Annotated[
        str,
        _value(
            "--api-url",
            metavar="URL",
            envvar="SIPGATE_API_URL",
            help="sipgate REST API base URL. Plain http:// only for loopback addresses.",
            show_default=True,
        ),
    ] = DEFAULT_API_URL,
    profile: Annotated[
        str,
        _value(
            "--profile",
            metavar="NAME",
            envvar="SIPGATE_PROFILE",
            help="Which stored credentials to use, for people with several sipgate accounts.",
            show_default=True,
            autocompletion=completion.profiles,
        ),
    ] = DEFAULT_PROFILE,
    no_input: Annotated[
        bool,
        _flag(
            "--no-input",
            envvar="SIPGATE_TUI_NO_INPUT",
            help="Never prompt; a missing value is an error.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        _flag(
            "--debug",
            envvar="SIPGATE_TUI_DEBUG",
            help="Log HTTP requests and answers to stderr, the token redacted.",
        ),
    ] = False,
    account_type: Annotated[
        str,
        typer.Option(
            "--account-type",
            metavar="auto|classic|neo",
            envvar=ENV_ACCOUNT_TYPE,
            callback=_account_type,
            help="classic or neo (sipgate Neo) forces the account type when detection is "
            "wrong; auto (the default) detects it, or takes the setting account-type.",
            show_default=False,
        ),
    ] = "auto",
    version: Annotated[
        Optional[bool],  # noqa: UP045 - Typer needs Optional on Python 3.10
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            metavar="",
            help="Show the version and exit.",
        ),
    ] = None,
) -> None:
    """Global options; before or after the command (sipgate-tui --no-input call ...)."""
    if typer_ctx.obj is not None:  # a dispatcher handed in as click's obj (see _dispatch)
        typer_ctx.meta[_DISPATCH] = typer_ctx.obj
    typer_ctx.obj = GlobalOptions(
        api_url=api_url,
        no_input=no_input,
        debug=debug,
        profile=profile,
        account_type=account_type,
    )
    if typer_ctx.invoked_subcommand is None:
        from sipgate_tui.commands import guided

        _dispatch(typer_ctx, Invocation(guided.run))


JsonOption = Annotated[
    bool, _flag("--json", help="Print one JSON document on stdout instead of panels; never asks.")
]
TimeoutOption = Annotated[
    Optional[float],  # noqa: UP045
    _value(
        "--timeout",
        metavar="SECONDS",
        help="Seconds each whole request may take, from connecting to the answer's last "
        "byte (default 20 s: 5 s to connect, 15 s per wait).",
        show_default=False,
    ),
]


@app.command(
    short_help="Place a call; asks for anything missing.",
    help="Place a call: your phone rings first, then sipgate calls CALLEE.\n\n"
    "In a terminal it asks for anything missing, shows a summary and asks to confirm. "
    "Without a terminal (or with --no-input or --json) it never asks: pass CALLEE and --device, "
    "and --yes to really place the call. Example: sipgate-tui call 0157 99912345 -d e0",
)
def call(
    typer_ctx: typer.Context,
    callee: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(
            metavar="CALLEE",
            help="The number to call, spaces allowed: +49 157 99912345, 0157 99912345; a "
            "contact's or favourite's name; or a tel:, callto: or sip: link. Tones after the "
            "number (+49 69 71049922,,855123#: ',' pauses, ';' waits for Enter) are dialled "
            "once the call is connected.",
            show_default=False,
            autocompletion=completion.callee_names,
        ),
    ] = None,
    device: Annotated[
        Optional[str],  # noqa: UP045
        _value(
            "--device",
            "-d",
            metavar="ID",
            help="Device id of the phone that rings first, such as e0 (sent as caller).",
            show_default=False,
            autocompletion=completion.devices,
        ),
    ] = None,
    caller: Annotated[
        Optional[str],  # noqa: UP045
        _value(
            "--caller",
            metavar="NUMBER",
            help="Advanced: a phone number that rings first instead (e.g. a group's number); "
            "needs --device, which is then sent as deviceId.",
            show_default=False,
        ),
    ] = None,
    caller_id: Annotated[
        Optional[str],  # noqa: UP045
        _value(
            "--caller-id",
            metavar="NUMBER",
            help="Number shown to the callee (one of yours); default: the phone's own number.",
            show_default=False,
        ),
    ] = None,
    region: Annotated[
        Optional[str],  # noqa: UP045
        _value(
            "--region",
            metavar="CC",
            help="Country for numbers written without country code (default: the config's "
            "region, else DE).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[bool, _flag("--yes", "-y", help="Place the call without asking to confirm.")] = (
        False
    ),
    dry_run: Annotated[
        bool,
        _flag(
            "--dry-run",
            help="Show the exact request (token masked) and send nothing. Needs no credentials.",
        ),
    ] = False,
    channel: Annotated[
        Optional[str],  # noqa: UP045
        _value(
            "--channel",
            metavar="ID",
            help="sipgate Neo: the channel the call goes through (default: the one that holds "
            "the phone; asked when there are several).",
            show_default=False,
        ),
    ] = None,
    no_history: Annotated[
        bool, _flag("--no-history", help="Do not add this number to the recent numbers.")
    ] = False,
    no_wait: Annotated[
        bool,
        _flag(
            "--no-wait",
            help="Do not follow the call after the dial (in a terminal, with rtcm:read, "
            "sipgate-tui shows when it connects and lets you hang up).",
        ),
    ] = False,
    dtmf: Annotated[
        Optional[str],  # noqa: UP045
        _value(
            "--dtmf",
            metavar="TONES",
            help="Keypad tones to dial once the call is connected, such as ',,85512345678#' "
            "(a meeting PIN; ',' pauses about 2 s, ';' waits for Enter). Needs rtcm:write.",
            show_default=False,
        ),
    ] = None,
    from_desktop: Annotated[
        bool,
        _flag(
            "--from-desktop",
            help="Used by the desktop link handler (`sipgate-tui handler install`): the link "
            "is untrusted, so the summary is always shown and confirmed (never --yes), "
            "premium-rate numbers are refused, and the window stays open until Enter.",
        ),
    ] = False,
    json_output: JsonOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Place a call (the help text is in the decorator, where Typer reads it unwrapped)."""
    from sipgate_tui.commands import call as call_command

    options = call_command.CallOptions(
        callee=" ".join(callee) if callee else None,
        device=device,
        caller=caller,
        caller_id=caller_id,
        region=region,
        yes=yes,
        dry_run=dry_run,
        json=json_output,
        timeout=timeout,
        history=not no_history,
        wait=not no_wait,
        channel=channel,
        dtmf=dtmf,
        from_desktop=from_desktop,
    )
    invocation = Invocation(
        call_command.run, options, json_mode=json_output, hold_window=from_desktop
    )
    _dispatch(typer_ctx, invocation)


@app.command(
    short_help="Check a token, then keep it in your keyring.",
    help="Store a sipgate personal access token in your OS keyring, after checking it with "
    "sipgate.\n\n"
    "Explains where to create the token and which scopes to tick, asks for the token id and the "
    "token (hidden), verifies them and shows which features the token unlocks. Nothing is "
    "stored if sipgate does not accept the token. Never writes a plain-text file: without a "
    "usable keyring it stops (exit 7) and explains the ways out. For scripts: "
    "printf '%s' \"$TOKEN\" | sipgate-tui login --token-id token-ABC123 --token-stdin",
)
def login(
    typer_ctx: typer.Context,
    token_id: Annotated[
        Optional[str],  # noqa: UP045
        _value("--token-id", metavar="ID", help="The token id (token-…).", show_default=False),
    ] = None,
    token_stdin: Annotated[
        bool,
        _flag(
            "--token-stdin",
            help="Read the token from stdin (never pass it as an argument: the process list is "
            "readable by others).",
        ),
    ] = False,
    json_output: JsonOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Log in (help text in the decorator)."""
    from sipgate_tui.commands import login as login_command

    options = login_command.LoginOptions(
        token_id=token_id, token_stdin=token_stdin, json=json_output, timeout=timeout
    )
    _dispatch(typer_ctx, Invocation(login_command.run, options, json_mode=json_output))


@app.command(
    short_help="Show the credentials, check them, list scopes.",
    help="Show the credentials in use, check them with sipgate, and list what they may do.\n\n"
    "Says where the credentials come from (environment or keyring, and which backend), shows "
    "the token id and the token masked, checks them live and probes which features the token "
    "unlocks. Exit code 3 when there are no working credentials.\n\n"
    "--all checks every stored profile, one row each (--json: a list); the exit code is the "
    "worst of theirs.",
)
def status(
    typer_ctx: typer.Context,
    json_output: JsonOption = False,
    timeout: TimeoutOption = None,
    all_profiles: Annotated[
        bool, _flag("--all", help="Check every stored profile, one row each.")
    ] = False,
) -> None:
    """Status (help text in the decorator)."""
    from sipgate_tui.commands import status as status_command

    options = status_command.StatusOptions(
        json=json_output,
        timeout=timeout,
        all=all_profiles,
        profile_from=_profile_source(typer_ctx),
    )
    _dispatch(typer_ctx, Invocation(status_command.run, options, json_mode=json_output))


@app.command(
    short_help="List the stored profiles and which one is in use.",
    help="List the profiles with a stored token: name, token id, the token masked, where it "
    "is kept, and which one commands use now and why (--profile, SIPGATE_PROFILE, the "
    "default, or SIPGATE_TOKEN_ID and SIPGATE_TOKEN in the environment, which beat them "
    "all).\n\n"
    "Reads each profile's item from the keyring (nothing is sent to sipgate; `status --all` "
    "checks them). Exit code 7 when the keyring could not be read.",
)
def profiles(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Profiles (help text in the decorator)."""
    from sipgate_tui.commands import profiles as profiles_command

    options = profiles_command.ProfilesOptions(
        json=json_output, profile_from=_profile_source(typer_ctx)
    )
    _dispatch(typer_ctx, Invocation(profiles_command.run, options, json_mode=json_output))


def _profile_source(typer_ctx: typer.Context) -> str:
    """Where the global --profile came from: ``--profile``, ``SIPGATE_PROFILE`` or ``default``."""
    parent = typer_ctx.parent
    source = parent.get_parameter_source("profile") if parent is not None else None
    # By the enum's name: Typer now carries its own copy of click's ParameterSource.
    name = getattr(source, "name", "")
    return {"COMMANDLINE": "--profile", "ENVIRONMENT": "SIPGATE_PROFILE"}.get(name, "default")


@app.command(
    short_help="Remove the stored token from the keyring.",
    help="Remove this profile's stored token from the keyring.\n\n"
    "Says which token it removed; running it twice is fine. SIPGATE_TOKEN_ID and SIPGATE_TOKEN, "
    "if set, still apply afterwards.",
)
def logout(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Logout (help text in the decorator)."""
    from sipgate_tui.commands import logout as logout_command

    options = logout_command.LogoutOptions(json=json_output)
    _dispatch(typer_ctx, Invocation(logout_command.run, options, json_mode=json_output))


@app.command(
    short_help="List your phones and whether they are online.",
    help="List your phones: id, name, type, online, do-not-disturb and phonelines.\n\n"
    "Offline phones stand out: sipgate accepts calls for them, but nothing rings. "
    "Needs the token scope devices:read. --json prints the API's device objects.",
)
def devices(
    typer_ctx: typer.Context, json_output: JsonOption = False, timeout: TimeoutOption = None
) -> None:
    """Devices (help text in the decorator)."""
    from sipgate_tui.commands import lists

    options = lists.ListOptions(json=json_output, timeout=timeout)
    _dispatch(typer_ctx, Invocation(lists.devices, options, json_mode=json_output))


@app.command(
    short_help="List your account's numbers.",
    help="List your account's numbers: international format, type, and where they ring.\n\n"
    "Needs the token scope numbers:read. --json prints the API's number objects with "
    "number in E.164.",
)
def numbers(
    typer_ctx: typer.Context, json_output: JsonOption = False, timeout: TimeoutOption = None
) -> None:
    """Numbers (help text in the decorator)."""
    from sipgate_tui.commands import lists

    options = lists.ListOptions(json=json_output, timeout=timeout)
    _dispatch(typer_ctx, Invocation(lists.numbers, options, json_mode=json_output))


@app.command(
    short_help="List the active calls; --watch keeps the list live.",
    help="List the account's active (established) calls: call id, participants, duration, "
    "hold and mute.\n\n"
    "Needs the token scope rtcm:read. Ringing calls are not listed (sipgate shows only "
    "established ones). --watch refreshes the list until you press q; --json prints the "
    "API's call objects.",
)
def calls(
    typer_ctx: typer.Context,
    watch: Annotated[
        bool,
        _flag(
            "--watch",
            help="Refresh every 2 s until q or Ctrl-C (without a terminal: print once).",
        ),
    ] = False,
    json_output: JsonOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Calls (help text in the decorator)."""
    from sipgate_tui.commands import calls as calls_command

    options = calls_command.CallsOptions(json=json_output, watch=watch, timeout=timeout)
    _dispatch(typer_ctx, Invocation(calls_command.calls, options, json_mode=json_output))


@app.command(
    short_help="Hang up a call (or pick one, or --all).",
    help="Hang up an active call.\n\n"
    "With a CALL_ID (see `sipgate-tui calls`) that call; without one, pick it from the "
    "active calls; --all hangs up every active call, after a confirmation (--yes skips it). "
    "Needs the token scope rtcm:write.",
)
def hangup(
    typer_ctx: typer.Context,
    call_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(metavar="CALL_ID", help="The call to end.", show_default=False),
    ] = None,
    all_calls: Annotated[bool, _flag("--all", help="Hang up every active call.")] = False,
    yes: Annotated[bool, _flag("--yes", "-y", help="Do not ask to confirm --all.")] = False,
    json_output: JsonOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Hangup (help text in the decorator)."""
    from sipgate_tui.commands import calls as calls_command

    options = calls_command.HangupOptions(
        call_id=call_id, all=all_calls, yes=yes, json=json_output, timeout=timeout
    )
    _dispatch(typer_ctx, Invocation(calls_command.hangup, options, json_mode=json_output))


@app.command(
    short_help="Your last outgoing calls.",
    help="Show your last outgoing calls: to whom, when, how long, and how they ended.\n\n"
    "Needs the token scope history:read; on sipgate Neo accounts the calls come from your "
    "channels' call events (scope channels:read), merged with /history on migrated accounts.\n\n"
    "--missed lists the missed incoming calls instead: who, when, how many times, and whether "
    "you called back since (a call from here or in the history).",
)
def history(
    typer_ctx: typer.Context,
    limit: Annotated[int, _value("--limit", metavar="N", help="How many calls (1 to 1000).")] = 20,
    missed: Annotated[
        bool, _flag("--missed", help="The missed incoming calls, and whether called back.")
    ] = False,
    json_output: JsonOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """History (help text in the decorator)."""
    from sipgate_tui.commands import calls as calls_command

    options = calls_command.HistoryOptions(
        limit=limit, json=json_output, timeout=timeout, missed=missed
    )
    _dispatch(typer_ctx, Invocation(calls_command.history, options, json_mode=json_output))


@app.command(
    short_help="Your account's contacts; SEARCH finds names, companies, numbers.",
    help="List the contacts of your sipgate phonebooks (shared, private, internal): name, "
    "number, type and phonebook.\n\n"
    "SEARCH finds a name, part of one, a company or digits, best match first, ignoring case "
    "and accents (muller and mueller find Müller). The contacts are kept on this computer for "
    "a day (in the cache directory, or SIPGATE_TUI_CACHE_DIR); --refresh fetches them now. "
    "Needs the token scope contacts:read. --json prints the contacts with each number as "
    "written, its type and its E.164 form (null when it cannot be dialled).",
)
def contacts(
    typer_ctx: typer.Context,
    search: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(
            metavar="SEARCH",
            help="A name, part of one, a company or digits; spaces allowed.",
            show_default=False,
        ),
    ] = None,
    refresh: Annotated[
        bool, _flag("--refresh", help="Fetch the contacts now, not from the cache.")
    ] = False,
    json_output: JsonOption = False,
    timeout: TimeoutOption = None,
) -> None:
    """Contacts (help text in the decorator)."""
    from sipgate_tui.commands import contacts as contacts_command

    options = contacts_command.ContactsOptions(
        search=" ".join(search) if search else None,
        refresh=refresh,
        json=json_output,
        timeout=timeout,
    )
    _dispatch(typer_ctx, Invocation(contacts_command.run, options, json_mode=json_output))


config_app = typer.Typer(
    help="Show or change remembered settings (" + names_in_words("and") + ").\n\n"
    "Without a subcommand: the settings and the paths of config.toml and of the recent-numbers "
    "file. sipgate-tui writes config.toml only when you ask it to here.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
)
app.add_typer(config_app, name="config", short_help="Show or change remembered settings.")


@config_app.callback()
def config_show(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the settings (help text on the Typer)."""
    if typer_ctx.invoked_subcommand is None:
        _settings(typer_ctx, json_output, action="show")


def _complete_setting(incomplete: str) -> list[str]:
    """The keys `config set/unset` take, for shell completion."""
    return [key.name for key in SETTING_KEYS if key.name.startswith(incomplete)]


@config_app.command(
    "set",
    help="Set a setting: " + ", ".join(f"{key.name} ({key.takes})" for key in SETTING_KEYS) + ".",
)
def config_set(
    typer_ctx: typer.Context,
    key: Annotated[
        str,
        typer.Argument(
            metavar="KEY",
            help=names_in_words() + ".",
            autocompletion=_complete_setting,
        ),
    ],
    value: Annotated[
        list[str],
        typer.Argument(
            metavar="VALUE", help="The new value.", autocompletion=completion.setting_values
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Set (help text in the decorator)."""
    _settings(typer_ctx, json_output, action="set", key=key, value=" ".join(value))


@config_app.command(
    "clear-recent", help="Forget this profile's recent numbers and the phone used last."
)
def config_clear_recent(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Clear recents (help text in the decorator)."""
    _settings(typer_ctx, json_output, action="clear-recent")


@config_app.command("unset", help="Remove a setting, so the built-in default applies again.")
def config_unset(
    typer_ctx: typer.Context,
    key: Annotated[
        str,
        typer.Argument(
            metavar="KEY", help="The setting to remove.", autocompletion=_complete_setting
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Unset (help text in the decorator)."""
    _settings(typer_ctx, json_output, action="unset", key=key)


def _settings(typer_ctx: typer.Context, json_output: bool, **fields: str) -> None:
    from sipgate_tui.commands import settings_commands

    options = settings_commands.ConfigOptions(json=json_output, **fields)
    _dispatch(typer_ctx, Invocation(settings_commands.config, options, json_mode=json_output))


favourites_app = typer.Typer(
    help="Numbers you call by name: sipgate-tui call mom.\n\n"
    "Without a subcommand: the list. They live in config.toml, per profile.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
)
app.add_typer(favourites_app, name="favourites", short_help="Numbers you call by name.")
app.add_typer(favourites_app, name="favorites", hidden=True)


@favourites_app.callback()
def favourites_list(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List favourites (help text on the Typer)."""
    if typer_ctx.invoked_subcommand is None:
        _favourites(typer_ctx, json_output, action="list")


@favourites_app.command("add", help="Add or replace a favourite: favourites add mom 0157 99912345")
def favourites_add(
    typer_ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="A word, e.g. mom.")],
    number: Annotated[
        list[str], typer.Argument(metavar="NUMBER", help="The number, spaces allowed.")
    ],
    json_output: JsonOption = False,
) -> None:
    """Add (help text in the decorator)."""
    _favourites(typer_ctx, json_output, action="add", name=name, number=" ".join(number))


@favourites_app.command("list", help="List the favourites (the same as no subcommand).")
def favourites_list_command(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List (help text in the decorator)."""
    _favourites(typer_ctx, json_output, action="list")


@favourites_app.command("remove", help="Remove a favourite by name.")
def favourites_remove(
    typer_ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME", help="The favourite's name.", autocompletion=completion.favourites
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Remove (help text in the decorator)."""
    _favourites(typer_ctx, json_output, action="remove", name=name)


def _favourites(typer_ctx: typer.Context, json_output: bool, **fields: str) -> None:
    from sipgate_tui.commands import settings_commands

    options = settings_commands.FavouriteOptions(json=json_output, **fields)
    _dispatch(typer_ctx, Invocation(settings_commands.favourites, options, json_mode=json_output))


handler_app = typer.Typer(
    help="Open tel:, callto: and sip: links (from a browser, a mail) with sipgate-tui.\n\n"
    "For your user only: a desktop entry and the default for those links, the handlers "
    "they had before recorded, so `handler uninstall` gives them back. Without a "
    "subcommand: the status.",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
)
app.add_typer(handler_app, name="handler", short_help="Open tel: links with sipgate-tui.")


@handler_app.callback()
def handler_show(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the link handler's status (help text on the Typer)."""
    if typer_ctx.invoked_subcommand is None:
        _handler(typer_ctx, json_output, action="status")


@handler_app.command(
    "install",
    help="Make sipgate-tui the handler of tel:, callto:, sip: and sips: links; says which "
    "app had them. On macOS and Windows: prints the steps to do it by hand (exit 7).",
)
def handler_install(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Install (help text in the decorator)."""
    _handler(typer_ctx, json_output, action="install")


@handler_app.command(
    "uninstall",
    help="Give the links back to the apps that had them, and remove sipgate-tui's entry.",
)
def handler_uninstall(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Uninstall (help text in the decorator)."""
    _handler(typer_ctx, json_output, action="uninstall")


@handler_app.command(
    "status", help="Which app handles each kind of link now, and whether ours still works."
)
def handler_status(typer_ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Status (help text in the decorator)."""
    _handler(typer_ctx, json_output, action="status")


def _handler(typer_ctx: typer.Context, json_output: bool, *, action: str) -> None:
    from sipgate_tui.commands import handler

    options = handler.HandlerOptions(action=action, json=json_output)
    _dispatch(typer_ctx, Invocation(handler.run, options, json_mode=json_output))


@app.command(
    short_help="Try it safely: the guided flow against a simulated account.",
    help="Try sipgate-tui safely: the whole guided flow (login with a fake token, pickers, the "
    "offline warning, the confirmation, the result) against a simulated sipgate account on "
    "this machine.\n\n"
    "No real call is placed, nothing goes over the network, and your keyring, config and "
    "SIPGATE_* variables are not used. In a terminal you answer the questions; without one "
    "(or with --no-input) it plays a recorded walkthrough.",
)
def demo(
    typer_ctx: typer.Context,
    neo: Annotated[
        bool, _flag("--neo", help="Play a sipgate Neo account (calls go through a channel).")
    ] = False,
) -> None:
    """Demo (help text in the decorator)."""
    from sipgate_tui.commands import demo as demo_command

    options = demo_command.DemoOptions(neo=neo)
    _dispatch(typer_ctx, Invocation(demo_command.run, options, check_globals=False))


class Invocation:
    """What one command line asks for: the command's run function, its options, ``--json``.

    The Typer functions above only parse flags into options and build this; :func:`_dispatch`
    hands it on. ``run`` is called as ``run(options, ctx)``, or ``run(ctx)`` for the commands
    that take no options (the guided mode, the demo).
    """

    __slots__ = ("check_globals", "hold_window", "json_mode", "options", "run")

    def __init__(
        self,
        run: Callable[..., ExitCode],
        options: object = None,
        *,
        json_mode: bool = False,
        check_globals: bool = True,  # the demo ignores --api-url and --profile: it has its own
        hold_window: bool = False,  # wait for Enter at the end (a terminal the desktop opened)
    ) -> None:
        self.run = run
        self.options = options
        self.json_mode = json_mode
        self.check_globals = check_globals
        self.hold_window = hold_window

    def __call__(self, ctx: "AppContext") -> ExitCode:
        """Run the command on ``ctx``."""
        return self.run(ctx) if self.options is None else self.run(self.options, ctx)

    def __repr__(self) -> str:
        return (
            f"Invocation({self.run.__module__}.{self.run.__qualname__}, {self.options!r}, "
            f"json_mode={self.json_mode}, check_globals={self.check_globals})"
        )


# Where main_options keeps a dispatcher handed in by the caller (click's meta is one dict
# shared by the whole tree of contexts, so every subcommand finds it).
_DISPATCH = "sipgate_tui.dispatch"


def _dispatch(typer_ctx: typer.Context, invocation: Invocation) -> None:
    """Carry out a parsed command line: run it with the real context, unless the caller of
    ``app`` handed in its own dispatcher as click's ``obj``: ``app(args, obj=dispatch)``
    with ``dispatch(typer_ctx, invocation)``. That is how a test sees the options a command
    line produces (``typer_ctx.obj`` holds the global options) without running anything."""
    dispatch: Callable[[typer.Context, Invocation], None] = typer_ctx.meta.get(
        _DISPATCH, _execute_invocation
    )
    dispatch(typer_ctx, invocation)


def _execute_invocation(typer_ctx: typer.Context, invocation: Invocation) -> None:
    _execute(
        typer_ctx,
        invocation.json_mode,
        invocation,
        check_globals=invocation.check_globals,
        hold_window=invocation.hold_window,
    )


def _execute(
    typer_ctx: typer.Context,
    json_mode: bool,
    command: Callable[["AppContext"], ExitCode],
    *,
    check_globals: bool = True,
    hold_window: bool = False,
) -> None:
    """Run a command with the real context; every outcome becomes one message and an exit code
    (``hold_window``: then wait for Enter, so a terminal the desktop opened stays readable)."""
    from sipgate_tui import render
    from sipgate_tui.context import build_context, check_api_url
    from sipgate_tui.credentials import check_profile

    global_options: GlobalOptions = typer_ctx.obj or GlobalOptions()
    if global_options.debug:
        _enable_debug_log()
    ctx: AppContext | None = None
    try:
        if check_globals:  # the demo ignores them: its API and profile are its own
            global_options = global_options._replace(
                api_url=check_api_url(global_options.api_url),
                profile=check_profile(global_options.profile),
            )
        ctx = build_context(global_options)
        code = command(ctx)
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM/SIGHUP (__main__ turns them into this)
        accepted = _after_the_fact(ctx, json_mode, "was interrupted")
        code = _report(ctx, json_mode, Cancelled(), render) if accepted is None else accepted
    except AppError as error:
        code = _report(ctx, json_mode, error, render)
    except typer.Exit:
        raise
    except Exception as error:  # noqa: BLE001 - a bug: one clear message, not a traceback
        if global_options.debug:
            import traceback

            from sipgate_tui.known_secrets import scrub

            # Exception messages are not ours to control: scrub any token out of them.
            sys.stderr.write(scrub(traceback.format_exc()))
        accepted = _after_the_fact(ctx, json_mode, f"hit a bug ({type(error).__name__})")
        code = _report(ctx, json_mode, _bug(error, ctx), render) if accepted is None else accepted
    if ctx is not None and ctx.output_error is not None:
        _note_lost_output(ctx.output_error)
    if hold_window:
        from sipgate_tui.commands.desktop_call import hold_window as wait_for_enter

        wait_for_enter(ctx)
    raise typer.Exit(int(code))


def _bug(error: Exception, ctx: "AppContext | None") -> AppError:
    """The panel for a bug; once a call request went out, it may have placed the call, and
    advice to run the command again could ring the phone twice."""
    name = type(error).__name__
    if ctx is not None and ctx.calls_sent()[0]:
        return AppError(
            "internal-error",
            f"sipgate-tui hit a bug ({name}) after the call request was sent: the call may "
            "have been placed.",
            hint="Check your phone (or `sipgate-tui calls`) before trying again, so nobody is "
            "called twice. Please report the bug; --debug shows its traceback.",
            after_call_sent=True,
        )
    return AppError(
        "internal-error",
        f"sipgate-tui hit a bug ({name}).",
        hint="Run the command again with --debug to see the traceback, and report it.",
    )


def _after_the_fact(ctx: "AppContext | None", json_mode: bool, what: str) -> ExitCode | None:
    """After sipgate accepted the call, a bug or a signal changes nothing about it: say so,
    and exit 0 (the outcome scripts rely on). None when no call was accepted."""
    accepted = ctx.calls_sent()[1] if ctx is not None else None
    if ctx is None or accepted is None:
        return None
    note = (
        f"The call was accepted (id {accepted}) before sipgate-tui {what}: "
        f"`sipgate-tui calls` shows it, `sipgate-tui hangup {accepted}` ends it."
    )
    with contextlib.suppress(OSError):
        if json_mode and not ctx.json_written:
            document = {"ok": True, "sessionId": accepted, "callId": accepted}
            ctx.emit_json({**document, "warnings": [note]})
        elif not json_mode:  # wrapped at words, like every other message
            ctx.err.print(f"sipgate-tui: {note}", markup=False, highlight=False)
    return ExitCode.OK


def _note_lost_output(error: OSError) -> None:
    """Say on stderr that stdout was lost, except for a closed pipe (``| head``: expected)."""
    import errno

    if error.errno == errno.EPIPE:
        return
    with contextlib.suppress(OSError):
        sys.stderr.write(
            f"sipgate-tui: could not write the output ({error.strerror or error}); the exit "
            "code still tells what happened.\n"
        )


def _report(
    ctx: "AppContext | None", json_mode: bool, error: AppError, render: ModuleType
) -> ExitCode:
    if ctx is None:  # the context itself could not be built: plain consoles will do
        from sipgate_tui.context import build_context

        ctx = build_context(GlobalOptions())
    try:
        if json_mode:
            ctx.emit_json(error.to_json())
        elif isinstance(error, Cancelled):
            ctx.err.print(render.cancelled(error))
        else:
            ctx.err.print(render.problem(error))
    except OSError:
        pass  # stderr is gone too; the exit code is all that is left to say it
    return error.exit_code


def _enable_debug_log() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("debug: %(message)s"))
    logger = logging.getLogger("sipgate_tui")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


GLOBAL_FLAGS = ("--no-input", "--debug")
GLOBAL_VALUES = ("--api-url", "--profile", "--account-type")
# Moved before the command when given after it (hoist_global_options), except --version.
GLOBAL_OPTIONS = (*GLOBAL_VALUES, *GLOBAL_FLAGS, "--version")
COMMAND_OPTIONS = ("--json", "--timeout", "--yes", "--dry-run", "--device")


def main() -> None:
    """Console-script entry point.

    Typer's own usage errors (an unknown option, a value of the wrong type) are rendered like
    every other problem, with a hint for the usual slip of putting an option on the wrong side
    of the command; with ``--json`` anywhere on the line they come out as the JSON error
    document, so scripts parse one shape.
    """
    try:
        args = hoist_global_options(sys.argv[1:])
        code = command_tree(args, os.environ)(
            args=args, prog_name="sipgate-tui", standalone_mode=False
        )
    except typer.TyperException as error:  # Typer's (vendored click's) usage errors
        code = ExitCode.USAGE
        _show_usage_error(_usage_problem(error), json_mode="--json" in sys.argv[1:])
    except typer.Abort:
        code = ExitCode.CANCELLED
        _show_usage_error(Cancelled(), json_mode="--json" in sys.argv[1:])
    sys.exit(int(code) if isinstance(code, int) else 0)


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the global options given after the command moved before it.

    Hints say "run it again with --debug", and people add it at the end: the command line
    ``sipgate-tui call 0157 99912345 --debug`` means what ``sipgate-tui --debug call ...``
    means. Nothing after ``--`` moves, nor a valued option missing its value.
    """
    start = _command_index(args)
    if start is None:
        return list(args)
    hoisted: list[str] = []
    rest: list[str] = []
    index = start + 1
    while index < len(args):
        word = args[index]
        if word == "--":
            rest.extend(args[index:])
            break
        if word in GLOBAL_FLAGS or (word.split("=", 1)[0] in GLOBAL_VALUES and "=" in word):
            hoisted.append(word)
        elif word in GLOBAL_VALUES and index + 1 < len(args):
            hoisted.extend(args[index : index + 2])
            index += 1
        else:
            rest.append(word)
        index += 1
    return [*args[:start], *hoisted, args[start], *rest]


def _command_index(args: list[str]) -> int | None:
    """Where the command's name is in ``args`` (after the global options), or None."""
    start = 0
    while start < len(args) and args[start].startswith("-") and args[start] != "--":
        takes_value = args[start] in GLOBAL_VALUES
        start += 2 if takes_value else 1
    if start >= len(args) or args[start] == "--":
        return None
    return start


def command_tree(args: list[str], env: Mapping[str, str]) -> typer.Typer:
    """The app to run ``args`` with: only the command they name, when they name one exactly.

    Typer turns every registered command into a click command on every run, reading each
    function's signature: about 10 ms for the two dozen commands on a one-shot dial
    (benchmarks/run.py), for commands the run never looks at. The root's own options and
    callback stay. The whole tree is built where more than one command can show: no command
    (the guided mode, ``--help``), a name that is not exact (click's "No such command" and its
    suggestion), and shell completion, which lists the commands.
    """
    index = _command_index(args)
    if index is None or completion.COMPLETE_VAR in env:
        return app
    name = args[index]
    commands = [info for info in app.registered_commands if _command_name(info) == name]
    groups = [info for info in app.registered_groups if info.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands = commands
    narrowed.registered_groups = groups
    return narrowed


def _command_name(info: "CommandInfo") -> str | None:
    """The name a command is typed by, as Typer derives it (``typer.main.get_command_name``)."""
    if info.name:
        return info.name
    callback = info.callback
    return callback.__name__.lower().replace("_", "-") if callback is not None else None


def _usage_problem(error: typer.TyperException) -> AppError:
    message = error.format_message()
    command = getattr(getattr(error, "ctx", None), "command_path", None) or "sipgate-tui"
    misplaced: str | None = None  # the hint for an option on the wrong side of the command
    for option in GLOBAL_OPTIONS:
        if f"No such option: {option}" in message:
            typed = command.split()[-1] if command != "sipgate-tui" else "status"
            misplaced = (
                f"{option} is a global option: it goes before the command, e.g. "
                f"sipgate-tui {option} … {typed}."
            )
    for option in COMMAND_OPTIONS:
        if f"No such option: {option}" in message and command == "sipgate-tui":
            misplaced = (
                f"{option} belongs to a command: put it after it, e.g. sipgate-tui status {option}."
            )
    if misplaced is None:
        return AppError("usage", message, hint=f"Run `{command} --help` to see the options.")
    # click's "(Possible options: ...)" guesses among the wrong command's options.
    return AppError("usage", message.split(" (Possible options:")[0], hint=misplaced)


def _show_usage_error(error: AppError, *, json_mode: bool) -> None:
    if json_mode:
        import json

        with contextlib.suppress(OSError):
            sys.stdout.write(json.dumps(error.to_json()) + "\n")
            sys.stdout.flush()
        return
    from rich.console import Console

    from sipgate_tui import render

    with contextlib.suppress(OSError):
        Console(stderr=True, highlight=False).print(
            render.cancelled(error) if isinstance(error, Cancelled) else render.problem(error)
        )
