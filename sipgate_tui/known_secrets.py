"""Every secret this process has seen, and the one function that removes them from text.

A token reaches this registry the moment a ``Credentials`` value is made; from then on
:func:`scrub` removes it, and its Basic form, from any text: server answers after they are
cleaned (so an escape sequence inside an echoed token cannot hide it), tracebacks of bugs,
debug logs, and, as the last line of defence, everything written to stdout and stderr
(``safe_output``). Import-free, so every module may use it.
"""

from __future__ import annotations

MASK = "••••"
_SEEN: set[str] = set()


def remember(*secrets: str) -> None:
    """Add secrets (of at least four characters: shorter ones would mask ordinary words)."""
    _SEEN.update(secret for secret in secrets if len(secret) >= 4)


def scrub(text: str) -> str:
    """``text`` with every secret this process has seen replaced by ``••••``."""
    if not _SEEN:
        return text
    for secret in sorted(_SEEN, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def contains_secret(text: str) -> bool:
    """Whether any secret this process has seen occurs in ``text``."""
    return any(secret in text for secret in _SEEN)
