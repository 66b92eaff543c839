"""Test doubles that are real parts: in-memory keyring backends, a scripted prompter, a fake
clock, recording consoles, and ``make_context``, which builds the product's own context
(``build_context``) with those put in. Nothing here patches a library. The misbehaving
servers live in ``servers.py``."""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError
from rich.console import Console

from sipgate_tui.context import AppContext, GlobalOptions, build_context
from sipgate_tui.errors import Cancelled

TOKEN_ID = "token-SIM001"
TOKEN = "5f0c2a4e-8b1d-4c6f-9e3a-7d2b1c0e9f84"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps items in a dict (for unit tests)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    """A backend whose every read says it is locked."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")


class BlockingKeyring(MemoryKeyring):
    """A backend that never answers (until released), like a wedged Secret Service."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(30)
        return None


class ScriptedPrompter:
    """Answers prompts from a script; ``KeyboardInterrupt`` in the script acts like Ctrl-C.

    Each text answer is checked by the prompt's own validator, as the real prompt would on
    Enter; rejected answers are recorded in ``rejected`` and the next scripted answer is used.
    A select is answered with an option's position (int) or a fragment of its title (str).

    A question the script does not expect fails the test, and so does an answer never used
    (checked after each test by ``conftest.py``, like gh's httpmock with stubs never used):
    a script with answers left over tests a flow the command no longer takes.
    """

    # Every prompter made during the running test, for the check after it.
    made: ClassVar[list[ScriptedPrompter]] = []

    def __init__(self, answers: Iterable[Any]) -> None:
        ScriptedPrompter.made.append(self)
        self.answers = deque(answers)
        self.questions: list[str] = []
        self.rejected: list[tuple[str, str]] = []
        self.live_hints: list[str] = []
        self.placeholders: list[str | None] = []
        self.suggestions: list[list[Any]] = []
        self.menus: list[list[str]] = []
        self.defaults: list[str | None] = []

    def check_all_answers_used(self) -> None:
        """Fail if the script holds answers no question took."""
        if self.answers:
            raise AssertionError(
                f"answers never used: {list(self.answers)!r}; the questions asked were "
                f"{self.questions!r}"
            )

    def _next(self, message: str) -> Any:
        self.questions.append(message)
        if not self.answers:
            raise AssertionError(f"unexpected question: {message}")
        answer = self.answers.popleft()
        if isinstance(answer, type) and issubclass(answer, BaseException):
            raise Cancelled()
        return answer

    def text(
        self,
        message,
        *,
        validate=None,
        default="",
        placeholder=None,
        live_hint=None,
        suggestions=(),
        on_shown=None,
    ):
        if on_shown is not None:
            on_shown()  # the question is "on screen" as soon as it is asked
        self.placeholders.append(placeholder)
        self.suggestions.append(list(suggestions))
        while True:
            answer = self._next(message)
            if live_hint is not None:
                self.live_hints.append(live_hint(answer))
            problem = validate(answer) if validate else None
            if problem is None:
                return answer
            self.rejected.append((answer, problem))

    def secret(self, message: str, *, validate=None) -> str:
        return self.text(message, validate=validate)

    def select(self, message, options, *, default=None):
        self.menus.append([option.title for option in options])
        self.defaults.append(next((o.title for o in options if o.value == default), None))
        answer = self._next(message)
        if isinstance(answer, int) and not isinstance(answer, bool):
            return options[answer].value
        matches = [option for option in options if str(answer) in option.title]
        if len(matches) != 1:
            raise AssertionError(f"{answer!r} matches {len(matches)} of {self.menus[-1]}")
        return matches[0].value

    def confirm(self, message: str, *, default: bool) -> bool:
        return bool(self._next(message))


