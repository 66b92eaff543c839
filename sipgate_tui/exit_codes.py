"""The process exit codes: each one's number, panel title and meaning, written once.

The numbers, titles and meanings are published (README "Exit codes", ``--json``'s
``exitCode``, the panels' titles): scripts rely on them, so they do not change. Imports
nothing but ``enum``: the CLI needs these names on every path.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, the same for every command; ``title`` and ``meaning`` describe each."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    CREDENTIALS = 3
    REFUSED = 4
    NETWORK = 5
    OUTCOME_UNKNOWN = 6
    ENVIRONMENT = 7
    CANCELLED = 130

    @property
    def title(self) -> str:
        """The title of a problem panel with this exit code (a problem code may have its own)."""
        return _ABOUT[self][0]

    @property
    def meaning(self) -> str:
        """What this exit code tells a script, as the README's table says it."""
        return _ABOUT[self][1]


# (title, meaning) per exit code: the one place both are written.
_ABOUT: dict[ExitCode, tuple[str, str]] = {
    ExitCode.OK: ("Done", "success"),
    ExitCode.INTERNAL: (
        "Internal error",
        "internal error (a bug: please report it, with `--debug` output)",
    ),
    ExitCode.USAGE: ("Cannot use this input", "usage: bad option or input"),
    ExitCode.CREDENTIALS: ("Credentials problem", "credentials missing or rejected (401)"),
    ExitCode.REFUSED: ("Refused by sipgate", "refused by sipgate (400, 402, 403, 404, 405, 415)"),
    ExitCode.NETWORK: (
        "Network or service problem",
        "network or service trouble (DNS, connection refused, TLS, timeout before the request "
        "was sent, 429, 5xx)",
    ),
    ExitCode.OUTCOME_UNKNOWN: (
        "Outcome unknown",
        "outcome unknown: the call was sent but no (readable) answer came",
    ),
    ExitCode.ENVIRONMENT: (
        "Local environment problem",
        "local environment: keyring unavailable, locked, failing or timed out; config or state "
        "file unreadable, invalid or unwritable",
    ),
    ExitCode.CANCELLED: (
        "Cancelled",
        "cancelled by the user (Ctrl-C, Ctrl-D, or No at a question)",
    ),
}
