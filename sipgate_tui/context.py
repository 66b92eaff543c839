"""The one factory for real dependencies: consoles, prompter, credentials, API client.

Commands receive an :class:`AppContext` and never build these themselves, so tests can hand in
fakes (a recording console, a scripted prompter, an in-memory keyring, a loopback server).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from sipgate_tui import known_secrets
from sipgate_tui.api import DEFAULT_API_URL, SipgateClient, Timeouts
from sipgate_tui.credentials import (
    DEFAULT_KEYRING_TIMEOUT,
    ENV_TOKEN,
    ENV_TOKEN_ID,
    Credentials,
    CredentialStore,
    FoundCredentials,
    KeyringStore,
    resolve,
)
from sipgate_tui.errors import InputError
from sipgate_tui.options import GlobalOptions as GlobalOptions
from sipgate_tui.settings import SettingsStore, bad_seconds, seconds_setting

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from sipgate_tui.prompts import Prompter

ENV_CREDENTIALS = (ENV_TOKEN_ID, ENV_TOKEN)


@dataclass
class AppContext:
    """Everything a command needs from the outside world."""

    options: GlobalOptions
    out: Console
    err: Console
    terminal: bool  # stdin and stdout are both terminals
    make_prompter: Callable[[], Prompter]
    find_credentials: Callable[[], FoundCredentials]
    make_client: Callable[[Credentials, Timeouts], SipgateClient]
    make_store: Callable[[], CredentialStore]
    make_settings: Callable[[], SettingsStore]
    env: Mapping[str, str] = field(default_factory=dict)
    lookup_wait: float = 5.0  # seconds a picker waits for the account's lists
    output_error: OSError | None = None  # set when stdout broke (closed pipe, full disk)
    # Time and the keyboard, for the live view after a dial (tests hand in their own).
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    keys: Callable[[], AbstractContextManager[Callable[[], list[str]]]] = field(
        default=lambda: _terminal_keys()
    )
    # Every client made for this run: after a bug or a signal, the CLI asks them whether a
    # call request went out and whether sipgate accepted it.
    clients: list[SipgateClient] = field(default_factory=list)
    json_written: bool = False  # a JSON document is on stdout already

    def calls_sent(self) -> tuple[int, str | None]:
        """How many call requests went out in this run, and the id of an accepted one."""
        accepted = next((c.accepted_call_id for c in self.clients if c.accepted_call_id), None)
        return sum(c.call_requests_sent for c in self.clients), accepted

    def can_prompt(self, *, json_mode: bool = False) -> bool:
        """Prompts only on a terminal, and never with ``--no-input`` or ``--json``."""
        return self.terminal and not self.options.no_input and not json_mode

    def why_no_prompts(self, *, json_mode: bool = False) -> str:
        """Why nothing may be asked, in words for an error message."""
        if json_mode:
            return "--json never asks questions"
        if self.options.no_input:
            return "--no-input (or SIPGATE_TUI_NO_INPUT) forbids questions"
        return "there is no terminal to ask on (stdin or stdout is not a terminal)"

    def show(self, renderable: RenderableType) -> None:
        """Print a renderable for the user (stdout)."""
        self._write(lambda: self.out.print(renderable))

    def env_credentials_set(self) -> bool:
        """Whether SIPGATE_TOKEN_ID or SIPGATE_TOKEN is set (they beat the keyring)."""
        return any((self.env.get(name) or "").strip() for name in ENV_CREDENTIALS)

    def emit_json(self, document: object) -> None:
        """Write one unstyled JSON document to stdout (with ``--json`` it holds nothing else)."""
        from sipgate_tui.text import json_text

        encoding = (getattr(self.out.file, "encoding", None) or "utf-8").lower()

        def write() -> None:
            # On a stream that is not UTF, non-ASCII text is escaped: the data stays exact.
            self.out.file.write(json_text(document, ascii_only=not encoding.startswith("utf")))
            self.out.file.write("\n")
            self.out.file.flush()

        self.json_written = True
        self._write(write)

    def _write(self, write: Callable[[], None]) -> None:
        """Write to stdout; a broken stdout must not turn a placed call into a crash.

        After the first failure (a closed pipe, a full disk) nothing more is written, and the
        command's own outcome and exit code stand; the CLI mentions the lost output on stderr.
        """
        if self.output_error is not None:
            return
        try:
            write()
        except OSError as error:
            self.output_error = error
            _silence_stdout(self.out)

    @contextlib.contextmanager
    def live(self) -> Iterator[Callable[[RenderableType], None]]:
        """A line redrawn in place (Rich Live) on a terminal; elsewhere updates are dropped."""
        if not self.out.is_terminal:
            yield lambda renderable: None
            return
        from rich.live import Live

        with Live(console=self.out, refresh_per_second=10, transient=True) as live:
            yield live.update

    @contextlib.contextmanager
    def waiting(self, message: str) -> Iterator[None]:
        """A spinner while waiting on the network; only on a terminal big enough for one
        (in 1-3 columns it would overwrite the outcome), silent elsewhere."""
        if self.out.is_terminal and not _too_small(self.out):
            # Braille dots need a UTF terminal; elsewhere they would turn into "?".
            unicode = (self.out.encoding or "").lower().startswith("utf")
            with self.out.status(message, spinner="dots" if unicode else "line"):
                yield
        else:
            yield


def check_api_url(url: str) -> str:
    """Return the API base URL without trailing slash, or raise InputError.

    Plain ``http://`` is refused except for loopback addresses, so the token (sent with every
    request) never crosses a network in clear text.
    """
    text = (url or "").strip()
    parts = urlsplit(text)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InputError(
            "invalid-api-url",
            f"'{text[:80]}' is not an API address sipgate-tui can use.",
            hint=f"Use an https:// address, such as the default {DEFAULT_API_URL}.",
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise InputError(
            "invalid-api-url",
            f"'{text[:80]}' has an invalid port.",
            hint=f"Use an https:// address, such as the default {DEFAULT_API_URL}.",
        ) from None
    if parts.username or parts.password:
        raise InputError(
            "invalid-api-url",
            "The API address must not contain a user name or password.",
            hint="Credentials come from `sipgate-tui login` or SIPGATE_TOKEN_ID/SIPGATE_TOKEN.",
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise InputError(
            "insecure-api-url",
            f"Refusing plain http:// to {host}: the token would cross the network unencrypted.",
            hint="Use https://. Plain http:// is allowed only for this machine "
            "(127.0.0.1, ::1, localhost), e.g. for a local test server.",
        )
    return text.rstrip("/")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def keyring_timeout(env: Mapping[str, str]) -> float:
    """Seconds to wait for the keyring: ``SIPGATE_TUI_KEYRING_TIMEOUT`` or the default."""
    raw = env.get("SIPGATE_TUI_KEYRING_TIMEOUT", "")
    value = seconds_setting(raw, DEFAULT_KEYRING_TIMEOUT)
    if value is None:
        message, hint = bad_seconds("SIPGATE_TUI_KEYRING_TIMEOUT", raw)
        raise InputError("invalid-keyring-timeout", message, hint=hint)
    return value


def build_context(
    options: GlobalOptions,
    env: Mapping[str, str] | None = None,
    *,
    out: Console | None = None,
    err: Console | None = None,
    terminal: bool | None = None,
    make_prompter: Callable[[], Prompter] | None = None,
    make_store: Callable[[], CredentialStore] | None = None,
    lookup_wait: float | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    keys: Callable[[], AbstractContextManager[Callable[[], list[str]]]] | None = None,
) -> AppContext:
    """Build the real dependencies for one run of the app.

    The product calls ``build_context(options)``. Each keyword replaces one piece of the outside
    world and leaves the rest of the wiring real (tests hand in recording consoles, a scripted
    prompter, a fake clock): ``None`` keeps the real piece. ``env`` (default: ``os.environ``)
    is where credentials, the config and state directories and the keyring timeout come from;
    the credential lookup uses ``make_store``, so a replaced store is the one it reads.
    """
    env = dict(os.environ if env is None else env)
    # The environment's token is a secret from the first line on, before any Credentials
    # value exists: a callee, a link or an option that carries it (pasted by mistake) is
    # echoed in input errors, which come before the credentials are read.
    token = env.get("SIPGATE_TOKEN", "")
    known_secrets.remember(token, token.strip())
    store_factory = make_store or _keyring_store_factory(env)
    if out is None or err is None:
        console_class = _pipe_safe_console_class()
        out = console_class(highlight=False) if out is None else out
        err = console_class(stderr=True, highlight=False) if err is None else err
    context = AppContext(
        options=options,
        out=out,
        err=err,
        terminal=_stdio_is_terminal() if terminal is None else terminal,
        make_prompter=make_prompter or _questionary_prompter,
        find_credentials=lambda: resolve(env, store_factory, options.profile),
        make_client=lambda credentials, timeouts: SipgateClient(
            options.api_url, credentials, timeouts=timeouts
        ),
        make_store=store_factory,
        make_settings=lambda: SettingsStore(env, options.profile),
        env=env,
    )
    make_client = context.make_client

    def make_and_keep_client(credentials: Credentials, timeouts: Timeouts) -> SipgateClient:
        client = make_client(credentials, timeouts)
        context.clients.append(client)
        return client

    context.make_client = make_and_keep_client
    _replace_time_and_keys(context, lookup_wait=lookup_wait, clock=clock, sleep=sleep, keys=keys)
    return context


def _replace_time_and_keys(
    context: AppContext,
    *,
    lookup_wait: float | None,
    clock: Callable[[], float] | None,
    sleep: Callable[[float], None] | None,
    keys: Callable[[], AbstractContextManager[Callable[[], list[str]]]] | None,
) -> None:
    # Set only what was handed in, so AppContext's own defaults stay the one place they live.
    if lookup_wait is not None:
        context.lookup_wait = lookup_wait
    if clock is not None:
        context.clock = clock
    if sleep is not None:
        context.sleep = sleep
    if keys is not None:
        context.keys = keys


def _keyring_store_factory(env: Mapping[str, str]) -> Callable[[], KeyringStore]:
    def make_store() -> KeyringStore:
        return KeyringStore(timeout=keyring_timeout(env), env=env)

    return make_store


def _pipe_safe_console_class() -> type[Console]:
    from rich.console import Console

    class PipeSafeConsole(Console):
        def on_broken_pipe(self) -> None:
            # Rich would exit(1) here; a closed pipe after a placed call is not a failure,
            # so hand it to AppContext._write, which keeps the command's own exit code.
            import errno

            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    return PipeSafeConsole


def _too_small(console: Console) -> bool:
    from sipgate_tui.render import too_small  # only on a terminal: render is heavy

    return too_small(console.width, console.height)


def _stdio_is_terminal() -> bool:
    return _is_terminal(sys.stdin) and _is_terminal(sys.stdout)


def _terminal_keys() -> AbstractContextManager[Callable[[], list[str]]]:
    from sipgate_tui.watch import terminal_keys

    return terminal_keys()


def _questionary_prompter() -> Prompter:
    from sipgate_tui.prompts import QuestionaryPrompter

    return QuestionaryPrompter()


def _silence_stdout(console: Console) -> None:
    # Point the broken descriptor at /dev/null, so flushing at exit cannot fail again
    # (the recipe from Python's documentation on SIGPIPE).
    try:
        fileno = console.file.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fileno)
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # a test's StringIO has no descriptor
        pass


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (ValueError, OSError):  # a closed stream
        return False
