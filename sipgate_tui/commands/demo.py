"""``sipgate-tui demo``: the whole guided flow against the built-in simulated account.

It *is* the test simulator, started on 127.0.0.1 in a background thread. The demo builds its own
context from the real one, keeping only the consoles: the API address is the simulator's, the
credentials live in a throwaway in-memory store, settings in a temporary directory, and every
``SIPGATE_*`` variable is ignored. So a demo can never place a real call, read or write the
real keyring or config, or need the network. The login and call steps are the real commands.

In a terminal the call questions are asked for real; without one (``< /dev/null``, or
``--no-input``) a recorded walkthrough answers them through the same code and panels.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sipgate_tui import render
from sipgate_tui.commands import call, login
from sipgate_tui.context import AppContext, build_context
from sipgate_tui.credentials import Credentials, decode_item, encode_item
from sipgate_tui.errors import Cancelled, ExitCode
from sipgate_tui.options import GlobalOptions
from sipgate_tui.prompts import (
    HIDDEN_ECHO,
    LiveHint,
    Option,
    Prompter,
    Suggestion,
    SuggestionSource,
    Validator,
)
from sipgate_tui.simulator import SimulatedToken, SipgateSimulator

PROFILE = "demo"
TOKEN_ID = "token-DEMO01"
TOKEN = "00000000-0000-4000-8000-000000000000"  # visibly fake, and only the simulator knows it

# The recorded walkthrough: one answer per question, in the order they come. The first pick
# of a phone is the offline one, so the walkthrough shows that warning too.
LOGIN_ANSWERS: dict[str, list[Any]] = {"Token id:": [TOKEN_ID], "Token (hidden):": [TOKEN]}
CALL_ANSWERS: dict[str, list[Any]] = {
    "Whom do you want to call?": ["0157 99912345"],
    "Which phone rings first?": ["Softphone", "Desk phone"],
    "What now?": ["Pick another phone"],
    "Which number should they see?": ["+49 211 5550001"],
    "Place this call?": [True],
}


# The demo account's favourites, so typing a name (and its suggestions) can be tried.
DEMO_FAVOURITES = {"mom": "+4915799912346", "office": "+492115550002"}


class MemoryStore:
    """A credential store that forgets everything when the demo ends (never the keyring)."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}

    def backend_name(self) -> str:
        return "the demo's memory, forgotten when it ends (never your keyring)"

    def require_backend(self, *, for_removal: bool = False) -> str:
        return self.backend_name()

    def read(self, profile: str) -> Credentials | None:
        value = self.items.get(profile)
        return decode_item(value, profile) if value is not None else None

    def write(self, profile: str, credentials: Credentials) -> None:
        self.items[profile] = encode_item(credentials)

    def delete(self, profile: str) -> bool:
        return self.items.pop(profile, None) is not None

    def item_location(self, profile: str, backend: str) -> str:
        return backend


class DemoPrompter:
    """Answers the questions it has an answer for, showing them as if typed; passes the rest
    to ``real`` (the terminal), or, without one, fails loudly (a walkthrough gap is a bug)."""

    def __init__(
        self, ctx: AppContext, answers: Mapping[str, list[Any]], real: Prompter | None
    ) -> None:
        self._ctx = ctx
        self._answers = {question: list(queue) for question, queue in answers.items()}
        self._real = real

    def _scripted(self, message: str) -> Any:
        queue = self._answers.get(message)
        if queue:
            return queue.pop(0)
        return None

    def _terminal(self, message: str) -> Prompter:
        """The real prompter, for a question the walkthrough does not answer."""
        if self._real is None:
            raise RuntimeError(f"the demo walkthrough has no answer for: {message}")
        return self._real

    def text(
        self,
        message: str,
        *,
        validate: Validator | None = None,
        default: str = "",
        placeholder: str | Callable[[], str] | None = None,
        live_hint: LiveHint | None = None,
        suggestions: Sequence[Suggestion] | SuggestionSource = (),
        on_shown: Any = None,
    ) -> str:
        answer = self._scripted(message)
        if answer is None:
            return self._terminal(message).text(
                message,
                validate=validate,
                default=default,
                placeholder=placeholder,
                live_hint=live_hint,
                suggestions=suggestions,
                on_shown=on_shown,
            )
        if on_shown is not None:
            on_shown()
        hint = live_hint(answer) if live_hint is not None else ""
        self._ctx.show(render.demo_answer(message, f"{answer}   {hint}".rstrip()))
        return str(answer)

    def secret(self, message: str, *, validate: Validator | None = None) -> str:
        answer = self._scripted(message)
        if answer is None:
            return self._terminal(message).secret(message, validate=validate)
        self._ctx.show(render.demo_answer(message, HIDDEN_ECHO * 12 + "  (the fake demo token)"))
        return str(answer)

    def select(self, message: str, options: Sequence[Option], *, default: object = None) -> object:
        answer = self._scripted(message)
        if answer is None:
            return self._terminal(message).select(message, options, default=default)
        titles = [option.title for option in options]
        chosen = next(i for i, title in enumerate(titles) if str(answer) in title)
        self._ctx.show(render.demo_menu(message, titles, chosen))
        self._ctx.show(render.demo_answer(message, titles[chosen]))
        return options[chosen].value

    def confirm(self, message: str, *, default: bool) -> bool:
        answer = self._scripted(message)
        if answer is None:
            return bool(self._terminal(message).confirm(message, default=default))
        self._ctx.show(render.demo_answer(message, "Yes" if answer else "No"))
        return bool(answer)


