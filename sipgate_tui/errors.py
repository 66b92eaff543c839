"""The error type every command raises; its exit code and title come from the catalogue.

Nothing here imports anything heavy (not even ``typing`` at run time): the CLI layer needs
these names on every path.
"""

from __future__ import annotations

from sipgate_tui.catalogue import problem
from sipgate_tui.exit_codes import ExitCode as ExitCode

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing; mypy knows the name
if TYPE_CHECKING:
    from typing_extensions import Self


class AppError(Exception):
    """A failure the user should see as one clear message with a hint and an exit code.

    ``code`` is a stable kebab-case name that scripts may rely on (it appears in ``--json``);
    it must be in :data:`sipgate_tui.catalogue.CATALOGUE`, which gives the exit code and the
    panel title (an unknown code raises :class:`~sipgate_tui.catalogue.UnknownProblemCode`).
    ``after_call_sent`` says that the call request had already gone out, which changes the exit
    code of some problems (a lost connection: 5 for a read, 6 after the POST). ``title``
    replaces the catalogue's title where one situation needs its own. ``detail`` is optional
    extra text from the server, already shortened and sanitised. Messages never contain
    secrets: they are built from our own text and redacted server text.

    Control flow tells problems apart by type (small subclasses where they are raised, such as
    ``credentials.KeyringLocked``), never by comparing ``code`` or the words.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        detail: str | None = None,
        title: str | None = None,
        after_call_sent: bool = False,
    ) -> None:
        entry = problem(code)
        super().__init__(message)
        self.code = code
        self.message = message
        self.exit_code = entry.exit_code_for(after_call_sent=after_call_sent)
        self.hint = hint
        self.status = status
        self.detail = detail
        self.title = title or entry.title_for(after_call_sent=after_call_sent)

    def reworded(self, message: str, *, hint: str | None = None) -> Self:
        """A copy of this error, of the same type, with a new message (and hint, if given).

        For a caller that knows more about what the failure meant (``Nothing was stored.``);
        the code, exit code, title, status and detail stay as they were.
        """
        copy = type(self).__new__(type(self))
        copy.__dict__.update(self.__dict__)
        Exception.__init__(copy, message)
        copy.message = message
        if hint is not None:
            copy.hint = hint
        return copy

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
    """Input the user typed or passed that cannot be used (a usage problem: exit code 2)."""

    def __init__(self, code: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(code, message, hint=hint)
        if self.exit_code is not ExitCode.USAGE:
            raise ValueError(f"{code!r} is not a usage problem: raise AppError for it")


class Cancelled(AppError):
    """The user cancelled at a prompt or declined the confirmation (exit code 130)."""

    def __init__(self, message: str = "Cancelled. Nothing was sent.") -> None:
        super().__init__("cancelled", message)
