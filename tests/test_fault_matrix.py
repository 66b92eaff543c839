"""The fault matrix: every command against every way the world can go wrong.

One table. Each row: the command line, what is broken, the exit code the user gets, a fragment of
the message that names the cause (or of the JSON error), and how many call requests the API may
receive. Every row runs the installed ``sipgate-tui`` in a subprocess (or, for keys pressed at
prompts, in a pseudo-terminal), in human mode and again with ``--json``, and every run asserts:

* the documented exit code, and the message fragment (in the panel, or in the JSON error);
* no traceback, and neither the token nor its base64 form in any output;
* nothing lost: the keyring item and config.toml are unchanged (unless the row says otherwise);
* at most the stated number of POSTs (never two for one confirmation).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from contextlib import ExitStack
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pexpect
import pytest
from helpers import TOKEN, TOKEN_ID, flat, read_only_directory
from servers import FullBacklog, HangUpServer, SilentServer, UntrustedTlsServer, closed_port_url

from sipgate_tui.credentials import Credentials, encode_item
from sipgate_tui.simulator import SimulatedChannel, SipgateSimulator, call_event

TESTS = Path(__file__).parent
BASIC = base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()
HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
FAST = ("--timeout", "1")
CALL = ("call", "0157 99912345", "-d", "e0", "--yes", *FAST)
STATUS = ("status", *FAST)
DEVICES = ("devices", *FAST)
NUMBERS = ("numbers", *FAST)
LOGIN = ("login", "--token-id", TOKEN_ID, "--token-stdin", *FAST)
LOGOUT = ("logout",)
CALLS = ("calls", *FAST)
HANGUP = ("hangup", "c1", *FAST)
HISTORY = ("history", *FAST)
OLD_ITEM = encode_item(Credentials("token-OLD001", "0b8e6f3a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"))
CONFIG = '# mine\n[profiles.default]\nregion = "DE"  # home\n'
CLASSIC_PBX_REFUSAL = b"requires a sipgate Classic PBX Account"
# 60 outgoing calls in one channel, oldest first, a minute apart: three pages of 25 or fewer.
EVENTS = [
    call_event(f"ev{i}", "ch0", f"sid{i}", source="+4921155500", target=f"+4921155500{i:02d}", started=1.7e9 + 60 * i, established=1.7e9 + 60 * i + 5, terminated=1.7e9 + 60 * i + 35)
    for i in range(60)
]
NEO_CALL = ("--account-type", "neo", *CALL)


@dataclass(frozen=True)
class Case:
    """One row of the matrix."""

    args: tuple[str, ...]
    exit: int
    says: str
    posts: int = 0
    server: str = "sim"  # sim | refused | dns | backlog | silent | hangup | tls
    respond: tuple | None = None  # simulator: (status, body, headers, path)
    keyring: str = "env"  # env | item | none | locked | raise-read | raise-write | ...
    config: str = "ok"  # ok | corrupted | unreadable | read-only | damaged-state
    stdin: str = ""
    keys: tuple[tuple[str, str], ...] | None = None  # pty: (wait for, then send) pairs
    columns: int = 100
    env: dict = field(default_factory=dict)
    keyring_changes: bool = False
    json: bool = True  # also run with --json
    json_says: str | None = None  # where the JSON document says it differently
    account: str = "classic"  # the simulated account: classic | neo
    sim: dict = field(default_factory=dict)  # simulator switches (attribute -> value)
    # Anything else the row needs (a proxy, a trickling server, odd files, another keyring):
    # called with the Prepared run before the command starts; see Prepared.
    setup: Callable[[Prepared], None] | None = None


@dataclass
class Prepared:
    """One run being prepared, handed to a row's ``setup``: change what it needs.

    ``url`` is the API address the command gets; a raw server appended to ``raw_servers``
    (anything with ``.url`` and ``.received`` bytes) has its POSTs counted instead of the
    simulator's. ``env`` is the command's environment, ``stack`` closes what is entered.
    """

    tmp_path: Path
    env: dict[str, str]
    stack: ExitStack
    simulator: SipgateSimulator
    config_dir: Path
    state_dir: Path
    url: str
    raw_servers: list = field(default_factory=list)


def r(status: int, body: object = b"", path: str | None = None, **headers: str) -> tuple:
    return (status, body, {k.replace("_", "-"): v for k, v in headers.items()}, path)


# fmt: off
CASES: dict[str, Case] = {
    # -- every status the API can return: the call (at most one POST, never retried) -----------------
    "call 400": Case(CALL, 4, "rejected the call request as invalid", 1, respond=r(400, {"errors": [{"title": "Bad Request"}]})),
    "call 401": Case(CALL, 3, "did not accept the token id and token", 1, respond=r(401)),
    "call 402": Case(CALL, 4, "balance is too low", 1, respond=r(402)),
    "call 403 json": Case(CALL, 4, "refused to place this call", 1, respond=r(403, {"errors": [{"title": "Forbidden"}]})),
    # sipgate's Classic-PBX refusal placed nothing: the Neo request goes out once (refused too here)
    "call 403 text": Case(CALL, 4, "requires a sipgate Classic PBX Account", 2, respond=r(403, "This endpoint requires a sipgate Classic PBX Account")),
    "call 403 empty": Case(CALL, 4, "sessions:calls:write", 1, respond=r(403)),
    "call 404": Case(CALL, 4, "API address was not found", 1, respond=r(404)),
    "call 405": Case(CALL, 4, "does not accept this request", 1, respond=r(405)),
    "call 415": Case(CALL, 4, "content type", 1, respond=r(415)),
    "call 429": Case(CALL, 5, "Wait 7 s", 1, respond=r(429, Retry_After="7")),
    "call 500": Case(CALL, 5, "problem on its side (HTTP 500)", 1, respond=r(500)),
    "call 502 html": Case(CALL, 5, "502 Bad Gateway", 1, respond=r(502, HTML_502)),
    "call 503": Case(CALL, 5, "HTTP 503", 1, respond=r(503)),
    # -- sipgate Neo: the one safe switch, channels, devices, refusals -------------------------------
    "neo call unknown type": Case(CALL, 0, "This account is sipgate Neo", 2, account="neo"),
    "neo call known type": Case(NEO_CALL, 0, "Call accepted", 1, account="neo", json_says='"accountType": "neo"'),
    "neo call refused": Case(CALL, 4, "rejected the call request as invalid", 2, account="neo", respond=r(400, {"errors": [{"title": "Invalid invitable device"}]}, "/calls")),
    "neo call mobile device": Case(("call", "0157 99912345", "-d", "y0", "--yes", *FAST), 4, "Invalid invitable device", 2, account="neo"),
    "neo call 500": Case(NEO_CALL, 5, "HTTP 500", 1, account="neo", respond=r(500, b"", "/calls")),
    "neo call silent": Case(NEO_CALL, 6, "may have been placed", 1, server="silent"),
    "neo call no channels:read": Case(NEO_CALL, 0, "default channel", 1, account="neo", respond=r(403, b"", "/channels")),
    "neo call phone in no channel": Case(("--account-type", "neo", "call", "0157 99912345", "-d", "x0", "--yes", *FAST), 0, "none of your channels", 1, account="neo"),
    "neo call several channels": Case(NEO_CALL, 2, "--channel", 0, account="neo", sim={"channels": [SimulatedChannel("ch0", "Main", ("e0",)), SimulatedChannel("ch1", "Sales", ("e0",))]}),
    "neo call unknown channel": Case((*NEO_CALL, "--channel", "zz"), 2, "none of your channels", 0, account="neo"),
    "neo call with --caller": Case(("--account-type", "neo", "call", "0157 99912345", "-d", "e0", "--caller", "+492115550001", "--yes", *FAST), 2, "not available on sipgate Neo", 0, account="neo"),
    "neo call forced classic": Case(("--account-type", "classic", *CALL), 4, "--account-type auto", 1, account="neo"),
    "neo forced on classic": Case(NEO_CALL, 4, "--account-type auto", 1),
    "neo number format refused": Case(NEO_CALL, 4, "neo-numbers plus", 1, account="neo", sim={"neo_numbers": "plus"}),
    "neo channel not holding the phone": Case(("--account-type", "neo", "call", "0157 99912345", "-d", "e1", "--yes", "--channel", "ch9", *FAST), 2, "none of your channels", 0, account="neo"),
    "neo history paging": Case(("--account-type", "neo", "history", "--limit", "60", *FAST), 0, "+49 211 5550059", account="neo", sim={"channels": [SimulatedChannel("ch0", "Main", ("e0",), events=EVENTS)], "neo_events_max_limit": 25}, json_says="4921155500"),
    "neo history private channel": Case(("--account-type", "neo", "history", *FAST), 0, "Skipped the channel", account="neo", sim={"channels": [SimulatedChannel("ch0", "Main", ("e0",), events=EVENTS[:3]), SimulatedChannel("ch1", "Private", ("e0",), private=True)]}, json=False),
    "neo history without channels:read": Case(("--account-type", "neo", "history", *FAST), 4, "channels:read", account="neo", respond=r(403, b"", "/channels")),
    "neo bad account type": Case(("--account-type", "neon", *CALL), 2, "--account-type", 0, account="neo"),
    "history endless unusable pages": Case(HISTORY, 0, "No outgoing calls", respond=r(200, {"items": [{"x": 1}] * 100}, "/history"), json_says="[]"),
    "history at the calendar's end": Case(HISTORY, 0, "9999-12-31T23:59:59Z", respond=r(200, {"items": [{"target": "+492115550002", "created": "9999-12-31T23:59:59Z"}], "totalCount": 1}, "/history"), env={"TZ": "Etc/GMT-14"}, json_says="9999-12-31"),
    "history at the calendar's start": Case(HISTORY, 0, "0001-01-01T00:00:00Z", respond=r(200, {"items": [{"target": "+492115550002", "created": "0001-01-01T00:00:00Z"}], "totalCount": 1}, "/history"), env={"TZ": "Etc/GMT+12"}, json_says="0001-01-01"),
    # -- a token that is not text, or stdin that is far more than a token ---------------------------
    "call token not utf-8": Case(CALL, 2, "not text", keyring="none", env={"SIPGATE_TOKEN_ID": TOKEN_ID, "SIPGATE_TOKEN": "5f0c2a4e-\udcff"}),
    "status token id not utf-8": Case(STATUS, 2, "SIPGATE_TOKEN_ID holds a byte", keyring="none", env={"SIPGATE_TOKEN_ID": "token-\udcfe", "SIPGATE_TOKEN": TOKEN}),
    "login stdin too long": Case(LOGIN, 2, "more than 4096 bytes", keyring="item", stdin="y\n" * 3000),
    # -- a ~/.netrc (requests would send its password instead of the token) ------------------------
    "call with a netrc": Case(CALL, 0, "Call accepted", 1, env={"NETRC": str(TESTS / "netrc-evil")}, json_says='"ok": true'),
    "status with a netrc": Case(STATUS, 0, "token accepted", env={"NETRC": str(TESTS / "netrc-evil")}, json_says='"valid": true'),
    "devices with a netrc": Case(DEVICES, 0, "Desk phone", env={"NETRC": str(TESTS / "netrc-evil")}),
    # -- every status: the reads (one polite retry for 429 and 5xx) ----------------------------------
    "status 401": Case(STATUS, 3, "did not accept the token", respond=r(401)),
    "status 403": Case(STATUS, 4, "did not let this token", respond=r(403)),
    "status 404": Case(STATUS, 4, "has nothing at", respond=r(404)),
    "status 429": Case(STATUS, 5, "Wait 7 s", respond=r(429, Retry_After="7")),
    "status 500": Case(STATUS, 5, "HTTP 500", respond=r(500)),  # retried once, after 1 s
    "status 502 html": Case(STATUS, 5, "502 Bad Gateway", respond=r(502, HTML_502, Retry_After="0")),
    "status 503": Case(STATUS, 5, "HTTP 503", respond=r(503, Retry_After="0")),
    "devices 401": Case(DEVICES, 3, "did not accept the token", respond=r(401, b"", "/w0/devices")),
    "devices 403": Case(DEVICES, 4, "devices:read", respond=r(403, b"", "/w0/devices")),
    "devices 404": Case(DEVICES, 4, "has nothing at", respond=r(404, b"", "/w0/devices")),
    "devices 429": Case(DEVICES, 5, "Wait 9 s", respond=r(429, b"", "/w0/devices", Retry_After="9")),
    "devices 502 html": Case(DEVICES, 5, "502 Bad Gateway", respond=r(502, HTML_502, "/w0/devices", Retry_After="0")),
    "devices 503": Case(DEVICES, 5, "HTTP 503", respond=r(503, b"", "/w0/devices", Retry_After="0")),
    "numbers 401": Case(NUMBERS, 3, "did not accept the token", respond=r(401, b"", "/numbers")),
    "numbers 403": Case(NUMBERS, 4, "numbers:read", respond=r(403, b"", "/numbers")),
    "numbers 404": Case(NUMBERS, 4, "has nothing at", respond=r(404, b"", "/numbers")),
    "numbers 429": Case(NUMBERS, 5, "Wait 9 s", respond=r(429, b"", "/numbers", Retry_After="9")),
    "numbers 500": Case(NUMBERS, 5, "HTTP 500", respond=r(500, b"", "/numbers", Retry_After="0")),
    "login 401": Case(LOGIN, 3, "Nothing was stored", respond=r(401), keyring="item", stdin=TOKEN),
    "login 403": Case(LOGIN, 4, "Nothing was stored", respond=r(403), keyring="item", stdin=TOKEN),
    "login 404": Case(LOGIN, 4, "has nothing at", respond=r(404), keyring="item", stdin=TOKEN),
    "login 429": Case(LOGIN, 5, "Wait 8 s", respond=r(429, Retry_After="8"), keyring="item", stdin=TOKEN),
    "login 503": Case(LOGIN, 5, "HTTP 503", respond=r(503, Retry_After="0"), keyring="item", stdin=TOKEN),
    # -- after the dial: calls, hangup, history -----------------------------------------------------
    "calls 401": Case(CALLS, 3, "did not accept the token", respond=r(401, b"", "/calls")),
    "calls 403": Case(CALLS, 4, "rtcm:read", respond=r(403, b"", "/calls")),
    "calls 500": Case(CALLS, 5, "HTTP 500", respond=r(500, b"", "/calls", Retry_After="0")),
    "calls not json": Case(CALLS, 5, "could not be read", respond=r(200, "<html>login</html>", "/calls")),
    "hangup 403": Case(HANGUP, 4, "rtcm:write", respond=r(403, b"", "/calls/c1")),
    "hangup 404": Case(HANGUP, 4, "No active call with the id c1", respond=r(404, b"", "/calls/c1")),
    "hangup 503": Case(HANGUP, 5, "HTTP 503", respond=r(503, b"", "/calls/c1", Retry_After="0")),
    "hangup no id, no terminal": Case(("hangup",), 2, "Which call?"),
    "history 403": Case(HISTORY, 4, "not available here (HTTP 403)", respond=r(403, b"", "/history")),
    "history 404": Case(HISTORY, 4, "not available here (HTTP 404)", respond=r(404, b"", "/history")),
    "history 429": Case(HISTORY, 5, "Wait 9 s", respond=r(429, b"", "/history", Retry_After="9")),
    "history refused": Case(HISTORY, 5, "refused the connection", server="refused"),
    "calls silent": Case(CALLS, 5, "did not answer", server="silent"),
    # -- the network ---------------------------------------------------------------------------------
    "call refused": Case(CALL, 5, "refused the connection. The call was not placed", server="refused"),
    "call dns": Case(CALL, 5, "could not be resolved. The call was not placed", server="dns"),
    "call connect timeout": Case(CALL, 5, "No connection to 127.0.0.1", server="backlog"),
    "call read timeout": Case(CALL, 6, "may have been placed", 1, server="silent"),
    "call cut off": Case(CALL, 6, "connection broke before sipgate's answer", 1, server="hangup"),
    "call tls": Case(CALL, 5, "certificate verify failed", server="tls"),
    "status refused": Case(STATUS, 5, "refused the connection", server="refused"),
    "status dns": Case(STATUS, 5, "could not be resolved", server="dns"),
    "status read timeout": Case(STATUS, 5, "did not answer within 1 s", server="silent"),
    "status tls": Case(STATUS, 5, "No secure connection", server="tls"),
    "devices connect timeout": Case(DEVICES, 5, "No connection to", server="backlog"),
    "devices cut off": Case(DEVICES, 5, "broke before an answer arrived", server="hangup"),
    "numbers dns": Case(NUMBERS, 5, "could not be resolved", server="dns"),
    "numbers read timeout": Case(NUMBERS, 5, "did not answer within 1 s", server="silent"),
    "login refused": Case(LOGIN, 5, "Nothing was stored", server="refused", keyring="item", stdin=TOKEN),
    "login tls": Case(LOGIN, 5, "No secure connection", server="tls", keyring="item", stdin=TOKEN),
    # -- odd answers: malformed, wrong shape, huge, redirected ---------------------------------------
    "call 200 not json": Case(CALL, 6, "could not be read", 1, respond=r(200, "{not json")),
    "call 200 no session": Case(CALL, 6, "without a session id", 1, respond=r(200, {"x": 1})),
    "call 200 a list": Case(CALL, 6, "could not be read", 1, respond=r(200, [1, 2])),
    "call 200 number id": Case(CALL, 0, "12345", 1, respond=r(200, {"sessionId": 12345})),
    "call 200 extra fields": Case(CALL, 0, "abc", 1, respond=r(200, {"sessionId": "abc", "x": 1})),
    "call 200 10 MB": Case(CALL, 6, "larger than 1 MiB", 1, respond=r(200, b"x" * 10_000_000)),
    "call redirect": Case(CALL, 5, "never follows", 1, respond=r(307, Location="http://127.0.0.2:9/v2/sessions/calls")),
    "status 200 not json": Case(STATUS, 5, "could not be read", respond=r(200, "<html>login</html>", "/authorization/userinfo")),
    "status 200 no sub": Case(STATUS, 5, "could not be read", respond=r(200, {"domain": "x"}, "/authorization/userinfo")),
    "devices wrong shape": Case(DEVICES, 0, "No devices found", respond=r(200, {"items": "none", "x": [1]}, "/w0/devices"), json_says="[]"),
    "devices numbers for strings": Case(DEVICES, 0, "e7", respond=r(200, {"items": [{"id": "e7", "alias": 5, "online": "yes"}]}, "/w0/devices")),
    "devices 10 MB": Case(DEVICES, 5, "larger than 1 MiB", respond=r(200, b"[" * 10_000_000, "/w0/devices")),
    "numbers redirect": Case(NUMBERS, 5, "never follows", respond=r(302, b"", "/numbers", Location="https://evil.example/")),
    # -- the keyring (no credentials in the environment) ---------------------------------------------
    "call no keyring": Case(CALL, 3, "no usable keyring", keyring="none"),
    "call locked": Case(CALL, 7, "keyring is locked", keyring="locked"),
    "call keyring raises": Case(CALL, 7, "keyring failed", keyring="raise-read"),
    "call keyring blocks": Case(CALL, 7, "did not answer within 1 s", keyring="block"),
    "call corrupted item": Case(CALL, 3, "cannot be read", keyring="corrupted"),
    "status locked": Case(STATUS, 7, "keyring is locked", keyring="locked"),
    "status corrupted item": Case(STATUS, 3, "cannot be read", keyring="corrupted"),
    "devices blocks": Case(DEVICES, 7, "did not answer within 1 s", keyring="block"),
    "numbers raises": Case(NUMBERS, 7, "keyring failed", keyring="raise-read"),
    "login no keyring": Case(LOGIN, 7, "never falls back to a plain-text file", keyring="none", stdin=TOKEN),
    "login locked": Case(LOGIN, 7, "keyring is locked", keyring="locked", stdin=TOKEN),
    "login raises on write": Case(LOGIN, 7, "could not be kept", keyring="raise-write", stdin=TOKEN),
    "login blocks": Case(LOGIN, 7, "did not answer within 1 s", keyring="block", stdin=TOKEN),
    "logout no keyring": Case(LOGOUT, 7, "no stored token", keyring="none"),
    "logout locked": Case(LOGOUT, 7, "Nothing was removed", keyring="locked"),
    "logout raises on delete": Case(LOGOUT, 7, "keyring failed", keyring="raise-delete"),
    "logout blocks": Case(LOGOUT, 7, "Nothing was removed", keyring="block"),
    "logout corrupted item": Case(LOGOUT, 0, "(unreadable item)", keyring="corrupted", keyring_changes=True),
    # -- the config file -----------------------------------------------------------------------------
    "call corrupted config": Case(CALL, 7, "not valid TOML", config="corrupted"),
    "config corrupted": Case(("config",), 7, "line 2", config="corrupted"),
    "favourites add corrupted": Case(("favourites", "add", "mom", "0157 99912345"), 7, "never overwrites", config="corrupted"),
    "call unreadable config": Case(CALL, 7, "Cannot read", config="unreadable"),
    "config set read-only": Case(("config", "set", "region", "AT"), 7, "Cannot write", config="read-only"),
    "call damaged state": Case(CALL, 0, "damaged", 1, config="damaged-state"),
    # -- the user: no terminal, a narrow one, no colour, Ctrl-C and Ctrl-D at every prompt -----------
    "call stdin /dev/null": Case(("call", "0157 99912345", "-d", "e0"), 2, "add --yes"),
    "call stdin closed": Case(("call", "0157 99912345", "-d", "e0"), 2, "add --yes", stdin="<closed>"),
    "bare, not a terminal": Case((), 2, "No command given", json=False),
    "login not a terminal": Case(("login",), 2, "--token-id and --token-stdin"),
    "40 columns": Case(CALL, 4, "refused to place", 1, respond=r(403), keys=(), columns=40),
    "no colour": Case(CALL, 4, "refused to place", 1, respond=r(403), keys=(), env={"NO_COLOR": "1"}),
    **{
        f"call {key} at {prompt}": Case(("call",), 130, "Cancelled", keys=(*before, (prompt, key)))
        for key in ("^C", "^D")
        for prompt, before in (
            ("Whom do you want to call", ()),
            ("Which phone rings first", (("Whom do you want to call", "0157 99912345\r"),)),
            (
                "Which number should they see",
                (
                    ("Whom do you want to call", "0157 99912345\r"),
                    ("Which phone rings first", "\r"),
                ),
            ),
            (
                "Place this call",
                (
                    ("Whom do you want to call", "0157 99912345\r"),
                    ("Which phone rings first", "\r"),
                    ("Which number should they see", "\r"),
                ),
            ),
        )
    },
    **{
        f"login {key} at {prompt}": Case(
            ("login",), 130, "Nothing was stored", keyring="item", keys=(*before, (prompt, key))
        )
        for key in ("^C", "^D")
        for prompt, before in (
            ("Token id", ()),
            ("Token \\(hidden\\)", (("Token id", TOKEN_ID + "\r"),)),
            ("Try again", (("Token id", TOKEN_ID + "\r"), ("Token \\(hidden\\)", "nope\r"))),
        )
    },
    # -- hardening (issue 13): the HTTP layer: proxies, deadlines, TLS and slow servers ----------
    # (rows: http)
    # -- hardening (issue 13): files: locks, odd files, user-only directories, region pins -------
    # (rows: files)
    # -- hardening (issue 13): the keyring: plain-text backends, locked keyrings -----------------
    # (rows: keyring)
    # -- hardening (issue 13): numbers and option input --------------------------------------------
    # (rows: numbers)
    # -- hardening (issue 13): output: encodings, escapes, redaction, signals, tiny terminals -----
    # (rows: output)
    # -- hardening (issue 13): wording: 403 advice, live line, guided first run --------------------
    # (rows: wording)
}
# fmt: on


# -- the runner -------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path


def prepare(case: Case, tmp_path: Path, clean_env: dict[str, str], stack: ExitStack):
    """Servers, files and environment for one run; returns (env, post counter, url)."""
    simulator = stack.enter_context(SipgateSimulator(account_type=case.account))
    for switch, value in case.sim.items():
        setattr(simulator, switch, value)
    if case.respond is not None:
        status, body, headers, path = case.respond
        simulator.respond_with(status, body, headers=headers, path=path)
    servers = {
        "sim": lambda: simulator.url,
        "refused": closed_port_url,
        "dns": lambda: "https://api.sipgate.invalid/v2",
        "backlog": lambda: stack.enter_context(FullBacklog()).url,
        "silent": lambda: remember(stack.enter_context(SilentServer())),
        "hangup": lambda: remember(stack.enter_context(HangUpServer())),
        "tls": lambda: stack.enter_context(UntrustedTlsServer()).url,
    }
    raw_servers: list[SilentServer] = []

    def remember(server: SilentServer) -> str:
        raw_servers.append(server)
        return server.url

    url = servers[case.server]()

    def posts() -> tuple[int, int]:
        """Every POST to either call endpoint, and those that could have placed a call: all
        but the ones sipgate refused as not for this (sipgate Neo) account."""
        if raw_servers:
            sent = raw_servers[0].received.count(b"POST ")
            return sent, sent
        calls = [
            r
            for r in simulator.requests
            if r.method == "POST" and r.path in ("/sessions/calls", "/calls")
        ]
        refused = [r for r in calls if r.status == 403 and CLASSIC_PBX_REFUSAL in r.answer]
        return len(calls), len(calls) - len(refused)

    keyring_file = tmp_path / "keyring.json"
    config_dir, state_dir = tmp_path / "config", tmp_path / "state"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(CONFIG)
    env = {
        **clean_env,
        **case.env,
        "SIPGATE_API_URL": url,
        "PYTHONPATH": str(TESTS),
        "PYTHON_KEYRING_BACKEND": "file_keyring.FaultyKeyring",
        "TEST_KEYRING_FILE": str(keyring_file),
        "SIPGATE_TUI_KEYRING_TIMEOUT": "1",
        "SIPGATE_TUI_CONFIG_DIR": str(config_dir),
        "SIPGATE_TUI_STATE_DIR": str(state_dir),
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    if case.keyring == "env":
        env.update(SIPGATE_TOKEN_ID=TOKEN_ID, SIPGATE_TOKEN=TOKEN)
    elif case.keyring == "none":
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    else:
        item = (
            "{not json"
            if case.keyring == "corrupted"
            else (
                OLD_ITEM
                if case.args[:1] == ("login",)
                else encode_item(Credentials(TOKEN_ID, TOKEN))
            )
        )
        keyring_file.write_text(json.dumps({"sipgate-tui/default": item}))
        if case.keyring not in ("item", "corrupted"):
            env["TEST_KEYRING_FAULT"] = case.keyring
    if case.config == "corrupted":
        (config_dir / "config.toml").write_text("[profiles.default]\nregion = \n")
    elif case.config == "unreadable":
        (config_dir / "config.toml").unlink()
        (config_dir / "config.toml").mkdir()  # unreadable as a file, for root too
    elif case.config == "read-only":
        stack.enter_context(read_only_directory(config_dir))
    elif case.config == "damaged-state":
        state_dir.mkdir()
        (state_dir / "state.json").write_text("{damaged")
    if case.setup is not None:
        run = Prepared(tmp_path, env, stack, simulator, config_dir, state_dir, url, raw_servers)
        case.setup(run)
        env["SIPGATE_API_URL"] = run.url
    return env, posts, keyring_file, config_dir / "config.toml"


def snapshot(*paths: Path) -> list[bytes | None]:
    return [p.read_bytes() if p.is_file() else None for p in paths]


RUNS = [
    pytest.param(name, json_mode, id=f"{name}-{'json' if json_mode else 'human'}")
    for name, case in CASES.items()
    for json_mode in (False, True)
    if not json_mode or (case.json and case.keys is None)  # terminal cases have no JSON variant
]


@pytest.mark.parametrize(("name", "json_mode"), RUNS)
def test_fault(
    name: str, json_mode: bool, console_script: str, clean_env: dict[str, str], tmp_path: Path
) -> None:
    case = CASES[name]
    with ExitStack() as stack:
        env, posts, keyring_file, config_file = prepare(case, tmp_path, clean_env, stack)
        before = snapshot(keyring_file, config_file)
        args = [*case.args, "--json"] if json_mode else list(case.args)
        if case.keys is not None:
            code, output = run_in_terminal(console_script, args, env, case)
            stdout, stderr = output, ""
        else:
            code, stdout, stderr = run_plain(console_script, args, env, case)
        sent, could_place = posts()

    everything = stdout + stderr
    assert code == case.exit, everything
    assert "Traceback" not in everything
    assert_no_token(everything)
    if json_mode:
        assert stderr == ""
        document = json.loads(stdout)
        if case.exit:
            assert document["exitCode"] == case.exit
            assert document["ok"] is False
            error = document["error"]
            found = " ".join(str(error.get(k) or "") for k in ("message", "hint", "detail"))
            assert case.says in found, document
        else:
            assert (case.json_says or case.says) in stdout
    else:
        assert case.says in flat(everything), everything
    assert sent <= max(case.posts, 0), f"{sent} POSTs"
    assert could_place <= 1, f"{could_place} POSTs that could have placed a call"
    if case.exit in (0, 6) and "call" in case.args[:3]:
        assert could_place == 1  # placed (or maybe placed) exactly once
    if not case.keyring_changes:
        assert snapshot(keyring_file, config_file) == before  # nothing lost
    if case.config == "damaged-state":
        assert (tmp_path / "state" / "state.json").read_text() == "{damaged"


ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
TOKEN_FORMS = (TOKEN, BASIC, base64.b64encode(TOKEN.encode()).decode())


def assert_no_token(output: str) -> None:
    """Neither the token nor its base64 forms, also not split by escape sequences or controls."""
    unescaped = ESCAPES.sub("", output)
    squeezed = "".join(ch for ch in unescaped if ch.isprintable() and not ch.isspace())
    for form in TOKEN_FORMS:
        assert form not in output and form not in unescaped and form not in squeezed, form


def run_plain(script: str, args: list[str], env: dict[str, str], case: Case):
    stdin: object = subprocess.DEVNULL
    preexec = None
    if case.stdin == "<closed>":
        preexec = lambda: os.close(0)  # noqa: E731 - a closed descriptor, not /dev/null
        stdin = None
    elif case.stdin:
        stdin = subprocess.PIPE
    result = subprocess.run(
        [script, *args],
        env=env,
        input=case.stdin if stdin is subprocess.PIPE else None,
        stdin=None if stdin is subprocess.PIPE else stdin,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=preexec,
    )
    return result.returncode, result.stdout, result.stderr


COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7])(;[0-9;]*)?m")
KEYS = {"^C": "\x03", "^D": "\x04"}


def run_in_terminal(script: str, args: list[str], env: dict[str, str], case: Case):
    env = {k: v for k, v in env.items() if k != "COLUMNS"}
    child = pexpect.spawn(
        script, args, env=env, dimensions=(40, case.columns), encoding="utf-8", timeout=20
    )
    import io

    child.logfile_read = screen = io.StringIO()
    for wait_for, send in case.keys or ():
        child.expect(wait_for)
        child.send(KEYS.get(send, send))
    child.expect(pexpect.EOF)
    child.close()
    output = screen.getvalue()
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)
    if "NO_COLOR" in case.env:
        assert not COLOUR.search(output)
    if case.columns < 100:
        assert max(len(line) for line in plain.splitlines()) <= case.columns
    return child.exitstatus, plain
