"""Interactive questions behind a small interface, so commands can be driven by a script in tests.

The real implementation uses questionary (imported only when a question is asked). Ctrl-C and
Ctrl-D at any prompt become :class:`Cancelled`, which the CLI turns into exit code 130.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from sipgate_tui.errors import Cancelled

if TYPE_CHECKING:
    from prompt_toolkit.formatted_text import FormattedText, StyleAndTextTuples
    from prompt_toolkit.key_binding import KeyBindings

Validator = Callable[[str], "str | None"]  # returns an error message, or None when fine
# What a hidden answer (the token) shows for each character typed: the demo and masked
# tokens (known_secrets.MASK) use the same character.
HIDDEN_ECHO = "•"


@dataclass(frozen=True)
class Suggestion:
    """A completion for a text prompt: the text it inserts, and a note shown beside it.

    ``note`` may be a function: it is then called only when the suggestion is shown, so
    formatting it costs nothing before the question appears.
    """

    text: str
    note: str | Callable[[], str] = ""
    also_matches: str = ""  # e.g. a favourite's number, so typing digits finds its name
    # What picking it means (a contact's number, a missed call): the question's owner reads
    # it back from the text; the prompt itself only shows and inserts ``text``.
    value: object = None

    @property
    def shown_note(self) -> str:
        """The note, computed if need be."""
        return self.note() if callable(self.note) else self.note


class SuggestionSource(Protocol):
    """Suggestions found per keystroke (``find``), best first, instead of a fixed list: the
    callee prompt's contacts, favourites, recent numbers and missed calls. Iterating gives
    the suggestions known without searching (for scripted prompters)."""

    def find(self, typed: str) -> Sequence[Suggestion]:
        """The suggestions for the text typed so far, best first (a few dozen at most)."""
        ...

    def watch(self, changed: Callable[[], None]) -> None:
        """Call ``changed`` (from any thread) when what ``find`` answers may have changed."""
        ...

    def __iter__(self) -> Iterator[Suggestion]:
        """The suggestions known without searching."""
        ...


@dataclass(frozen=True)
class Option:
    """One entry of a select list."""

    title: str
    value: object


LiveHint = Callable[[str], str]  # what the typed text means so far, shown while typing


class Prompter(Protocol):
    """What a command may ask the user. Every method raises Cancelled on Ctrl-C / Ctrl-D."""

    def text(
        self,
        message: str,
        *,
        validate: Validator | None = None,
        default: str = "",
        placeholder: str | Callable[[], str] | None = None,
        live_hint: LiveHint | None = None,
        suggestions: Sequence[Suggestion] | SuggestionSource = (),
        on_shown: Callable[[], None] | None = None,
    ) -> str:
        """Ask for a line of text; ``validate`` must accept it before Enter takes it.

        ``placeholder`` is shown greyed while nothing is typed (a function: asked at every
        redraw); ``live_hint`` says what the text typed so far means; ``suggestions`` are
        a fixed list or a :class:`SuggestionSource` searched per keystroke; ``on_shown``
        runs once, when the question is on screen.
        """
        ...

    def secret(self, message: str, *, validate: Validator | None = None) -> str:
        """Ask for a secret; what is typed is not shown."""
        ...

    def select(self, message: str, options: Sequence[Option], *, default: object = None) -> object:
        """Pick one of ``options`` with the arrow keys; returns its value."""
        ...

    def confirm(self, message: str, *, default: bool) -> bool:
        """Ask a yes/no question."""
        ...


class QuestionaryPrompter:
    """Prompts on the terminal with questionary.

    ``input``/``output`` are prompt_toolkit objects; tests pass a pipe input and a dummy
    output, the app passes nothing (the real terminal).
    """

    def __init__(self, input: Any = None, output: Any = None, qmark: str = "?") -> None:
        self._io: dict[str, Any] = {
            key: value for key, value in (("input", input), ("output", output)) if value
        }
        self._io["qmark"] = qmark  # "DEMO ?" in the demo

    def text(
        self,
        message: str,
        *,
        validate: Validator | None = None,
        default: str = "",
        placeholder: str | Callable[[], str] | None = None,
        live_hint: LiveHint | None = None,
        suggestions: Sequence[Suggestion] | SuggestionSource = (),
        on_shown: Callable[[], None] | None = None,
    ) -> str:
        """See :meth:`Prompter.text`."""
        import questionary

        # Validate on Enter only: an error while the user is still typing is noise. What the
        # text means so far is shown instead at the right of the line (hidden when too narrow).
        extra: dict[str, Any] = {"validate_while_typing": False, **self._io}
        source: SuggestionSource | None = suggestions if _is_source(suggestions) else None
        if source is not None:
            # Suggestions that arrive later (a refreshed phonebook, the missed calls) redraw
            # the question and its hints without waiting for a key.
            on_shown = _then_watch(on_shown, source)
        shown = _Once(on_shown)
        if live_hint is not None or on_shown is not None:
            hint = live_hint or (lambda text: "")

            def right_prompt() -> Any:
                # The right prompt is drawn with the question: the moment to run on_shown.
                shown()
                return _live_text(hint, _current_text())

            extra["rprompt"] = right_prompt
        if placeholder:
            # In parentheses, so it cannot pass for typed text where colours are off
            # (NO_COLOR); and gone once the prompt is done, so it never reads as the answer.
            # Shown only where it fits on the question's line: cut by the terminal's edge it
            # would break a number in two.
            placeholder_text = placeholder if callable(placeholder) else (lambda: placeholder)

            def shown_placeholder() -> Any:
                text = str(placeholder_text() or "")
                line = len(f"{self._io['qmark']} {message} ({text})")
                return "" if not text or _prompt_done() or not _fits(line) else _grey(f"({text})")

            extra["placeholder"] = shown_placeholder
        if source is not None:
            extra["completer"] = source_completer(source)
            extra["complete_while_typing"] = True
        elif suggestions:
            assert isinstance(suggestions, Sequence)
            extra["completer"] = _completer(suggestions)
            extra["complete_while_typing"] = True
        question = questionary.text(message, default=default, validate=_adapt(validate), **extra)

        def answered(text: Any) -> str:
            # An empty line that meant something ("Enter: call back the missed call") says
            # so in the answered line, instead of leaving the question blank.
            said = str(placeholder() if callable(placeholder) else placeholder or "")
            return str(text) or (f"({said})" if said.startswith("Enter") else "")

        return str(self._ask_and_show(question, message, answered))

    def secret(self, message: str, *, validate: Validator | None = None) -> str:
        """See :meth:`Prompter.secret`."""
        import questionary
        from prompt_toolkit.layout.processors import PasswordProcessor

        # prompt_toolkit's own mask is "*"; ours is the one the demo and every masked token
        # show (an ASCII terminal gets "*" from the output guard, as the demo's does).
        question = questionary.text(
            message,
            validate=_adapt(validate),
            input_processors=[PasswordProcessor(char=HIDDEN_ECHO)],
            **self._io,
        )
        return str(self._ask(question))

    def select(self, message: str, options: Sequence[Option], *, default: object = None) -> object:
        """See :meth:`Prompter.select`."""
        import questionary

        choices = [
            questionary.Choice(option.title, value=index) for index, option in enumerate(options)
        ]
        start = next((i for i, option in enumerate(options) if option.value == default), 0)
        question = questionary.select(
            message,
            choices=choices,
            default=choices[start],
            instruction="(↑/↓, Enter)",
            **self._io,
        )
        _exit_on_ctrl_d(question)
        index = int(self._ask_and_show(question, message, lambda i: options[int(i)].title))
        return options[index].value

    def confirm(self, message: str, *, default: bool) -> bool:
        """See :meth:`Prompter.confirm`.

        Keys typed before the question appeared (an Enter too many) are thrown away first:
        an answer to a question that costs money must come after the question.
        """

        _discard_typeahead(self._io.get("input"))
        return bool(self._ask(_confirm_question(message, default, **self._io)))

    def _ask_and_show(self, question: Any, message: str, shown: Callable[[Any], str]) -> Any:
        """Ask, then print the answered line ourselves, wrapped at word boundaries.

        prompt_toolkit leaves the answered question on screen cut at the terminal's edge,
        wherever that falls (``… The phone's o`` / ``wn number``, a number in two); the
        question is erased when done and printed again, words and numbers kept whole.
        """
        application = question.application
        application.erase_when_done = True
        qmark = str(self._io["qmark"])
        try:
            answer = self._ask(question)
        except Cancelled:
            # Ctrl-C ended the question: show it again. A signal left it running, and printing
            # would wait for it forever.
            if application.is_done:
                _print_answered(application, qmark, message, "")
            raise
        _print_answered(application, qmark, message, shown(answer))
        return answer

    @staticmethod
    def _ask(question: Any) -> Any:
        try:
            answer = question.unsafe_ask()
        except (KeyboardInterrupt, EOFError):
            raise Cancelled() from None
        if answer is None:  # questionary's own "aborted" value
            raise Cancelled()
        return answer


def _print_answered(application: Any, qmark: str, message: str, answer: str) -> None:
    from prompt_toolkit import print_formatted_text
    from prompt_toolkit.formatted_text import FormattedText

    try:
        width = application.output.get_size().columns
    except Exception:  # noqa: BLE001 - no size: assume the usual
        width = 80
    parts = [("class:qmark", qmark), ("", " "), ("class:question", message)]
    if answer:
        parts += [("", " "), ("class:answer", answer)]
    print_formatted_text(
        FormattedText(word_wrapped(parts, width)),
        style=application.style,
        output=application.output,
    )


def word_wrapped(parts: list[tuple[str, str]], width: int) -> list[tuple[str, str]]:
    """Styled text broken into lines of less than ``width`` at spaces only (continuation lines
    indented by two); a number's inner spaces never break ("0157 99912345" stays whole)."""
    import re

    limit = max(width - 1, 12)
    out: list[tuple[str, str]] = []
    column = 0
    for style, text in parts:
        for piece in re.split("( +)", re.sub("(?<=[0-9]) (?=[0-9])", "\u00a0", text)):
            if not piece:
                continue
            if not piece.startswith(" ") and column + len(piece) > limit and column > 2:
                while out and out[-1][1].isspace():  # no trailing blanks before the break
                    column -= len(out.pop()[1])
                out.append(("", "\n  "))
                column = 2
            out.append((style, piece))
            column += len(piece)
    return out


class _Once:
    """Call a function the first time this is called (None: do nothing); returns None."""

    def __init__(self, function: Callable[[], None] | None) -> None:
        self._function = function

    def __call__(self) -> None:
        function, self._function = self._function, None
        if function is not None:
            function()


def _exit_on_ctrl_d(question: Any) -> None:
    """questionary's select ignores Ctrl-D; make it cancel, as it does in every other prompt."""
    from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

    bindings = KeyBindings()

    @bindings.add("c-d", eager=True)
    def _cancel(event: Any) -> None:
        event.app.exit(exception=EOFError, style="class:aborting")

    application = question.application
    application.key_bindings = merge_key_bindings(
        [b for b in (application.key_bindings, bindings) if b is not None]
    )


def _confirm_question(message: str, default: bool, *, qmark: str = "?", **io: Any) -> Any:
    """questionary's confirm, plus the arrow keys: ←/→ (or ↑/↓, Tab) switch the answer shown
    between Yes and No, and Enter takes it. So a call can be confirmed with arrows and Enter
    alone, while a lone Enter still takes the default. y and n answer at once, as usual;
    Ctrl-D cancels like Ctrl-C."""
    from prompt_toolkit import PromptSession
    from questionary.question import Question
    from questionary.styles import merge_styles_default

    state = _Confirmation(default)
    session: PromptSession[bool] = PromptSession(
        lambda: _confirm_tokens(qmark, message, state),
        key_bindings=_confirm_bindings(state),
        style=merge_styles_default([None]),
        **io,
    )
    return Question(session.app)


class _Confirmation:
    """Where a yes/no question stands: the answer shown (None: none picked, so Enter takes
    the default) and whether it is answered."""

    def __init__(self, default: bool) -> None:
        self.default = default
        self.answer: bool | None = None
        self.complete = False

    def chosen(self) -> bool:
        """What Enter takes now."""
        return self.default if self.answer is None else self.answer


def _confirm_tokens(qmark: str, message: str, state: _Confirmation) -> FormattedText:
    """The question's line as drawn now: the question, the y/n hint until answered, the answer."""
    from prompt_toolkit.formatted_text import to_formatted_text
    from questionary.constants import NO, NO_OR_YES, YES, YES_OR_NO

    parts: StyleAndTextTuples = [("class:qmark", qmark), ("class:question", f" {message} ")]
    if not state.complete:
        parts.append(("class:instruction", f"{YES_OR_NO if state.default else NO_OR_YES} "))
    if state.answer is not None:
        parts.append(("class:answer", YES if state.answer else NO))
    return to_formatted_text(parts)


def _confirm_bindings(state: _Confirmation) -> KeyBindings:
    """The keys of a yes/no question (see :func:`_confirm_question`); no other text is typed."""
    from prompt_toolkit.key_binding import KeyBindings
    from prompt_toolkit.keys import Keys

    def finish(event: Any, answer: bool) -> None:
        state.answer, state.complete = answer, True
        event.app.exit(result=answer)

    bindings = KeyBindings()

    @bindings.add(Keys.ControlC, eager=True)
    @bindings.add(Keys.ControlQ, eager=True)
    def _interrupt(event: Any) -> None:
        event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    @bindings.add(Keys.ControlD, eager=True)
    def _end_of_input(event: Any) -> None:
        event.app.exit(exception=EOFError, style="class:aborting")

    @bindings.add("y")
    @bindings.add("Y")
    def _yes(event: Any) -> None:
        finish(event, True)

    @bindings.add("n")
    @bindings.add("N")
    def _no(event: Any) -> None:
        finish(event, False)

    @bindings.add(Keys.Left)
    @bindings.add(Keys.Right)
    @bindings.add(Keys.Up)
    @bindings.add(Keys.Down)
    @bindings.add(Keys.Tab)
    def _switch(event: Any) -> None:
        state.answer = not state.chosen()

    @bindings.add(Keys.ControlH)
    def _back(event: Any) -> None:
        state.answer = None

    @bindings.add(Keys.ControlM, eager=True)
    def _enter(event: Any) -> None:
        finish(event, state.chosen())

    @bindings.add(Keys.Any)
    def _other(event: Any) -> None:
        """No other text."""

    return bindings


def _discard_typeahead(pipe: Any) -> None:
    from prompt_toolkit.input.typeahead import clear_typeahead

    if pipe is not None:  # tests: a pipe input has no kernel buffer to flush
        clear_typeahead(pipe)
        return
    try:
        import termios  # POSIX only: the ImportError below is Windows

        from prompt_toolkit.input.defaults import create_input

        clear_typeahead(create_input())
        termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
    except (ImportError, OSError, ValueError):  # not a tty, or not POSIX: nothing to discard
        pass


def _completer(suggestions: Sequence[Suggestion]) -> Any:
    """Complete from suggestions: a text starting with what was typed, or (from three digits
    on) a number containing the typed digits. prompt_toolkit is imported only here."""
    from prompt_toolkit.completion import Completer, Completion

    from sipgate_tui.numbers import normalise_digits

    class SuggestionCompleter(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            # Fullwidth or Arabic-Indic digits find the same numbers as ASCII ones.
            typed = normalise_digits(document.text_before_cursor.strip().lower())
            # "015" should find +49 157...: three typed digits, compared without the leading
            # (trunk) zeros that the stored international form does not have.
            typed_digits = "".join(ch for ch in typed if ch in "0123456789")
            digits = typed_digits.lstrip("0") if len(typed_digits) >= 3 else ""
            for suggestion in suggestions:
                number_digits = "".join(
                    ch for ch in suggestion.text + suggestion.also_matches if ch.isdigit()
                )
                if (
                    not typed
                    or suggestion.text.lower().startswith(typed)
                    or (digits and digits in number_digits)
                ):
                    yield Completion(
                        suggestion.text,
                        start_position=-len(document.text_before_cursor),
                        display_meta=suggestion.shown_note,
                    )

    return SuggestionCompleter()


def source_completer(source: SuggestionSource) -> Any:
    """The completer of a text prompt with a :class:`SuggestionSource`: every keystroke asks
    ``source.find`` (which ranks and limits) and shows each suggestion's text and note.
    benchmarks/prompt.py times this very object."""
    from prompt_toolkit.completion import Completer, Completion

    class SourceCompleter(Completer):
        def get_completions(self, document: Any, complete_event: Any) -> Any:
            typed = document.text_before_cursor
            for suggestion in source.find(typed):
                yield Completion(
                    suggestion.text,
                    start_position=-len(typed),
                    display_meta=suggestion.shown_note,
                )

    return SourceCompleter()


def _is_source(suggestions: object) -> TypeGuard[SuggestionSource]:
    return callable(getattr(suggestions, "find", None))


def _then_watch(
    on_shown: Callable[[], None] | None, source: SuggestionSource
) -> Callable[[], None]:
    """``on_shown``, then a redraw of the running question whenever ``source`` changes."""

    def shown() -> None:
        if on_shown is not None:
            on_shown()
        from prompt_toolkit.application.current import get_app

        source.watch(redraw_from_any_thread(get_app()))

    return shown


def redraw_from_any_thread(application: Any) -> Callable[[], None]:
    """A redraw of ``application`` that any thread may ask for, at any time.

    prompt_toolkit's own ``invalidate`` is meant to be thread-safe, but it reads the app's
    event loop twice; a question that ends between the two reads makes it raise
    ``RuntimeError: no running event loop`` in the caller's thread (seen in CI on Python
    3.13, as a loader thread's traceback over the next question). This reads the loop once and
    hands ``invalidate`` to it, where it runs in the loop's own thread; a loop that is gone
    or closed means the question is over and nothing needs drawing."""

    def redraw() -> None:
        loop = application.loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # closed since: the question is over
            loop.call_soon_threadsafe(application.invalidate)

    return redraw


def _adapt(validate: Validator | None) -> Callable[[str], Any] | None:
    if validate is None:
        return None

    def questionary_validator(text: str) -> bool | str:
        problem = validate(text)
        return True if problem is None else problem

    return questionary_validator


def _prompt_done() -> bool:
    from prompt_toolkit.application.current import get_app

    try:
        return bool(get_app().is_done)
    except Exception:  # noqa: BLE001 - a placeholder must never break the prompt
        return False


def _fits(width: int) -> bool:
    from prompt_toolkit.application.current import get_app

    try:
        return bool(get_app().output.get_size().columns > width)
    except Exception:  # noqa: BLE001 - a placeholder must never break the prompt
        return True


def _prompt_cancelled() -> bool:
    from prompt_toolkit.application.current import get_app

    try:
        future = get_app().future
        return bool(future is not None and future.done() and future.exception() is not None)
    except Exception:  # noqa: BLE001 - a hint must never break the prompt
        return False


def _current_text() -> str:
    from prompt_toolkit.application.current import get_app

    try:
        return get_app().current_buffer.text
    except Exception:  # noqa: BLE001 - a toolbar must never break the prompt
        return ""


def _grey(text: str) -> Any:
    from prompt_toolkit.formatted_text import FormattedText

    return FormattedText([("fg:ansibrightblack", text)])


def _live_text(live_hint: LiveHint, text: str) -> Any:
    if _prompt_cancelled():
        return ""  # a hint beside a cancelled question would read like its answer
    try:
        return _grey(live_hint(text))
    except Exception:  # noqa: BLE001 - a hint must never break the prompt
        return ""
