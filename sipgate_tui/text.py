"""Text we did not write, made safe to show: one line, printable, bounded.

Server answers (messages, device names, call states) and echoed user input reach a terminal;
an escape sequence in them could set the window title, fake our output or clear the screen, and
a bidi override could reverse what the user reads. Every such text goes through
:func:`one_line` before it is shown. Kept free of imports beyond ``re`` (and the import-free
``known_secrets``): the API client and the number parser use it on every path.
"""

from __future__ import annotations

import re

from sipgate_tui.known_secrets import contains_secret, scrub

# CSI (ESC [ ... final byte) and OSC (ESC ] ... BEL or ESC \): the sequences that move the
# cursor, colour text, set titles or make hyperlinks. Removed whole, so no "]0;title" remains.
ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_WHITESPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = 300, *, replacement: str = " ") -> str:
    """``text`` as one printable line of at most ``limit`` characters (``…`` marks a cut).

    Escape sequences are removed; every other unprintable character (control characters, bidi
    overrides, line breaks) becomes ``replacement``; runs of white space become one space;
    then every secret the process has seen is masked (``known_secrets.scrub``).
    """
    text = ESCAPES.sub("", text)
    text = "".join(ch if ch.isprintable() else replacement for ch in text)
    text = _WHITESPACE.sub(" ", text).strip()
    # Secrets go after cleaning (an escape inside an echoed token no longer hides it) and
    # before the cut (which could otherwise leave the first part of one).
    text = scrub(text)
    if contains_secret(text.replace(" ", "")):  # split by what became a space: still readable
        text = scrub(text.replace(" ", ""))
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Characters JSON may carry raw that a terminal would act on or hide: DEL and C1 controls, bidi
# marks and overrides, zero-width characters, line and paragraph separators, the BOM (json
# escapes C0 controls itself).
_RAW_IN_JSON = re.compile(
    "[\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\u2028\u2029\ufeff]"
)


def json_text(document: object, *, ascii_only: bool = False) -> str:
    """``document`` as one line of JSON with every control and bidi character escaped.

    ``ascii_only`` escapes all non-ASCII too, for a stream that cannot hold it.
    """
    import json

    text = json.dumps(document, ensure_ascii=ascii_only)
    return _RAW_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
