"""Real questionary prompts driven through prompt_toolkit's pipe input."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from helpers import TOKEN, TOKEN_ID, make_context, output_of
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.errors import Cancelled, ExitCode
from sipgate_tui.prompts import QuestionaryPrompter
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator

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
    [
        ("y", False, True),
        ("n", True, False),
        (ENTER, True, True),
        (ENTER, False, False),
        # Arrows and Enter alone: each arrow switches the answer shown.
        ("\x1b[D" + ENTER, False, True),
        ("\x1b[B" + ENTER, False, True),
        ("\x1b[C\x1b[C" + ENTER, False, False),
        ("\x1b[D" + ENTER, True, False),
    ],
)
def test_confirm(
    pipe: PipeInput, prompter: QuestionaryPrompter, keys: str, default: bool, answer: bool
) -> None:
    pipe.send_text(keys)
    assert prompter.confirm("Place this call?", default=default) is answer


def test_keys_typed_before_the_confirmation_do_not_answer_it(
    simulator: SipgateSimulator, pipe: PipeInput, prompter: QuestionaryPrompter
) -> None:
    # Enter for the caller ID, and two more "to be sure": they arrive before the question
    # and are thrown away, so the confirmation waits for an answer given after it.
    pipe.send_text("0157 99912345" + ENTER + "e0" + ENTER + ENTER + ENTER + ENTER)
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)
    outcome: list[object] = []
    flow = threading.Thread(target=lambda: outcome.append(run(CallOptions(), ctx)))
    flow.start()
    for _ in range(500):  # wait (bounded) until the summary is on screen
        if "Ready to call" in output_of(ctx.out) or not flow.is_alive():
            break
        flow.join(0.01)
    assert simulator.call_requests() == []  # nothing answered the question yet
    pipe.send_text("y")
    flow.join(10)
    assert outcome == [ExitCode.OK]
    assert len(simulator.call_requests()) == 1


@pytest.mark.parametrize("key", [CTRL_C, CTRL_D])
def test_ctrl_c_or_d_cancels_the_confirmation(
    pipe: PipeInput, prompter: QuestionaryPrompter, key: str
) -> None:
    pipe.send_text(key)
    with pytest.raises(Cancelled):
        prompter.confirm("Place this call?", default=True)


DOWN = "\x1b[B"


@pytest.fixture
def typing_simulator(simulator: SipgateSimulator) -> SipgateSimulator:
    """A token without the read scopes: every question is typed."""
    simulator.tokens[TOKEN_ID] = SimulatedToken(TOKEN, frozenset({"sessions:calls:write"}))
    return simulator


class Flow:
    """``call`` running in a thread against real prompts, so keys can arrive after a question
    is on screen (keys typed before the confirmation are thrown away, by design)."""

    def __init__(self, ctx: object, options: CallOptions) -> None:
        self.ctx = ctx
        self.outcome: list[object] = []
        self.thread = threading.Thread(target=self._run, args=(options,), daemon=True)
        self.thread.start()

    def _run(self, options: CallOptions) -> None:
        try:
            self.outcome.append(run(options, self.ctx))  # type: ignore[arg-type]
        except Exception as error:  # noqa: BLE001 - handed to the test
            self.outcome.append(error)

    def wait_for_summary(self) -> None:
        for _ in range(1000):  # bounded: at most about 10 s
            if "Ready to call" in output_of(self.ctx.out) or not self.thread.is_alive():
                return
            self.thread.join(0.01)
        raise AssertionError("the summary never appeared")

    def result(self) -> object:
        self.thread.join(10)
        assert not self.thread.is_alive(), "the flow is still waiting for input"
        return self.outcome[0]


def test_the_whole_guided_call_through_real_prompts_with_typed_input(
    typing_simulator: SipgateSimulator, pipe: PipeInput, prompter: QuestionaryPrompter
) -> None:
    pipe.send_text(
        "0049 15799912345"
        + ENTER
        + "e01"
        + ENTER
        + "\x7f\x7f0"
        + ENTER  # a typo, corrected after the error
        + ENTER  # the phone's own number
    )
    flow = Flow(make_context(typing_simulator.url, prompter=prompter, terminal=True), CallOptions())
    flow.wait_for_summary()
    pipe.send_text("y")
    assert flow.result() == ExitCode.OK
    assert [r.json for r in typing_simulator.call_requests()] == [
        {"caller": "e0", "callee": "+4915799912345"}
    ]
    assert "Call accepted" in output_of(flow.ctx.out)


def test_the_pickers_are_driven_with_arrow_keys(
    simulator: SipgateSimulator, pipe: PipeInput, prompter: QuestionaryPrompter
) -> None:
    # Phones: Desk phone (e0), Home phone (x0), Mobile (y0), then the offline Softphone (e1).
    pipe.send_text(
        "0157 99912345"
        + ENTER
        + DOWN
        + DOWN
        + ENTER  # Mobile (y0)
        + DOWN
        + ENTER  # the first of the account's numbers as caller ID
    )
    flow = Flow(make_context(simulator.url, prompter=prompter, terminal=True), CallOptions())
    flow.wait_for_summary()
    pipe.send_text("y")
    assert flow.result() == ExitCode.OK
    assert [r.json for r in simulator.call_requests()] == [
        {"caller": "y0", "callee": "+4915799912345", "callerId": "+492115550001"}
    ]


@pytest.mark.parametrize(
    ("typed", "at_confirm"),
    [
        (CTRL_C, None),
        ("0157 99912345" + ENTER + CTRL_C, None),
        ("0157 99912345" + ENTER + CTRL_D, None),
        ("0157 99912345" + ENTER + "e0" + ENTER + CTRL_C, None),
        ("0157 99912345" + ENTER + "e0" + ENTER + ENTER, CTRL_C),
        ("0157 99912345" + ENTER + "e0" + ENTER + ENTER, "n"),
        ("0157 99912345" + ENTER + "e0" + ENTER + ENTER, ENTER),  # the default is No
    ],
    ids=[
        "callee",
        "device",
        "device-ctrl-d",
        "caller-id",
        "confirm",
        "confirm-no",
        "confirm-enter",
    ],
)
def test_cancelling_anywhere_in_the_real_flow_sends_nothing(
    typing_simulator: SipgateSimulator,
    pipe: PipeInput,
    prompter: QuestionaryPrompter,
    typed: str,
    at_confirm: str | None,
) -> None:
    pipe.send_text(typed)
    flow = Flow(make_context(typing_simulator.url, prompter=prompter, terminal=True), CallOptions())
    if at_confirm is not None:
        flow.wait_for_summary()
        pipe.send_text(at_confirm)
    assert isinstance(flow.result(), Cancelled)
    assert typing_simulator.call_requests() == []


@pytest.mark.parametrize("key", [CTRL_C, CTRL_D])
def test_ctrl_c_and_ctrl_d_cancel_a_select(
    pipe: PipeInput, prompter: QuestionaryPrompter, key: str
) -> None:
    from sipgate_tui.prompts import Option

    pipe.send_text(key)
    with pytest.raises(Cancelled):
        prompter.select("Which phone rings first?", [Option("Desk phone", "e0")])


# -- redraws asked for by the background loads (the contacts, the missed calls) ---------------


def test_a_redraw_from_another_thread_redraws_the_running_question(pipe: PipeInput) -> None:
    from prompt_toolkit import PromptSession

    from sipgate_tui.prompts import redraw_from_any_thread

    session: PromptSession[str] = PromptSession(input=pipe, output=DummyOutput())
    application = session.app
    redraw = redraw_from_any_thread(application)
    renders: list[threading.Thread] = []

    def rendered(_: object) -> None:
        renders.append(threading.current_thread())
        if len(renders) == 1:  # the question is on screen: a load finishes elsewhere
            threading.Thread(target=redraw).start()
        elif len(renders) == 2:  # its redraw came, in the question's own thread
            pipe.send_text("done" + ENTER)

    application.after_render += rendered
    failsafe = threading.Timer(20, lambda: pipe.send_text("no redraw came" + ENTER))
    failsafe.start()
    try:
        answer = session.prompt("Whom do you want to call? ")
    finally:
        failsafe.cancel()
    assert answer == "done"
    assert renders[1] is renders[0]  # drawn by the question's own thread, never the loader's


def test_a_redraw_asked_for_after_the_question_ended_is_nothing(
    pipe: PipeInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load that finishes as the question ends (or after) draws nothing and raises
    nothing: no traceback over the next question (seen in CI: prompt_toolkit's own
    invalidate raced the end of the question)."""
    from prompt_toolkit import PromptSession

    from sipgate_tui.prompts import redraw_from_any_thread

    failures: list[object] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    session: PromptSession[str] = PromptSession(input=pipe, output=DummyOutput())
    pipe.send_text("0157 99912345" + ENTER)
    assert session.prompt("Whom do you want to call? ") == "0157 99912345"

    late = threading.Thread(target=redraw_from_any_thread(session.app))
    late.start()
    late.join()
    assert failures == []


def test_a_watcher_that_fails_does_not_stop_the_others() -> None:
    from sipgate_tui.commands.call_questions import CalleeSuggestions

    suggestions = CalleeSuggestions("DE", {}, [])
    seen: list[str] = []

    def ended_question() -> None:
        raise RuntimeError("no running event loop")

    suggestions.watch(ended_question)
    suggestions.watch(lambda: seen.append("redrawn"))
    suggestions._changed()  # what a loader calls, in its thread, when it has news
    assert seen == ["redrawn"]
