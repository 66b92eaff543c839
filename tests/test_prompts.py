"""Real questionary prompts driven through prompt_toolkit's pipe input."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import make_context, output_of
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.errors import Cancelled, ExitCode
from sipgate_tui.prompts import QuestionaryPrompter
from sipgate_tui.simulator import SipgateSimulator

ENTER = "\r"
CTRL_C = "\x03"
CTRL_D = "\x04"


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


@pytest.fixture
def prompter(pipe: PipeInput) -> QuestionaryPrompter:
    return QuestionaryPrompter(input=pipe, output=DummyOutput())


def test_text_returns_what_was_typed(pipe: PipeInput, prompter: QuestionaryPrompter) -> None:
    pipe.send_text("e0" + ENTER)
    assert prompter.text("Which phone?") == "e0"


def test_text_keeps_asking_until_the_validator_accepts(
    pipe: PipeInput, prompter: QuestionaryPrompter
) -> None:
    seen: list[str] = []

    def validate(text: str) -> str | None:
        seen.append(text)
        return None if text == "e0" else "not a device id"

    pipe.send_text("e01" + ENTER + "\x7f" + "\x7f" + "0" + ENTER)  # backspace twice, retype
    assert prompter.text("Which phone?", validate=validate) == "e0"
    assert seen == ["e01", "e0"]  # validated on Enter only, not while typing


@pytest.mark.parametrize("key", [CTRL_C, CTRL_D])
def test_ctrl_c_and_ctrl_d_cancel_a_text_prompt(
    pipe: PipeInput, prompter: QuestionaryPrompter, key: str
) -> None:
    pipe.send_text(key)
    with pytest.raises(Cancelled):
        prompter.text("Which phone?")


@pytest.mark.parametrize(
    ("keys", "default", "answer"),
    [("y", False, True), ("n", True, False), (ENTER, True, True), (ENTER, False, False)],
)
def test_confirm(
    pipe: PipeInput, prompter: QuestionaryPrompter, keys: str, default: bool, answer: bool
) -> None:
    pipe.send_text(keys)
    assert prompter.confirm("Place this call?", default=default) is answer


def test_an_enter_typed_ahead_does_not_place_the_call(
    simulator: SipgateSimulator, pipe: PipeInput, prompter: QuestionaryPrompter
) -> None:
    # Enter for the caller ID, and one more "to be sure": the confirmation defaults to No.
    pipe.send_text("e0" + ENTER + "0157 99912345" + ENTER + ENTER + ENTER)
    with pytest.raises(Cancelled):
        run(CallOptions(), make_context(simulator.url, prompter=prompter, terminal=True))
    assert simulator.requests == []


def test_ctrl_c_cancels_the_confirmation(pipe: PipeInput, prompter: QuestionaryPrompter) -> None:
    pipe.send_text(CTRL_C)
    with pytest.raises(Cancelled):
        prompter.confirm("Place this call?", default=True)


def test_the_whole_guided_call_through_real_prompts(
    simulator: SipgateSimulator, pipe: PipeInput, prompter: QuestionaryPrompter
) -> None:
    pipe.send_text(
        "e01"
        + ENTER
        + "\x7f\x7f0"
        + ENTER  # a typo, corrected after the error
        + "0049 15799912345"
        + ENTER
        + ENTER  # the phone's own number
        + "y"
    )
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)
    assert run(CallOptions(), ctx) == ExitCode.OK
    assert [r.json for r in simulator.call_requests()] == [
        {"caller": "e0", "callee": "+4915799912345"}
    ]
    assert "Call accepted" in output_of(ctx.out)


@pytest.mark.parametrize(
    "typed",
    [
        CTRL_C,
        "e0" + ENTER + CTRL_C,
        "e0" + ENTER + CTRL_D,
        "e0" + ENTER + "0157 99912345" + ENTER + CTRL_C,
        "e0" + ENTER + "0157 99912345" + ENTER + ENTER + CTRL_C,
        "e0" + ENTER + "0157 99912345" + ENTER + ENTER + "n",
    ],
    ids=["device", "callee", "callee-ctrl-d", "caller-id", "confirm", "confirm-no"],
)
def test_cancelling_anywhere_in_the_real_flow_sends_nothing(
    simulator: SipgateSimulator, pipe: PipeInput, prompter: QuestionaryPrompter, typed: str
) -> None:
    pipe.send_text(typed)
    with pytest.raises(Cancelled):
        run(CallOptions(), make_context(simulator.url, prompter=prompter, terminal=True))
    assert simulator.requests == []
