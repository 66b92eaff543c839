"""stdout and stderr that can neither crash a command nor show a secret.

Two things can go wrong between our text and the user's screen, whatever wrote it (Rich, the
prompts, a log line, a traceback of a bug):

* the stream's encoding cannot hold a character (a Windows console with redirected output,
  ``LANG=C``, ``PYTHONIOENCODING=latin-1``). Python would raise ``UnicodeEncodeError`` from
  inside ``print``, after a call was placed. Here the text degrades instead: our symbols get
  ASCII stand-ins (``✓`` → ``+``, ``•`` → ``*``), accents fall off letters (``Müller`` →
  ``Muller``), anything else becomes ``?``;
* a secret slips into the text (an echoed token from a hostile server, a bug). Every write is
  scrubbed with ``known_secrets``, also where an escape sequence, a control character or a line
  break splits the token (those writes lose their styling; they are never seen otherwise).

:func:`guard_stdio` puts both guards in front of ``sys.stdout`` and ``sys.stderr`` once, at
start-up. Import-light: the one-shot dial pays for it.
"""

from __future__ import annotations

import sys

from sipgate_tui import known_secrets

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (every start pays)
if TYPE_CHECKING:
    from typing import TextIO

# Our own symbols, in the words a plain terminal can show (the rest degrades by rule). One
# character each: tables and panels were laid out for one cell, and a wider stand-in would
# push their columns and borders out of line.
ASCII_STAND_INS = {
    "•": "*",
    "·": "-",
    "…": ".",
    "×": "x",
    "✓": "+",
    "✗": "x",
    "–": "-",
    "—": "-",
    "→": ">",
    "←": "<",
    "↑": "^",
    "↓": "v",
    "●": "*",
    "★": "*",
    "»": ">",
    "¹": "1",
    "\u00a0": " ",  # no-break space: numbers kept on one line
    "\u2011": "-",  # non-breaking hyphen
}


class GuardedStream:
    """A text stream in front of another: writes are scrubbed of secrets and made encodable.

    Everything else (``isatty``, ``fileno``, ``encoding``, ``flush``) is the wrapped stream's,
    so Rich and prompt_toolkit see the terminal as it is. It has no ``buffer``: code that
    would write bytes past the guard (prompt_toolkit does, when it can) writes text instead.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._encoding = getattr(stream, "encoding", None) or "utf-8"
        self._unicode = self._encoding.lower().replace("_", "-").startswith("utf")

    @property
    def wrapped(self) -> TextIO:
        """The stream behind the guard."""
        return self._stream

    @property
    def encoding(self) -> str:
        """The wrapped stream's encoding (Rich picks ASCII boxes when it is not UTF)."""
        return self._encoding

    @property
    def errors(self) -> str:
        """Never "strict": nothing written through the guard fails to encode."""
        return "replace"

    def write(self, text: str) -> int:
        """Write ``text`` scrubbed and encodable; returns the length of the text given."""
        self._stream.write(self.prepared(text))
        return len(text)

    def prepared(self, text: str) -> str:
        """``text`` as it will be written: no secret in it, every character encodable."""
        return encodable(without_secrets(text), self._encoding, unicode=self._unicode)

    def writelines(self, lines: list[str]) -> None:
        """Write each line through :meth:`write`."""
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._stream.flush()

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal."""
        return self._stream.isatty()

    def fileno(self) -> int:
        """The wrapped stream's descriptor."""
        return self._stream.fileno()

    def writable(self) -> bool:
        """A guard is for writing."""
        return True

    @property
    def closed(self) -> bool:
        """Whether the wrapped stream is closed."""
        return bool(getattr(self._stream, "closed", False))

    def __getattr__(self, name: str) -> object:
        if name == "buffer":  # see the class docstring
            raise AttributeError(name)
        return getattr(self._stream, name)


def without_secrets(text: str) -> str:
    """``text`` with every known secret masked, also one split by escapes, controls or breaks."""
    text = known_secrets.scrub(text)
    if not (text.isascii() and text.isprintable()) and known_secrets.contains_secret(
        _squeezed(text)
    ):
        # A split token is shown without what split it: the text loses its layout, which only
        # ever happens when something tried to print a secret.
        return known_secrets.scrub(_squeezed(text))
    return text


def _squeezed(text: str) -> str:
    from sipgate_tui.text import ESCAPES  # only for text that is not plain ASCII

    text = ESCAPES.sub("", text)
    return "".join(ch for ch in text if ch.isprintable() and not ch.isspace())


def encodable(text: str, encoding: str, *, unicode: bool = False) -> str:
    """``text`` in characters ``encoding`` can hold: stand-ins, then accents off, then ``?``."""
    if unicode or text.isascii():
        return _without_lone_surrogates(text) if not text.isascii() else text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    except LookupError:  # an encoding Python does not know: ASCII is safe everywhere
        encoding = "ascii"
    return "".join(_encodable_char(ch, encoding) for ch in text)


def _encodable_char(ch: str, encoding: str) -> str:
    try:
        ch.encode(encoding)
        return ch
    except UnicodeEncodeError:
        pass
    stand_in = ASCII_STAND_INS.get(ch) or _box_drawing(ch)
    if stand_in is None:
        import unicodedata

        stand_in = "".join(
            c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
        )
    return stand_in.encode(encoding, "replace").decode(encoding) if stand_in else "?"


def _box_drawing(ch: str) -> str | None:
    """Lines and corners of boxes and rules (U+2500-U+257F) as ``-``, ``|`` and ``+``: Rich
    picks ASCII boxes itself, but rules and tables laid out by hand do not."""
    if not "\u2500" <= ch <= "\u257f":
        return None
    import unicodedata

    name = unicodedata.name(ch, "")
    if "HORIZONTAL" in name and "VERTICAL" not in name:
        return "-"
    if "VERTICAL" in name and "HORIZONTAL" not in name:
        return "|"
    return "+"


def _without_lone_surrogates(text: str) -> str:
    # Undecodable bytes arrive as lone surrogates (from argv or the environment); UTF-8 cannot
    # write them.
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def guard_stdio() -> None:
    """Put a :class:`GuardedStream` in front of ``sys.stdout`` and ``sys.stderr`` (once)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, GuardedStream):
            setattr(sys, name, GuardedStream(stream))
