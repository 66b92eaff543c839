"""The error type: exit codes and titles from the registry, unknown codes refused, rewording."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from sipgate_tui.catalogue import CATALOGUE, UnknownProblemCode
from sipgate_tui.credentials import KeyringLocked
from sipgate_tui.errors import AppError, Cancelled, ExitCode, InputError

# Published: the README's exit-code table, --json's exitCode and the panels' titles.
PUBLISHED = [
    (ExitCode.OK, 0, "Done"),
    (ExitCode.INTERNAL, 1, "Internal error"),
    (ExitCode.USAGE, 2, "Cannot use this input"),
    (ExitCode.CREDENTIALS, 3, "Credentials problem"),
    (ExitCode.REFUSED, 4, "Refused by sipgate"),
    (ExitCode.NETWORK, 5, "Network or service problem"),
    (ExitCode.OUTCOME_UNKNOWN, 6, "Outcome unknown"),
    (ExitCode.ENVIRONMENT, 7, "Local environment problem"),
    (ExitCode.CANCELLED, 130, "Cancelled"),
]


@pytest.mark.parametrize(("exit_code", "number", "title"), PUBLISHED)
def test_the_exit_codes_and_their_titles_stay_as_published(
    exit_code: ExitCode, number: int, title: str
) -> None:
    assert (int(exit_code), exit_code.title) == (number, title)


def test_no_exit_code_is_left_out() -> None:
    assert {row[0] for row in PUBLISHED} == set(ExitCode)


@pytest.mark.parametrize(
    ("code", "exit_code", "title"),
    [
        ("bad-request", ExitCode.REFUSED, "Refused by sipgate"),
        ("keyring-locked", ExitCode.ENVIRONMENT, "Local environment problem"),
        ("credentials-missing", ExitCode.CREDENTIALS, "No credentials yet"),
        ("keyring-unavailable", ExitCode.ENVIRONMENT, "No keyring available"),
        ("internal-error", ExitCode.INTERNAL, "Internal error"),
    ],
)
def test_the_exit_code_and_title_come_from_the_registry(
    code: str, exit_code: ExitCode, title: str
) -> None:
    error = AppError(code, "Something.")
    assert (error.exit_code, error.title) == (exit_code, title)


@pytest.mark.parametrize("code", ["connection-lost", "unreadable-response"])
def test_some_problems_mean_more_once_the_call_request_was_sent(code: str) -> None:
    read = AppError(code, "Something.")
    dial = AppError(code, "Something.", after_call_sent=True)
    assert (read.exit_code, read.title) == (ExitCode.NETWORK, "Network or service problem")
    assert (dial.exit_code, dial.title) == (ExitCode.OUTCOME_UNKNOWN, "Outcome unknown")
    assert CATALOGUE[code].exit_codes == (ExitCode.NETWORK, ExitCode.OUTCOME_UNKNOWN)


def test_the_others_mean_the_same_before_and_after() -> None:
    # A 403 after the POST is still a definite refusal: nothing was placed.
    assert AppError("forbidden", "No.", after_call_sent=True).exit_code == ExitCode.REFUSED
    assert AppError("no-response", "?").exit_code == ExitCode.OUTCOME_UNKNOWN


def test_a_title_for_one_situation_replaces_the_registrys() -> None:
    assert AppError("unauthorized", "No.", title="Not logged in").title == "Not logged in"


@pytest.mark.parametrize(
    "make",
    [
        lambda: AppError("no-such-code", "Something."),
        lambda: InputError("invalid-nmuber", "A typo in the code."),
        lambda: KeyringLocked("keyring-lokced", "A typo in the code."),
    ],
    ids=["AppError", "InputError", "a subclass"],
)
def test_an_unknown_code_is_a_bug_caught_at_construction(make: Callable[[], AppError]) -> None:
    with pytest.raises(UnknownProblemCode, match=r"sipgate_tui/catalogue\.py"):
        make()


def test_an_input_error_must_be_a_usage_problem() -> None:
    assert InputError("invalid-number", "No number.").exit_code == ExitCode.USAGE
    with pytest.raises(ValueError, match="not a usage problem"):
        InputError("keyring-locked", "Not something the user typed.")


def test_cancelled_is_exit_130_and_says_nothing_was_sent() -> None:
    cancelled = Cancelled()
    assert (cancelled.code, cancelled.exit_code, cancelled.title) == (
        "cancelled",
        ExitCode.CANCELLED,
        "Cancelled",
    )
    assert cancelled.message == "Cancelled. Nothing was sent."


def test_rewording_keeps_the_type_and_every_other_field() -> None:
    error = KeyringLocked("keyring-locked", "Locked.", hint="Unlock it.", status=None)
    error.detail = "from the backend"
    reworded = error.reworded("Locked. Nothing was removed.")
    assert type(reworded) is KeyringLocked
    assert (reworded.message, str(reworded), reworded.hint) == (
        "Locked. Nothing was removed.",
        "Locked. Nothing was removed.",
        "Unlock it.",
    )
    assert (reworded.code, reworded.exit_code, reworded.title, reworded.detail) == (
        "keyring-locked",
        ExitCode.ENVIRONMENT,
        "Local environment problem",
        "from the backend",
    )
    assert (error.message, error.hint) == ("Locked.", "Unlock it.")  # the original is untouched


def test_rewording_can_replace_the_hint_and_keeps_status_detail_and_title() -> None:
    error = AppError(
        "connection-lost",
        "Broke.",
        hint="Check your phone.",
        status=None,
        detail="cut off",
        title="Lost",
        after_call_sent=True,
    )
    reworded = error.reworded("Broke. Nothing was stored.", hint="Try again.")
    assert reworded.to_json() == {
        "ok": False,
        "error": {
            "code": "connection-lost",
            "status": None,
            "message": "Broke. Nothing was stored.",
            "hint": "Try again.",
            "detail": "cut off",
        },
        "exitCode": 6,
    }
    assert reworded.title == "Lost"


def test_a_reworded_cancellation_is_still_a_cancellation() -> None:
    reworded = Cancelled("Cancelled. No call was placed.").reworded(
        "Cancelled. No call was placed. You are logged in, though."
    )
    assert isinstance(reworded, Cancelled) and reworded.exit_code == ExitCode.CANCELLED


def test_the_json_document_keeps_its_published_shape() -> None:
    error = AppError("forbidden", "No.", hint="Ask.", status=403, detail="scope")
    assert error.to_json() == {
        "ok": False,
        "error": {
            "code": "forbidden",
            "status": 403,
            "message": "No.",
            "hint": "Ask.",
            "detail": "scope",
        },
        "exitCode": 4,
    }


def test_importing_the_errors_loads_nothing_but_the_registry_and_its_data() -> None:
    # errors is imported on every path (``--help`` too): it must stay cheap.
    script = (
        "import sys; before = set(sys.modules); import sipgate_tui.errors; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    ours = {name for name in loaded if name.startswith("sipgate_tui")}
    assert ours == {
        "sipgate_tui",
        "sipgate_tui.catalogue",
        "sipgate_tui.errors",
        "sipgate_tui.exit_codes",
        "sipgate_tui.setting_keys",  # the unknown-setting fix names the keys
    }
    assert not loaded & {"typing", "dataclasses", "re", "pathlib", "inspect"}, loaded
