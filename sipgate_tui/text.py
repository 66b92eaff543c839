"""Text we did not write, made safe to show: one line, printable, bounded.

Server answers (messages, device names, call states) and echoed user input reach a terminal;
an escape sequence in them could set the window title, fake our output or clear the screen, and
a bidi override could reverse what the user reads. Every such text goes through
:func:`one_line` before it is shown. Kept free of imports beyond ``re``: the API client and the
number parser use it on every path.
"""

from __future__ import annotations

import re

# CSI (ESC [ ... final byte) and OSC (ESC ] ... BEL or ESC \): the sequences that move the
# cursor, colour text, set titles or make hyperlinks. Removed whole, so no "]0;title" remains.
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_WHITESPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = 300, *, replacement: str = " ") -> str:
    """``text`` as one printable line of at most ``limit`` characters (``…`` marks a cut).

    Escape sequences are removed; every other unprintable character (control characters, bidi
    overrides, line breaks) becomes ``replacement``; runs of white space become one space.
    """
    text = _ESCAPES.sub("", text)
    text = "".join(ch if ch.isprintable() else replacement for ch in text)
    text = _WHITESPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
