"""The rules for a call opened from a desktop link (``call --from-desktop``, the handler's).

A link clicked on a web page is somebody else's text: it may name a premium-rate number, or
carry a dial string that spells a PIN into the wrong call. So such a call is always shown
and confirmed (``--yes`` is ignored), needs a terminal to be shown in (else a desktop
notification says why nothing happened), refuses premium-rate numbers outright (typed ones
keep their warning), and its window stays open until Enter so the outcome can be read
before the terminal closes. A link typed on the command line is not "from the desktop": it
follows the usual ``--yes`` rules.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from sipgate_tui.errors import InputError
from sipgate_tui.links import is_link

if TYPE_CHECKING:
    from sipgate_tui.commands.call import CallOptions
    from sipgate_tui.context import AppContext
    from sipgate_tui.dial_string import DialString
    from sipgate_tui.numbers import PhoneNumber

YES_IGNORED = "--yes is ignored for a link opened from the desktop: it is shown and asked first."


def admit(options: CallOptions, ctx: AppContext, *, interactive: bool) -> CallOptions:
    """The options a desktop link's call runs with (never ``--yes``); InputError when it
    cannot be shown and asked (no terminal: a notification says so where one can be sent)
    or what it carries is not a link."""
    if options.callee is not None and not is_link(options.callee):
        raise InputError(
            "not-a-phone-link",
            "--from-desktop takes a link (tel:, callto:, sip:), not "
            f"'{_shown(options.callee)}'.",
            hint="Type numbers without --from-desktop: sipgate-tui call NUMBER.",
        )
    if not interactive:
        reason = ctx.why_no_prompts(json_mode=options.json)
        _notify(ctx, options.callee or "", reason)
        raise InputError(
            "link-needs-terminal",
            f"Not calling {_shown(options.callee or 'the link')}: a link from the desktop is "
            f"always shown and confirmed first, and {reason}.",
            hint="Set $TERMINAL to your terminal emulator (the desktop opens links in it), or "
            "run sipgate-tui call 'LINK' in a terminal yourself.",
        )
    return options._replace(yes=False)


def refuse_premium_rate(number: PhoneNumber | None) -> None:
    """A desktop link to a premium-rate number is refused outright (InputError)."""
    if number is None or number.kind != "premium-rate":
        return
    raise InputError(
        "premium-rate-link",
        f"Not calling {number.pretty} from a link: it is a premium-rate number, and calls to "
        "it can be expensive.",
        hint=f"If you mean to call it, type it yourself: sipgate-tui call {number.e164}",
    )


def introduce(ctx: AppContext, number: PhoneNumber | None, dial: DialString) -> None:
    """The first line in the window the desktop opened: whom the link calls, and that
    nothing happens before the user confirms (the questions that follow need the context)."""
    if number is None:
        return
    from sipgate_tui import render

    ctx.show(render.link_opened(number, dial))


def hold_window(ctx: AppContext | None) -> None:
    """Wait for Enter before the terminal the desktop opened closes, so the outcome can be
    read; returns at once without a terminal, and on Ctrl-C, Ctrl-D or a closed window."""
    stdin = sys.stdin
    try:
        if stdin is None or not stdin.isatty():
            return
        sys.stderr.write("\nPress Enter to close this window.")
        sys.stderr.flush()
        stdin.readline()
    except (KeyboardInterrupt, OSError, ValueError):
        return


def _notify(ctx: AppContext, link: str, reason: str) -> None:
    """A desktop notification that the link was not called (best effort, never raises)."""
    try:
        from sipgate_tui.desktop_handler import notify

        notify("sipgate-tui: link not called", f"{_shown(link)}: {reason}.", ctx.env)
    except Exception:  # noqa: BLE001 - a notification is a courtesy; the message below stays
        return


def _shown(text: str) -> str:
    from sipgate_tui.text import one_line

    return one_line(text, 60)
