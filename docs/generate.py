"""Regenerate the pictures and the CLI reference in docs/ from the app itself.

    python docs/generate.py

The pictures are the app's own renderers (the ones every command prints through), fed with
fixed sample data and exported by Rich as SVG; the CLI reference is every command's --help.
tests/test_docs.py fails when what is committed differs from what this produces.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

DOCS = Path(__file__).parent
WIDTH = 84


def screens() -> dict[str, tuple[str, Callable[[], object]]]:
    """file name -> (title, renderable factory)."""
    from sipgate_tui import render
    from sipgate_tui.account import parse_devices
    from sipgate_tui.errors import AppError
    from sipgate_tui.numbers import parse_phone_number
    from sipgate_tui.plan import CallPlan
    from sipgate_tui.problems import CALL_STATUS_PROBLEMS
    from sipgate_tui.simulator import default_devices

    plan = CallPlan(
        device_id="e0",
        device_name="Desk phone",
        callee=parse_phone_number("0157 99912345", "DE"),
        caller_id=parse_phone_number("0211 5550001", "DE"),
    )
    forbidden = CALL_STATUS_PROBLEMS[403]
    devices = parse_devices({"items": [device.to_api() for device in default_devices()]})
    titles = [device.label() for device in devices if device.can_call]
    return {
        "login.svg": ("sipgate-tui login", lambda: render.login_intro("default")),
        "device-picker.svg": (
            "sipgate-tui call",
            lambda: render.demo_menu(
                "Which phone rings first?",
                [*sorted(titles, key=lambda t: ("offline" in t, t)), "Another device: type its id"],
                0,
            ),
        ),
        "summary.svg": ("sipgate-tui call", lambda: render.call_summary(plan)),
        "success.svg": (
            "sipgate-tui call",
            lambda: render.call_accepted(plan, "5f3c9a0e1b7d4c2a9e8f6d1c0b3a2e4f"),
        ),
        "error.svg": (
            "sipgate-tui call",
            lambda: render.problem(
                AppError(
                    forbidden.code,
                    forbidden.message,
                    hint=forbidden.hint.format(device="e0", login="sipgate-tui login"),
                    status=403,
                    detail="This endpoint requires a sipgate Classic PBX Account",
                )
            ),
        ),
        "devices.svg": ("sipgate-tui devices", lambda: render.devices_table(devices)),
        "link-call.svg": (
            "sipgate-tui call 'tel:+496971049922,,85512345678#'",
            lambda: _link_call(render, plan),
        ),
    }


def _link_call(render: object, plan: object) -> object:
    """A meeting link: the summary with its PIN, then the live line while the PIN goes out."""

    from rich.console import Group

    from sipgate_tui.links import read_callee
    from sipgate_tui.rtcm import parse_calls
    from sipgate_tui.tones import ToneDialer
    from sipgate_tui.watch import WatchState

    link = "tel:+496971049922,,85512345678#"
    read = read_callee(link, "DE")
    meeting = plan._replace(callee=read.number, dial=read.dial, link=link, callee_source="link")
    callee = {"phoneNumber": "496971049922"}
    [call] = parse_calls({"data": [{"callId": "c1", "participants": [callee]}]})
    dialer = ToneDialer(read.dial)
    dialer.start(100.0)
    state = WatchState("connected", call, connected_at=100.0, tones=dialer.view(101.0))
    live = render.live_status(state, 101.0, meeting, can_hang_up=True, started=90.0)  # type: ignore[attr-defined]
    return Group(render.call_summary(meeting), "? Place this call? Yes", live)  # type: ignore[attr-defined]


def svg(title: str, make: Callable[[], object]) -> str:
    """One screen as SVG, the same bytes every time."""
    import io

    from rich.console import Console

    console = Console(
        record=True,
        width=WIDTH,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        highlight=False,
        legacy_windows=False,
    )
    console.print(make())
    return console.export_svg(title=title, unique_id=title.replace(" ", "-"))


def cli_reference() -> str:
    """Markdown with the --help of every command, exactly as the CLI prints it at 88 columns."""
    import contextlib
    import io
    import os

    import typer.main

    from sipgate_tui.cli import app

    def help_of(path: list[str]) -> str:
        output = io.StringIO()
        with contextlib.redirect_stdout(output), contextlib.suppress(SystemExit):
            app([*path, "--help"], prog_name="sipgate-tui", standalone_mode=False)
        return output.getvalue().rstrip()

    def paths(command: object, path: list[str]) -> list[list[str]]:
        found = [path]
        children = getattr(command, "commands", {})
        for name in children:
            if not getattr(children[name], "hidden", False):
                found += paths(children[name], [*path, name])
        return found

    sections = [
        "# CLI reference",
        "",
        "Generated from `--help` by `python docs/generate.py`; do not edit by hand.",
        "",
    ]
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"
    try:
        for path in paths(typer.main.get_command(app), []):
            sections += [
                f"## `{' '.join(['sipgate-tui', *path])}`",
                "",
                "```text",
                help_of(path),
                "```",
                "",
            ]
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(sections)


def outputs() -> dict[str, str]:
    """Every generated file: name -> content."""
    files = {name: svg(title, make) for name, (title, make) in screens().items()}
    files["cli.md"] = cli_reference()
    return files


def main() -> int:
    for name, content in outputs().items():
        (DOCS / name).write_text(content, encoding="utf-8")
        print(f"wrote docs/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
