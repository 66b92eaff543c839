"""Input errors name the option or argument they are about (issue 13, item 17).

A number with spaces given to an option without quotes (``--caller-id 0211 55500010``) leaves
its first word in the option and hands the rest to CALLEE: the error names the option and says
to quote, instead of blaming a number the user never typed. Every refused call option, one by
one, says which option it was; nothing is sent.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from helpers import CREDENTIALS_ENV, flat, make_context

from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.errors import AppError, ExitCode, InputError
from sipgate_tui.simulator import SipgateSimulator

GOOD = {"callee": "0157 99912345", "device": "e0", "yes": True, "json": True}
BAD_VALUES = {
    "--device": ("device", ["e", "E01", "w0", "abc", "", "e 0", "0157 99912345", "x" * 200]),
    "--caller": ("caller", ["e0", "0211", "abc", "112", "+49 157 999123456789", "", "+49"]),
    "--caller-id": (
        "caller_id",
        ["0211", "abc", "110", "+49 211 555000100000", "e0", "+49", "0211 5550001 ext 3"],
    ),
    "CALLEE": (
        "callee",
        ["abc def", "0211", "112", "0157 999 123 45 6789", "e0", "zz", "+", "0l57 99912345"],
    ),
    "--region": ("region", ["XX", "Germany", "1"]),
    "--timeout": ("timeout", [0, -1, 10_000]),
}
CASES = [
    pytest.param(name, field, value, id=f"{name}={value!r}"[:60])
    for name, (field, values) in BAD_VALUES.items()
    for value in values
]


def refusal(simulator: SipgateSimulator, **options: object) -> AppError:
    ctx = make_context(simulator.url)
    with pytest.raises(AppError) as caught:
        run(CallOptions(**{**GOOD, **options}), ctx)  # type: ignore[arg-type]
    assert not [r for r in simulator.requests if r.method == "POST"]
    return caught.value


@pytest.mark.parametrize(("name", "field", "value"), CASES)
def test_every_refused_call_option_names_itself(
    simulator: SipgateSimulator, name: str, field: str, value: object
) -> None:
    error = refusal(simulator, **{field: value})
    assert isinstance(error, InputError) and error.exit_code == ExitCode.USAGE, error
    # --region's message says "region code" (the same check serves `config set region`)
    named = "region" if name == "--region" else name
    assert named in error.message, error.message


def test_an_unquoted_caller_id_names_the_option_and_says_to_quote(
    simulator: SipgateSimulator,
) -> None:
    """`call --caller-id 0211 55500010 -d e0`: Typer gives 55500010 to CALLEE."""
    error = refusal(simulator, callee="55500010", caller_id="0211")
    assert error.message.startswith("--caller-id: '0211'")
    assert "55500010" not in error.message  # not blamed on the number nobody typed as callee
    assert "Quote numbers with spaces in options: --caller-id '0211 55500010'" in (error.hint or "")


@pytest.mark.parametrize(
    ("option", "field", "value", "callee", "example"),
    [
        ("--caller-id", "caller_id", "0211", "0157 99912345 55500010", "--caller-id '0211 …'"),
        ("--caller-id", "caller_id", "+49", "211 55500010", "--caller-id '+49 …'"),
        ("--caller-id", "caller_id", "(0211)", "5550001", "--caller-id '(0211) 5550001'"),
        ("--caller", "caller", "0211", "5550001", "--caller '0211 5550001'"),
        ("--caller", "caller", "+49", "0157 99912345", "--caller '+49 …'"),
    ],
)
def test_a_number_option_cut_at_a_space_says_how_to_quote_it(
    simulator: SipgateSimulator, option: str, field: str, value: str, callee: str, example: str
) -> None:
    error = refusal(simulator, callee=callee, **{field: value})
    assert error.message.startswith(f"{option}: ")
    assert f"Quote numbers with spaces in options: {example}" in (error.hint or "")


@pytest.mark.parametrize(
    ("field", "value"),
    [("caller_id", "abc"), ("caller_id", "+49 211 555000100000"), ("device", "e")],
)
def test_other_refusals_keep_their_own_advice(
    simulator: SipgateSimulator, field: str, value: str
) -> None:
    error = refusal(simulator, **{field: value})
    assert "Quote numbers" not in (error.hint or "")


def test_a_quoted_caller_id_is_one_number(simulator: SipgateSimulator) -> None:
    ctx = make_context(simulator.url)
    options = CallOptions(**{**GOOD, "caller_id": "0211 5550001"})  # type: ignore[arg-type]
    assert run(options, ctx) == ExitCode.OK
    (post,) = [r for r in simulator.requests if r.method == "POST"]
    body = json.loads(post.body)
    assert (body["callee"], body["callerId"]) == ("+4915799912345", "+492115550001")


@pytest.mark.parametrize(
    "args",
    [
        ["call", "--caller-id", "0211", "55500010", "-d", "e0", "--yes"],
        ["call", "0157 99912345", "--caller-id", "0211", "55500010", "-d", "e0", "--yes"],
        ["call", "-d", "e0", "--yes", "0157", "99912345", "--caller-id", "0211", "55500010"],
    ],
)
def test_the_panel_names_the_option_through_the_real_command_line(
    simulator: SipgateSimulator, console_script: str, clean_env: dict[str, str], args: list[str]
) -> None:
    """Where the shell's words land is Typer's doing: the installed command, exit 2, the
    option named in the panel, nothing sent."""
    env = {**clean_env, "SIPGATE_API_URL": simulator.url, **CREDENTIALS_ENV}
    result = subprocess.run(
        [console_script, *args, "--timeout", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    shown = flat(result.stdout + result.stderr)
    assert result.returncode == ExitCode.USAGE, shown
    assert "--caller-id: '0211' looks incomplete" in shown and "Traceback" not in shown
    assert "Quote numbers with spaces in options: --caller-id '0211" in shown
    assert not [r for r in simulator.requests if r.method == "POST"]


@pytest.mark.parametrize("typed", ["0157", "０１５７", "٠١٥٧", "۰۱۵۷۹۹"])
def test_typed_digits_of_any_script_find_the_same_suggestions(typed: str) -> None:
    """The callee question's suggestions: a few typed digits find a favourite's number,
    whichever digits the keyboard sends."""
    from prompt_toolkit.document import Document

    from sipgate_tui.prompts import Suggestion, _completer

    suggestions = [
        Suggestion("mom", also_matches="+4915799912346"),
        Suggestion("office", also_matches="+492115550002"),
    ]
    found = [c.text for c in _completer(suggestions).get_completions(Document(typed), None)]
    assert found == ["mom"]
