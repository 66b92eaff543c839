"""Issue 14, whom to call by name: the callee prompt's suggestions (contacts, favourites,
recent numbers, missed calls) and ``call NAME``, against the simulator's demo phonebook.

The completer is the real one from prompts.py, asked with a prompt_toolkit Document; whole
calls run through real prompts (pipe input) or a real terminal (pexpect)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest
from helpers import CREDENTIALS_ENV, TOKEN_ID, make_context, output_of
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput

from sipgate_tui import contacts_cache
from sipgate_tui.commands.call import CallOptions, run
from sipgate_tui.commands.call_questions import CalleeSuggestions, ContactsLoader
from sipgate_tui.contacts import parse_contact
from sipgate_tui.context import AppContext
from sipgate_tui.errors import ExitCode, InputError
from sipgate_tui.prompts import QuestionaryPrompter, source_completer
from sipgate_tui.settings import Recent
from sipgate_tui.simulator import SipgateSimulator, default_contacts

ENTER = "\r"
TAB = "\t"
ADA_MOBILE = "+4915799912347"
GRACE = "+49301234567"


def keep_demo_contacts(env: dict[str, str] | Any) -> None:
    """The simulator's phonebook in the profile's cache, as `contacts` would keep it."""
    parsed = [parse_contact(item, "DE") for item in default_contacts()]
    contacts_cache.save(env, "default", TOKEN_ID, "DE", [c for c in parsed if c])


def loaded_source(ctx: AppContext, **kwargs: Any) -> CalleeSuggestions:
    loader = ContactsLoader(ctx, "DE", TOKEN_ID, None)
    source = CalleeSuggestions(
        "DE", kwargs.pop("favourites", {}), kwargs.pop("recent", []), contacts=loader, **kwargs
    )
    source.start()
    assert loader.loaded.wait(10)
    return source


def completions(source: CalleeSuggestions, typed: str) -> list[tuple[str, str]]:
    completer = source_completer(source)
    found = completer.get_completions(Document(typed, len(typed)), CompleteEvent(True))
    return [(c.text, c.display_meta_text) for c in found]


@pytest.fixture
def ctx(simulator: SipgateSimulator) -> AppContext:
    context = make_context(simulator.url)
    keep_demo_contacts(context.env)
    return context


# -- the suggestions -----------------------------------------------------------------------


def test_a_name_suggests_each_of_the_contacts_numbers_labelled_with_its_type(
    ctx: AppContext,
) -> None:
    found = completions(loaded_source(ctx), "ada")
    assert [text for text, _ in found[:2]] == ["Ada Lovelace · mobile", "Ada Lovelace · work"]
    assert found[0][1].startswith("+49 1579 9912347")
    assert "Analytical Engines Ltd" in found[0][1]


@pytest.mark.parametrize("typed", ["muller", "mueller", "MÜLLER", "jurgen"])
def test_case_and_accents_are_folded(ctx: AppContext, typed: str) -> None:
    texts = [text for text, _ in completions(loaded_source(ctx), typed)]
    assert texts[:3] == [
        "Jürgen Müller · home",
        "Jürgen Müller · mobile",
        "Jürgen Müller · work fax",
    ]


def test_an_unusable_number_is_shown_as_such_and_never_dialled(ctx: AppContext) -> None:
    source = loaded_source(ctx)
    assert completions(source, "flower") == [
        ("Flower shop · work · 0800-FLOWERS", "cannot be dialled")
    ]
    with pytest.raises(InputError) as raised:
        source.resolve("Flower shop · work · 0800-FLOWERS")
    assert raised.value.code == "invalid-number"
    assert "0800-FLOWERS" in raised.value.message


def test_favourites_recent_numbers_and_contacts_come_together_best_first(
    ctx: AppContext,
) -> None:
    source = loaded_source(
        ctx,
        favourites={"grace": GRACE, "boss": "+4921155500099"},
        recent=[Recent("+4921155500099", "2026-12-01T10:00:00Z", "+49 211 55500099")],
    )
    texts = [text for text, _ in completions(source, "gra")]
    assert texts[:2] == ["grace", "Grace Hopper · work"]
    # Digits find the favourite, the recent number and the contact with that number.
    digits = [text for text, _ in completions(source, "0211 555")]
    assert "boss" in digits and "+49 211 55500099" in digits and "Reception · work" in digits


def test_digits_suggest_the_number_they_match_not_the_contacts_others(ctx: AppContext) -> None:
    texts = [text for text, _ in completions(loaded_source(ctx), "0157 999")]
    assert "Ada Lovelace · mobile" in texts
    assert "Ada Lovelace · work" not in texts


def test_picking_a_suggestion_gives_its_number_and_the_name_it_goes_by(ctx: AppContext) -> None:
    number, name, contact, source_kind = loaded_source(ctx).resolve("Ada Lovelace · mobile")
    assert (number.e164, name, source_kind) == (ADA_MOBILE, "Ada Lovelace (mobile)", "contact")
    assert contact is not None and contact.to_json()["id"] == "c1"


def test_a_typed_number_is_named_from_the_cache(ctx: AppContext) -> None:
    number, name, _, _ = loaded_source(ctx).resolve("0157 99912347")
    assert (number.e164, name) == (ADA_MOBILE, "Ada Lovelace (mobile)")


# -- through real prompts (pipe input) ---------------------------------------------------------


@pytest.fixture
def pipe() -> Iterator[PipeInput]:
    with create_pipe_input() as pipe_input:
        yield pipe_input


class Flow:
    """``call`` in a thread against real prompts (keys before the confirmation are thrown
    away by design, so "y" is sent once the summary is there)."""

    def __init__(self, ctx: AppContext, options: CallOptions) -> None:
        self.ctx, self.outcome = ctx, []  # type: ignore[var-annotated]
        self.thread = threading.Thread(target=self._run, args=(options,), daemon=True)
        self.thread.start()

    def _run(self, options: CallOptions) -> None:
        try:
            self.outcome.append(run(options, self.ctx))
        except Exception as error:  # noqa: BLE001 - handed to the test
            self.outcome.append(error)

    def summary(self) -> str:
        for _ in range(1000):  # bounded: at most about 10 s
            text = output_of(self.ctx.out)
            if "Ready to call" in text or not self.thread.is_alive():
                return text
            self.thread.join(0.01)
        raise AssertionError("the summary never appeared")

    def result(self) -> object:
        self.thread.join(10)
        assert not self.thread.is_alive(), "the flow is still waiting for input"
        return self.outcome[0]


def test_a_picked_contact_is_called_and_the_summary_says_who(
    simulator: SipgateSimulator, pipe: PipeInput
) -> None:
    prompter = QuestionaryPrompter(input=pipe, output=DummyOutput())
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)
    keep_demo_contacts(ctx.env)
    # The suggestion's text, then Enter for the first phone and for the phone's own number.
    pipe.send_text("Ada Lovelace · mobile" + ENTER + ENTER + ENTER)
    flow = Flow(ctx, CallOptions())
    assert "Ada Lovelace (mobile)" in flow.summary()
    pipe.send_text("y")
    assert flow.result() == ExitCode.OK
    assert [r.json["callee"] for r in simulator.call_requests()] == [ADA_MOBILE]


def test_a_missed_call_is_called_back_with_enter_enter_enter_and_a_confirmation(
    simulator: SipgateSimulator, pipe: PipeInput
) -> None:
    simulator.add_missed_call(GRACE)
    prompter = QuestionaryPrompter(input=pipe, output=DummyOutput())
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)
    keep_demo_contacts(ctx.env)
    pipe.send_text(ENTER + ENTER + ENTER)
    flow = Flow(ctx, CallOptions())
    summary = flow.summary()
    assert "Grace Hopper (work)" in summary
    pipe.send_text("y")
    assert flow.result() == ExitCode.OK
    assert [r.json["callee"] for r in simulator.call_requests()] == [GRACE]


def test_call_name_in_a_terminal_is_a_choice_when_it_names_several_numbers(
    simulator: SipgateSimulator, pipe: PipeInput
) -> None:
    prompter = QuestionaryPrompter(input=pipe, output=DummyOutput())
    ctx = make_context(simulator.url, prompter=prompter, terminal=True)
    keep_demo_contacts(ctx.env)
    pipe.send_text("\x1b[B" + ENTER)  # Ada's second number: work
    flow = Flow(ctx, CallOptions(callee="ada", device="e0", wait=False))
    assert "Ada Lovelace (work)" in flow.summary()
    pipe.send_text("y")
    assert flow.result() == ExitCode.OK
    assert [r.json["callee"] for r in simulator.call_requests()] == ["+492115550003"]


# -- call NAME -----------------------------------------------------------------------------


def call(ctx: AppContext, callee: str, **options: Any) -> object:
    try:
        return run(CallOptions(callee=callee, device="e0", **options), ctx)
    except InputError as error:
        return error


def test_call_grace_yes_without_a_terminal_dials_her_only_number(
    simulator: SipgateSimulator,
) -> None:
    ctx = make_context(simulator.url)  # no cache yet: fetched once, and kept
    assert call(ctx, "grace", yes=True, json=True) == ExitCode.OK
    assert [r.json["callee"] for r in simulator.call_requests()] == [GRACE]
    document = json.loads(output_of(ctx.out))
    assert document["callee"] == {
        "number": GRACE,
        "name": "Grace Hopper (work)",
        "source": "contact",
        "contact": {
            "id": "c2",
            "name": "Grace Hopper",
            "numberType": "work",
            "phonebook": "shared",
        },
        "link": None,
    }
    assert contacts_cache.load(ctx.env, "default", TOKEN_ID, "DE") is not None


def test_an_ambiguous_name_without_a_terminal_lists_the_candidates_and_sends_nothing(
    simulator: SipgateSimulator, ctx: AppContext
) -> None:
    error = call(ctx, "ada", yes=True)
    assert isinstance(error, InputError)
    assert (error.code, error.exit_code) == ("ambiguous-name", ExitCode.USAGE)
    assert "Ada Lovelace (mobile) +49 1579 9912347" in error.message
    assert "Ada Lovelace (work) +49 211 5550003" in error.message
    assert simulator.call_requests() == []


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("mueller mobile", "+491605550005"),
        ("MULLER MOBILE", "+491605550005"),
        ("Garcia", "+34612345678"),
    ],
)
def test_whole_name_words_folded_and_a_type_pick_one_number(
    simulator: SipgateSimulator, ctx: AppContext, name: str, number: str
) -> None:
    assert call(ctx, name, yes=True) == ExitCode.OK
    assert [r.json["callee"] for r in simulator.call_requests()] == [number]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("lovel", "unknown-name"),  # part of a word: nobody confirms it, so it does not count
        ("nobody", "unknown-name"),
        ("Charles Babbage", "contact-without-number"),
        ("flower shop", "contact-without-number"),
    ],
)
def test_names_that_name_nothing_to_dial_are_usage_errors(
    simulator: SipgateSimulator, ctx: AppContext, name: str, code: str
) -> None:
    error = call(ctx, name, yes=True)
    assert isinstance(error, InputError) and error.code == code
    assert error.exit_code == ExitCode.USAGE
    assert simulator.call_requests() == []


def test_a_favourite_comes_before_a_contact(simulator: SipgateSimulator, ctx: AppContext) -> None:
    ctx.make_settings().set_favourite("grace", "+4915799912345")
    assert call(ctx, "grace", yes=True) == ExitCode.OK
    assert [r.json["callee"] for r in simulator.call_requests()] == ["+4915799912345"]
    assert not any(r.path == "/contacts" for r in simulator.requests)


def test_a_dry_run_shows_the_contact_and_number_chosen_from_the_cache(
    simulator: SipgateSimulator, ctx: AppContext
) -> None:
    assert call(ctx, "ada mobile", dry_run=True, json=True) == ExitCode.OK
    document = json.loads(output_of(ctx.out))
    assert document["request"]["callee"] == ADA_MOBILE
    assert document["callee"]["contact"]["numberType"] == "mobile"
    assert simulator.requests == []  # a dry run reads no account


# -- a real terminal -------------------------------------------------------------------------


@pytest.fixture
def terminal_env(
    clean_env: dict[str, str], simulator: SipgateSimulator, tmp_path: Path
) -> dict[str, str]:
    env = {
        **clean_env,
        **CREDENTIALS_ENV,
        "SIPGATE_API_URL": simulator.url,
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
        "SIPGATE_TUI_CACHE_DIR": str(tmp_path / "cache"),
    }
    env.pop("COLUMNS", None)
    keep_demo_contacts(env)
    return env


def test_a_person_types_ada_picks_her_mobile_and_the_phone_rings(
    console_script: str, terminal_env: dict[str, str], simulator: SipgateSimulator
) -> None:
    child = pexpect.spawn(
        console_script,
        ["call"],
        env=terminal_env,
        dimensions=(40, 100),
        encoding="utf-8",
        timeout=15,
    )
    child.expect("Whom do you want to call")
    child.send("ada")
    child.expect("Ada Lovelace · mobile")  # the menu, from the cache
    child.send(TAB + ENTER)  # the first suggestion, taken
    child.expect("Which phone rings first")
    child.send(ENTER)
    child.expect("Which number should they see")
    child.send(ENTER)
    child.expect("Place this call")
    child.send("y")
    child.expect("Connected to .*Ada Lovelace \\(mobile\\)")  # the live line names her
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert "Traceback" not in (child.before or "")
    assert [r.json["callee"] for r in simulator.call_requests()] == [ADA_MOBILE]
