"""The error type every command raises, and the exit codes every command uses.

Nothing here imports anything heavy: the CLI layer needs these names on every path.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; stable, documented in the README, the same for every command."""

    OK = 0
    INTERNAL = 1  # a bug in sipgate-tui
    USAGE = 2  # bad option or input
    CREDENTIALS = 3  # credentials missing or rejected (401)
    REFUSED = 4  # sipgate refused the request (400, 402, 403, 404, 405, 415)
    NETWORK = 5  # DNS, refused, TLS, timeout before sending, 429, 5xx
    OUTCOME_UNKNOWN = 6  # the call was sent but no (readable) answer came back
    ENVIRONMENT = 7  # keyring unavailable, locked or timed out; config unreadable
    CANCELLED = 130  # the user cancelled (Ctrl-C, Ctrl-D, "no")


class AppError(Exception):
    """A failure the user should see as one clear message with a hint and an exit code.

    ``code`` is a stable kebab-case name that scripts may rely on (it appears in ``--json``).
    ``detail`` is optional extra text from the server, already shortened and sanitised.
    Messages never contain secrets: they are built from our own text and redacted server text.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        exit_code: ExitCode,
        hint: str | None = None,
        status: int | None = None,
        detail: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.exit_code = exit_code
        self.hint = hint
        self.status = status
        self.detail = detail
        self.title = title or _default_title(exit_code)

    def to_json(self) -> dict[str, object]:
        """The ``--json`` error document shared by every command."""
        return {
            "ok": False,
            "error": {
                "code": self.code,
                "status": self.status,
                "message": self.message,
                "hint": self.hint,
                "detail": self.detail,  # what the server said, shortened; often null
            },
            "exitCode": int(self.exit_code),
        }


class InputError(AppError):
    """Input the user typed or passed that cannot be used (exit code 2)."""

    def __init__(self, code: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(code, message, exit_code=ExitCode.USAGE, hint=hint)


class Cancelled(AppError):
    """The user cancelled at a prompt or declined the confirmation (exit code 130)."""

    def __init__(self, message: str = "Cancelled. Nothing was sent.") -> None:
        super().__init__("cancelled", message, exit_code=ExitCode.CANCELLED, title="Cancelled")


def _default_title(exit_code: ExitCode) -> str:
    return {
        ExitCode.INTERNAL: "Internal error",
        ExitCode.USAGE: "Cannot use this input",
        ExitCode.CREDENTIALS: "Credentials problem",
        ExitCode.REFUSED: "Refused by sipgate",
        ExitCode.NETWORK: "Network or service problem",
        ExitCode.OUTCOME_UNKNOWN: "Outcome unknown",
        ExitCode.ENVIRONMENT: "Local environment problem",
        ExitCode.CANCELLED: "Cancelled",
    }.get(exit_code, "Error")
