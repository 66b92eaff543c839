"""The Typer app: parse flags into options, build the real context, run, map errors to exit codes.

Nothing else lives here. Commands are imported inside their Typer functions so that ``--help``
does not pay for modules a command needs only when it runs.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Optional

import typer

from sipgate_tui import __version__
from sipgate_tui.api import DEFAULT_API_URL
from sipgate_tui.context import AppContext, GlobalOptions
from sipgate_tui.errors import AppError, Cancelled, ExitCode

app = typer.Typer(
    name="sipgate-tui",
    help="Place phone calls through sipgate from your terminal: your phone rings first, "
    "then sipgate connects you to the number you chose.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,  # we render every error ourselves
    pretty_exceptions_show_locals=False,  # locals would include the token
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"sipgate-tui {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    typer_ctx: typer.Context,
    api_url: Annotated[
        str,
        typer.Option(
            "--api-url",
            envvar="SIPGATE_API_URL",
            help="sipgate REST API base URL. Plain http:// only for loopback addresses.",
            show_default=True,
        ),
    ] = DEFAULT_API_URL,
    no_input: Annotated[
        bool,
        typer.Option(
            "--no-input",
            envvar="SIPGATE_TUI_NO_INPUT",
            help="Never prompt; a missing value is an error (also SIPGATE_TUI_NO_INPUT=1).",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="SIPGATE_TUI_DEBUG",
            help="Log HTTP requests and answers to stderr (the token redacted), and "
            "tracebacks of bugs.",
        ),
    ] = False,
    version: Annotated[
        Optional[bool],  # noqa: UP045 - Typer needs Optional on Python 3.10
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = None,
) -> None:
    """Global options; they go before the command (sipgate-tui --no-input call ...)."""
    typer_ctx.obj = GlobalOptions(api_url=api_url, no_input=no_input, debug=debug)


@app.command(
    help="Place a call: your phone rings first, then sipgate calls CALLEE.\n\n"
    "In a terminal it asks for anything missing, shows a summary and asks to confirm. "
    "Without a terminal (or with --no-input or --json) it never asks: pass CALLEE and --device, "
    "and --yes to really place the call.",
)
def call(
    typer_ctx: typer.Context,
    callee: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(
            metavar="CALLEE",
            help="The number to call, e.g. +4915799912345 or 0157 99912345.",
            show_default=False,
        ),
    ] = None,
    device: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--device",
            "-d",
            help="Device id of the phone that rings first, such as e0 (sent as caller).",
            show_default=False,
        ),
    ] = None,
    caller: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--caller",
            help="Advanced: a phone number that rings first instead (e.g. a group's number); "
            "needs --device, which is then sent as deviceId.",
            show_default=False,
        ),
    ] = None,
    caller_id: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--caller-id",
            help="Number shown to the callee (one of yours); default: the phone's own number.",
            show_default=False,
        ),
    ] = None,
    region: Annotated[
        str,
        typer.Option("--region", help="Country for numbers written without country code."),
    ] = "DE",
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Place the call without asking to confirm.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show the exact request (token masked) and send nothing. Needs no credentials.",
        ),
    ] = False,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON document on stdout instead of panels; never prompts."
        ),
    ] = False,
    timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Bound for connecting and for waiting on the answer (default 5 s / 15 s).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Place a call (the help text is in the decorator, where Typer reads it unwrapped)."""
    from sipgate_tui.commands import call as call_command

    options = call_command.CallOptions(
        callee=callee,
        device=device,
        caller=caller,
        caller_id=caller_id,
        region=region,
        yes=yes,
        dry_run=dry_run,
        json=json_output,
        timeout=timeout,
    )
    _execute(typer_ctx, json_output, lambda ctx: call_command.run(options, ctx))


def _execute(
    typer_ctx: typer.Context, json_mode: bool, command: Callable[[AppContext], ExitCode]
) -> None:
    """Run a command with the real context; every outcome becomes one message and an exit code."""
    from sipgate_tui import render
    from sipgate_tui.context import build_context, check_api_url

    global_options: GlobalOptions = typer_ctx.obj or GlobalOptions()
    if global_options.debug:
        _enable_debug_log()
    ctx: AppContext | None = None
    try:
        global_options = replace(global_options, api_url=check_api_url(global_options.api_url))
        ctx = build_context(global_options)
        code = command(ctx)
    except KeyboardInterrupt:
        code = _report(ctx, json_mode, Cancelled(), render)
    except AppError as error:
        code = _report(ctx, json_mode, error, render)
    except typer.Exit:
        raise
    except Exception as error:  # noqa: BLE001 - a bug: one clear message, not a traceback
        if global_options.debug:
            import traceback

            traceback.print_exc(file=sys.stderr)
        bug = AppError(
            "internal-error",
            f"sipgate-tui hit a bug ({type(error).__name__}).",
            exit_code=ExitCode.INTERNAL,
            hint="Run the command again with --debug to see the traceback, and report it.",
        )
        code = _report(ctx, json_mode, bug, render)
    raise typer.Exit(int(code))


def _report(ctx: AppContext | None, json_mode: bool, error: AppError, render) -> ExitCode:
    if ctx is None:  # the context itself could not be built: plain consoles will do
        from sipgate_tui.context import build_context

        ctx = build_context(GlobalOptions())
    if json_mode:
        ctx.emit_json(error.to_json())
    elif isinstance(error, Cancelled):
        ctx.err.print(render.cancelled(error))
    else:
        ctx.err.print(render.problem(error))
    return error.exit_code


def _enable_debug_log() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("debug: %(message)s"))
    logger = logging.getLogger("sipgate_tui")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="sipgate-tui")
