"""The manual steps that make sipgate-tui the handler of tel: links on macOS and Windows.

There ``handler install`` installs nothing: macOS hands a link to an app bundle as an Apple
Event (not as argv), and Windows since version 10 lets only the user choose the default app.
So it prints these steps, for this sipgate-tui's own path, and says it did not install.
Plain text only (the renderer shows it); nothing here runs anything.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ManualSteps:
    """What to do by hand: a title, the steps in order, and how to undo them."""

    platform: str  # "macOS" or "Windows"
    steps: list[str]
    undo: list[str]


def manual_steps(platform: str, command: Sequence[str]) -> ManualSteps:
    """The steps for ``platform`` (``sys.platform``: darwin, win32) running ``command``."""
    if platform == "darwin":
        return _macos(command)
    return _windows(command)


def _macos(command: Sequence[str]) -> ManualSteps:
    program = " ".join(shlex.quote(word) for word in command)
    # The link is written to a file and read back inside double quotes: it never becomes
    # part of a command line that a shell would parse.
    script = (
        "#!/bin/sh\n"
        "dir=$(mktemp -d /tmp/sipgate-tui.XXXXXX) || exit 1\n"
        'printf \'%s\' "$1" > "$dir/link"\n'
        "printf '#!/bin/sh\\n%s call --from-desktop -- \"$(cat %s/link)\"\\nrm -rf %s\\n' "
        f'{shlex.quote(program)} "$dir" "$dir" > "$dir/call.command"\n'
        'chmod +x "$dir/call.command"\n'
        'open -a Terminal "$dir/call.command"'
    )
    return ManualSteps(
        platform="macOS",
        steps=[
            "Install Platypus (https://sveinbjorn.org/platypus, or `brew install --cask "
            "platypus`) and start it.",
            "Script type: sh. Paste this script:\n" + script,
            "App name: sipgate-tui links. Interface: None. In the settings for accepted items, "
            "let the app handle the URI schemes tel, callto and sip (Platypus writes them into "
            "the app's CFBundleURLTypes and passes each link to the script as its first "
            "argument).",
            "Click Create App and save it in Applications; open it once.",
            "Make it the default for tel: links: FaceTime > Settings > Default for calls lists "
            "the apps that registered tel:; where it is missing, `duti -s BUNDLE-ID tel` "
            "(brew install duti; the bundle id is in the app's Info.plist) sets it.",
            "Try it: open 'tel:+492115550003' in Terminal.",
        ],
        undo=[
            "Delete the app from Applications; macOS gives tel: links back to FaceTime.",
        ],
    )


def _windows(command: Sequence[str]) -> ManualSteps:
    line = _windows_command_line(command) + ' call --from-desktop -- "%1"'
    value = line.replace("\\", "\\\\").replace('"', '\\"')  # a .reg file's string escapes
    key = "HKEY_CURRENT_USER\\Software\\Classes"
    reg = ["Windows Registry Editor Version 5.00", ""]
    for scheme in ("tel", "callto"):
        reg += [
            f"[{key}\\{scheme}]",
            f'@="URL:{scheme} link (sipgate-tui)"',
            '"URL Protocol"=""',
            "",
            f"[{key}\\{scheme}\\shell\\open\\command]",
            f'@="{value}"',
            "",
        ]
    return ManualSteps(
        platform="Windows",
        steps=[
            "Save these lines as sipgate-tui-links.reg (they write HKCU\\Software\\Classes"
            "\\tel and \\callto, for your user only; the command is "
            + line
            + "):\n"
            + "\n".join(reg).rstrip(),
            "Double-click the file and confirm (or: reg import sipgate-tui-links.reg).",
            "Open Settings > Apps > Default apps, search for TEL (Windows 11; Windows 10: "
            "Choose default apps by protocol) and pick sipgate-tui if another app holds it.",
            "Try it: run start tel:+492115550003 in a Command Prompt.",
        ],
        undo=[
            "reg delete HKCU\\Software\\Classes\\tel /f and reg delete "
            "HKCU\\Software\\Classes\\callto /f, then choose another app in Settings > Apps > "
            "Default apps.",
        ],
    )


def _windows_command_line(command: Sequence[str]) -> str:
    """``command`` as Windows writes a command line: the program always in quotes (a path
    with a space would otherwise be cut there), other words when they hold a space."""
    program, *rest = command
    return " ".join([f'"{program}"', *(f'"{w}"' if " " in w or not w else w for w in rest)])