class FakeTime:
    """A clock that only moves when slept on: the live view runs in simulated time."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.on_sleep: list[Any] = []  # called with the new time after each sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for hook in self.on_sleep:
            hook(self.now)


@contextlib.contextmanager
def pressing(batches: list[list[str]]) -> Iterator[Any]:
    """Keys for the live view: each look at the keyboard gets the next batch (then none).
    The default, ``[["q"]]``, leaves at once, so tests about other things are not held up."""
    queue = list(batches)
    yield lambda: queue.pop(0) if queue else []


def recording_console(width: int = 80, *, terminal: bool = False) -> Console:
    """A Rich console writing plain text into memory at a fixed width."""
    return Console(
        file=io.StringIO(),
        width=width,
        no_color=True,
        color_system=None,
        force_terminal=terminal,
        highlight=False,
        legacy_windows=False,
    )


def output_of(console: Console) -> str:
    """Everything printed to a recording console."""
    return console.file.getvalue()  # type: ignore[attr-defined]


_SCRATCH_ROOT: list[Path] = []


def _scratch_directory() -> Path:
    """A fresh directory under one root per test process, removed when the process ends."""
    if not _SCRATCH_ROOT:
        root = Path(tempfile.mkdtemp(prefix="sipgate-tui-tests-"))
        atexit.register(shutil.rmtree, root, True)
        _SCRATCH_ROOT.append(root)
    return Path(tempfile.mkdtemp(dir=_SCRATCH_ROOT[0]))


CREDENTIALS_ENV = {"SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": TOKEN}


def make_context(
    api_url: str,
    *,
    prompter: Any = None,
    terminal: bool = False,
    env: Mapping[str, str] | None = None,
    no_input: bool = False,
    width: int = 80,
    keyring_timeout: float = 2.0,
    profile: str = "default",
    settings_dir: Path | None = None,
    lookup_wait: float = 5.0,
    keys: Any = None,
    time_source: FakeTime | None = None,
) -> AppContext:
    """The product's own context (``build_context``) for a loopback API, with recording
    consoles, a scripted prompter and simulated time put in.

    ``env`` defaults to the test token. Settings and state go to a fresh directory (never the
    developer's own) and the keyring timeout is set, both through the environment variables
    the app reads; a variable in ``env`` wins over them.
    """
    if settings_dir is None:
        settings_dir = _scratch_directory()
    environment = {
        "SIPGATE_TUI_CONFIG_DIR": str(settings_dir / "config"),
        "SIPGATE_TUI_STATE_DIR": str(settings_dir / "state"),
        "SIPGATE_TUI_CACHE_DIR": str(settings_dir / "cache"),
        "SIPGATE_TUI_KEYRING_TIMEOUT": str(keyring_timeout),
        **(CREDENTIALS_ENV if env is None else env),
    }
    time_source = time_source or FakeTime()

    def no_prompter() -> Any:
        raise AssertionError("the command tried to prompt")

    return build_context(
        GlobalOptions(api_url=api_url, no_input=no_input, profile=profile),
        environment,
        out=recording_console(width),
        err=recording_console(width),
        terminal=terminal,
        make_prompter=(lambda: prompter) if prompter is not None else no_prompter,
        lookup_wait=lookup_wait,
        clock=time_source.clock,
        sleep=time_source.sleep,
        keys=keys or (lambda: pressing([["q"]])),
    )


class FailingWriteKeyring(MemoryKeyring):
    """Reads work, writes and deletes fail, like a read-only or broken store."""

    def set_password(self, service: str, username: str, password: str) -> None:
        from keyring.errors import PasswordSetError

        raise PasswordSetError("write refused")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("delete refused")


class BlockingWriteKeyring(MemoryKeyring):
    """Reads work; a write never returns (until released)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def set_password(self, service: str, username: str, password: str) -> None:
        self.release.wait(30)


def flat(text: str) -> str:
    """Rendered text as one line: panel borders gone, wrapped lines joined, spaces collapsed,
    so assertions do not depend on where a narrow console wrapped a sentence."""
    import re

    text = re.sub(r"[│╭╮╰╯─]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@contextlib.contextmanager
def read_only_directory(path: Path) -> Iterator[None]:
    """Make ``path`` truly read-only, even for root (chattr +i); skip where impossible."""
    import pytest

    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        lock = ["chattr", "+i", str(path)]
        unlock = ["chattr", "-i", str(path)]
        if shutil.which("chattr") is None or subprocess.run(lock, capture_output=True).returncode:
            pytest.skip("root can write anywhere and chattr +i is not available here")
    else:
        path.chmod(0o500)
        unlock = []
    try:
        probe = path / ".probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("this filesystem ignores read-only permissions")
        yield
    finally:
        if unlock:
            subprocess.run(unlock, capture_output=True)
        else:
            path.chmod(0o700)