@dataclass(frozen=True)
class DemoOptions:
    """``demo``: which kind of account to play."""

    neo: bool = False  # a sipgate Neo account (calls through POST /calls and a channel)


def run(options: DemoOptions, ctx: AppContext) -> ExitCode:
    """Play the demo on ``ctx``'s consoles; exit code 0 when the simulator got the call."""
    interactive = ctx.can_prompt()
    store = MemoryStore()
    tokens = {TOKEN_ID: SimulatedToken(TOKEN)}
    account_type = "neo" if options.neo else "classic"
    with (
        SipgateSimulator(tokens=tokens, account_type=account_type) as simulator,
        tempfile.TemporaryDirectory(prefix="sipgate-tui-demo-") as scratch,
        render.badge("DEMO"),
    ):
        simulator.add_missed_sample()  # the demo's history has calls to call back
        settings_env = {
            "SIPGATE_TUI_CONFIG_DIR": f"{scratch}/config",
            "SIPGATE_TUI_STATE_DIR": f"{scratch}/state",
            "SIPGATE_TUI_CACHE_DIR": f"{scratch}/cache",
        }
        # The real wiring with the demo's pieces: the simulator's address, the memory store,
        # the temporary settings, and an environment holding nothing else (no SIPGATE_*).
        prompter: DemoPrompter | None = None
        demo = build_context(
            GlobalOptions(api_url=simulator.url, no_input=False, profile=PROFILE),
            env=settings_env,
            out=ctx.out,
            err=ctx.err,
            terminal=True,  # the walkthrough answers questions, so the commands may ask them
            make_store=lambda: store,
            make_prompter=lambda: _made(prompter),
        )
        if interactive:
            from sipgate_tui.prompts import QuestionaryPrompter

            prompter = DemoPrompter(demo, LOGIN_ANSWERS, QuestionaryPrompter(qmark="DEMO ?"))
        else:
            prompter = DemoPrompter(demo, {**LOGIN_ANSWERS, **CALL_ANSWERS}, None)
        settings = demo.make_settings()
        for name, number in DEMO_FAVOURITES.items():
            settings.set_favourite(name, number)
        why_recorded = None if interactive else ctx.why_no_prompts()
        demo.show(render.demo_intro(why_recorded=why_recorded, token_id=TOKEN_ID, neo=options.neo))
        try:
            login.run(login.LoginOptions(), demo)
            call.run(call.CallOptions(wait=interactive), demo)
        except Cancelled:
            demo.show(render.cancelled(Cancelled("Demo ended. Nothing real happened.")))
            return ExitCode.CANCELLED
        finally:
            _let_lookups_finish()
        requests = [
            request
            for request in simulator.requests
            if request.method == "POST"
            and request.path in ("/sessions/calls", "/calls")
            and request.status == 200
        ]
        if requests:
            demo.show(render.demo_done(requests[-1].json or {}))
    return ExitCode.OK


def _made(prompter: DemoPrompter | None) -> DemoPrompter:
    assert prompter is not None, "made before the first question"
    return prompter


def _let_lookups_finish(deadline: float = 2.0) -> None:
    """Wait (briefly) for background work still talking to the simulator (lookups, and the
    prompt's contacts and missed calls), so none of it is cut off mid-request when it stops,
    and the contacts cache is written before the demo's directory is removed.
    """
    import threading
    import time

    until = time.monotonic() + deadline
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread.name.startswith("sipgate-tui-"):
            thread.join(max(0.0, until - time.monotonic()))
