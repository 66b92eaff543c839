"""The files behind the desktop link handler: our desktop entry (its Exec line quoted as the
Desktop Entry spec says, the previous handlers it records) and the user's mimeapps.list, of
which only our own entries are ever removed.

Text in, text out, plus the one atomic write both files need; no tools are run here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sipgate_tui.errors import AppError

SCHEMES = ("tel", "callto", "sip", "sips")
DESKTOP_ID = "sipgate-tui.desktop"
PREVIOUS_KEY = "X-SipgateTui-Previous-"
MAX_ENTRY_BYTES = 64 * 1024
# A desktop id as we record and pass it on: a file name, nothing a tool could take for an
# option or a path (xdg-mime prints whatever the lists hold).
DESKTOP_ID_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*\.desktop")


@dataclass(frozen=True)
class Entry:
    """Our desktop entry as read back: the command it runs and the recorded previous handlers."""

    command: list[str] | None
    previous: dict[str, str]


# -- the Exec line ----------------------------------------------------------------------------


def exec_value(argv: Sequence[str]) -> str:
    """``argv`` as the value of a desktop entry's Exec key, quoted and escaped as the Desktop
    Entry spec says (quoting first, then the string escapes); ``ValueError`` for a control
    character, which no Exec line can carry."""
    words = [_exec_word(word) for word in argv]
    return _escape_string(" ".join(words))


_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


def _exec_word(word: str) -> str:
    if any(ord(ch) < 32 or ch == "\x7f" for ch in word):
        raise ValueError(f"a control character in {word!r}")
    text = word.replace("%", "%%")  # a literal % (field codes are %u, %f, ...)
    if not needs_quotes(word):
        return text
    return '"' + "".join("\\" + ch if ch in '"`$\\' else ch for ch in text) + '"'


def _escape_string(value: str) -> str:
    return value.replace("\\", "\\\\")


def _unescape_string(value: str) -> str:
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), "\\" + m.group(1)), value)


def parse_exec(value: str) -> list[str]:
    """An Exec value (string escapes already undone) as argv, without field codes."""
    words: list[str] = []
    word: list[str] = []
    started = quoted = escaped = False  # started: a word is open (even an empty "")
    for ch in value:
        if escaped:
            word.append(ch)
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted, started = not quoted, True
        elif ch == " " and not quoted:
            if started:
                words.append("".join(word))
            word, started = [], False
        else:
            word.append(ch)
            started = True
    if started:
        words.append("".join(word))
    return [w.replace("%%", "%") for w in words if not _FIELD_CODE.fullmatch(w)]


_FIELD_CODE = re.compile(r"%[fFuUdDnNickvm]")


def needs_quotes(word: str) -> bool:
    """Whether ``word`` is quoted in an Exec line: empty, or holding a reserved character (a
    space, a quote, ``$``...). xdg-utils' own Exec reading splits at spaces and ignores
    quotes, so such a program cannot be started by its generic ``xdg-open``."""
    return not word or bool(_RESERVED.intersection(word))


# -- the desktop entry -----------------------------------------------------------------------


def entry_text(command: Sequence[str], previous: Mapping[str, str]) -> str:
    """Our desktop entry: a hidden terminal app for the four link schemes that runs
    ``COMMAND call --from-desktop -- LINK``, with the recorded previous handlers."""
    try:
        exec_line = exec_value([*command, "call", "--from-desktop", "--"]) + " %u"
    except ValueError as error:
        raise AppError(
            "handler-failed",
            f"The path of sipgate-tui ({command[0]!r}) cannot be written into a desktop "
            f"entry: {error}.",
            hint="Install sipgate-tui under a path without control characters.",
        ) from None
    lines = [
        "# Written by `sipgate-tui handler install`; `sipgate-tui handler uninstall` removes it.",
        "[Desktop Entry]",
        "Type=Application",
        "Name=sipgate-tui",
        "GenericName=Phone call",
        "Comment=Call phone numbers from links (tel:, callto:, sip:) through sipgate",
        f"Exec={exec_line}",
        "Terminal=true",
        "NoDisplay=true",
        "StartupNotify=false",
        "Categories=Network;Telephony;",
        "MimeType=" + "".join(f"x-scheme-handler/{scheme};" for scheme in SCHEMES),
        *(f"{PREVIOUS_KEY}{s}={previous[s]}" for s in SCHEMES if s in previous),
    ]
    return "\n".join(lines) + "\n"


def read_entry(path: Path) -> Entry | None:
    """Our desktop entry as written (None when there is none, or it is not a readable file)."""
    from sipgate_tui.small_files import read_small_file

    text = read_small_file(path, MAX_ENTRY_BYTES)
    if text is None:
        return None
    keys: dict[str, str] = {}
    group = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            group = stripped
        elif group == "[Desktop Entry]" and "=" in stripped and not stripped.startswith("#"):
            key, _, value = stripped.partition("=")
            keys.setdefault(key.strip(), _unescape_string(value.strip()))
    previous = {
        scheme: keys[PREVIOUS_KEY + scheme]
        for scheme in SCHEMES
        if DESKTOP_ID_PATTERN.fullmatch(keys.get(PREVIOUS_KEY + scheme, ""))
    }
    words = parse_exec(keys.get("Exec", ""))
    if words[-3:] == ["call", "--from-desktop", "--"]:
        words = words[:-3]  # the program (and "-m sipgate_tui"), without our arguments
    return Entry(command=words or None, previous=previous)


# -- mimeapps.list ---------------------------------------------------------------------------


_ASSOCIATION_GROUPS = (b"[Default Applications]", b"[Added Associations]")


def without_ours(data: bytes, schemes: Iterable[str]) -> tuple[bytes, list[str]]:
    """A mimeapps.list without our id in the lines of ``schemes`` (in the default and added
    associations): a line naming only us goes, a list loses our entry; every other byte stays
    as it was. Returns the new text and the schemes whose lines changed."""
    keys = {f"x-scheme-handler/{scheme}".encode(): scheme for scheme in schemes}
    out: list[bytes] = []
    touched: list[str] = []
    group = b""
    for line in data.splitlines(keepends=True):
        body = line.rstrip(b"\r\n")
        stripped = body.strip()
        if stripped.startswith(b"["):
            group = stripped
        key, equals, value = body.partition(b"=")
        scheme = keys.get(key.strip()) if equals and group in _ASSOCIATION_GROUPS else None
        ids = [part.strip() for part in value.split(b";")]
        if scheme is None or DESKTOP_ID.encode() not in ids:
            out.append(line)
            continue
        kept = [part for part in ids if part and part != DESKTOP_ID.encode()]
        if scheme not in touched:
            touched.append(scheme)
        if kept:
            ending = line[len(body) :]
            tail = b";" if value.rstrip().endswith(b";") else b""
            out.append(key + b"=" + b";".join(kept) + tail + ending)
    return b"".join(out), touched
