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
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import matrix_contacts as mc
import matrix_files as mf
import matrix_http as mh
import matrix_input as mi
import matrix_links as ml
import matrix_missed as mm
import matrix_output as mo
import matrix_profiles as mp
import matrix_wording as mw
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
    rows: int = 40  # the pty's rows; below 20 columns `says` is matched without whitespace
    env: dict = field(default_factory=dict)
    keyring_changes: bool = False
    config_changes: bool = False  # the row changes config.toml on purpose (its setup checks how)
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
    # proxies: a loopback API address never goes through one (the recording proxy gets nothing)
    "call, http_proxy on loopback": Case(CALL, 0, "Call accepted", 1, setup=mh.loopback_proxy("http_proxy"), json_says='"ok": true'),
    "call, ALL_PROXY on loopback": Case(CALL, 0, "Call accepted", 1, setup=mh.loopback_proxy("ALL_PROXY"), json_says='"ok": true'),
    "call, every proxy variable on loopback": Case(CALL, 0, "Call accepted", 1, setup=mh.loopback_proxy("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "https_proxy", "HTTPS_PROXY"), json_says='"ok": true'),
    "neo call, HTTP_PROXY on loopback": Case(NEO_CALL, 0, "Call accepted", 1, account="neo", setup=mh.loopback_proxy("HTTP_PROXY"), json_says='"ok": true'),
    "devices, HTTP_PROXY on loopback": Case(DEVICES, 0, "Desk phone", setup=mh.loopback_proxy("HTTP_PROXY")),
    "devices, all_proxy on loopback": Case(DEVICES, 0, "Desk phone", setup=mh.loopback_proxy("all_proxy")),
    "status, http_proxy on loopback": Case(STATUS, 0, "token accepted", setup=mh.loopback_proxy("http_proxy"), json_says='"valid": true'),
    "status, ALL_PROXY on loopback": Case(STATUS, 0, "token accepted", setup=mh.loopback_proxy("ALL_PROXY"), json_says='"valid": true'),
    "history, HTTP_PROXY on loopback": Case(HISTORY, 0, "No outgoing calls", setup=mh.loopback_proxy("HTTP_PROXY"), json_says="[]"),
    "call, socks ALL_PROXY on loopback": Case(CALL, 0, "Call accepted", 1, setup=mh.loopback_proxy_value("ALL_PROXY", "socks5://127.0.0.1:9"), json_says='"ok": true'),
    # proxies: the proxy's own failure is named as the proxy's, with the variable that set it
    "call, proxy answers 502": Case(CALL, 5, "(set by HTTPS_PROXY) answered \"502 Bad Gateway\"", setup=mh.offsite_proxy("HTTPS_PROXY", 502)),
    "call, proxy answers 502, not placed": Case(CALL, 5, "nothing reached sipgate. The call was not placed", setup=mh.offsite_proxy("HTTPS_PROXY", 502)),
    "call, proxy wants credentials": Case(CALL, 5, "407 Proxy Authentication Required", setup=mh.offsite_proxy("https_proxy", 407)),
    "call, proxy credentials advice": Case(CALL, 5, "wants a user name and password: put them into https_proxy", setup=mh.offsite_proxy("https_proxy", 407)),
    "status, ALL_PROXY answers 502": Case(STATUS, 5, "(set by ALL_PROXY) answered", setup=mh.offsite_proxy("ALL_PROXY", 502)),
    "devices, proxy answers 403": Case(DEVICES, 5, "This is the proxy's answer, not sipgate's", setup=mh.offsite_proxy("HTTPS_PROXY", 403)),
    "numbers, proxy refuses": Case(NUMBERS, 5, "(set by HTTPS_PROXY) refused the connection", setup=mh.offsite_proxy_value("HTTPS_PROXY", "http://CLOSED")),
    "call, lower-case proxy variable wins": Case(CALL, 5, "(set by https_proxy)", setup=mh.offsite_proxy("https_proxy", 407, HTTPS_PROXY="http://127.0.0.1:9")),
    "status, NO_PROXY exempts the host": Case(STATUS, 5, "could not be resolved", setup=mh.offsite_proxy("HTTPS_PROXY", 502, NO_PROXY="api.sipgate.invalid")),
    # proxies: a setting that cannot be used says so, names the variable, and sends nothing
    "call, socks5 without PySocks": Case(CALL, 2, "HTTPS_PROXY asks for a SOCKS proxy", setup=mh.offsite_proxy_value("HTTPS_PROXY", "socks5://127.0.0.1:1080")),
    "call, socks5 proxy, not placed": Case(CALL, 2, "nothing was sent. The call was not placed", setup=mh.offsite_proxy_value("HTTPS_PROXY", "socks5://127.0.0.1:1080")),
    "status, socks5h ALL_PROXY": Case(STATUS, 2, "ALL_PROXY asks for a SOCKS proxy (socks5h://)", setup=mh.offsite_proxy_value("ALL_PROXY", "socks5h://user:pw@127.0.0.1:1080")),
    "devices, proxy without a host": Case(DEVICES, 2, "HTTPS_PROXY is no proxy address (it names no host)", setup=mh.offsite_proxy_value("HTTPS_PROXY", "http://:3128")),
    "numbers, proxy with a bad port": Case(NUMBERS, 2, "https_proxy is no proxy address", setup=mh.offsite_proxy_value("https_proxy", "http://proxy.example:port")),
    "call, proxy with an odd scheme": Case(CALL, 2, "uses ftp://, which is no proxy scheme", setup=mh.offsite_proxy_value("HTTPS_PROXY", "ftp://proxy.example:21")),
    # deadlines: --timeout bounds each whole request; a trickle ends at it (the POST: exit 6, once)
    "call, trickled headers": Case(CALL, 6, "may have been placed", 1, setup=mh.trickle("headers", b"POST ")),
    "call, trickled headers, in time": Case(CALL, 6, "sipgate did not answer within 1 s", 1, setup=mh.trickle("headers", b"POST ")),
    "call, trickled body": Case(CALL, 6, "may have been placed", 1, setup=mh.trickle("body", b"POST ")),
    "neo account, classic request trickled: no second POST": Case(CALL, 6, "may have been placed", 1, account="neo", setup=mh.trickle("headers", b"POST /v2/sessions/calls")),
    "neo call, trickled body": Case(NEO_CALL, 6, "may have been placed", 1, account="neo", setup=mh.trickle("body", b"POST ")),
    "devices, trickled headers": Case(DEVICES, 5, "is slow: it did not answer within 1 s", setup=mh.trickle("headers", b"/devices")),
    "devices, trickled body": Case(DEVICES, 5, "is slow: it did not answer within 1 s", setup=mh.trickle("body", b"/devices")),
    "status, trickled headers": Case(STATUS, 5, "is slow: it did not answer within 1 s", setup=mh.trickle("headers", b"/userinfo")),
    "status, trickled body": Case(STATUS, 5, "is slow: it did not answer within 1 s", setup=mh.trickle("body", b"/userinfo")),
    "numbers, trickled body": Case(NUMBERS, 5, "is slow: it did not answer within 1 s", setup=mh.trickle("body", b"/numbers")),
    "history, trickled headers": Case(HISTORY, 5, "is slow: it did not answer within 1 s", setup=mh.trickle("headers", b"/history")),
    "calls, trickled body": Case(CALLS, 5, "is slow: it did not answer within 1 s", setup=mh.trickle("body", b"/calls HTTP")),
    "call, the lookup trickles": Case(CALL, 0, "Call accepted", 1, setup=mh.trickle("body", b"/devices"), json_says='"ok": true'),
    "call, trickled headers over TLS": Case(CALL, 6, "may have been placed", 1, setup=mh.tls_trickle("headers", b"POST ")),
    "devices, trickled body over TLS": Case(DEVICES, 5, "is slow: it did not answer within 1 s", setup=mh.tls_trickle("body", b"/devices")),
    "call, TLS handshake never completes": Case(CALL, 5, "No connection to 127.0.0.1", setup=mh.tls_never_completes),
    "call, TLS handshake never completes, not placed": Case(CALL, 5, "The call was not placed", setup=mh.tls_never_completes),
    "devices, TLS handshake never completes": Case(DEVICES, 5, "No connection to 127.0.0.1", setup=mh.tls_never_completes),
    "call, slow but in time": Case(("call", "0157 99912345", "-d", "e0", "--yes", "--timeout", "8"), 0, "Call accepted", 1, setup=mh.trickle("slow", b"POST ", 1.0), json_says='"ok": true'),
    "devices, slow but in time": Case(("devices", "--timeout", "8"), 0, "Desk phone", setup=mh.trickle("slow", b"/devices", 1.0)),
    "status, slow but in time": Case(("status", "--timeout", "8"), 0, "token accepted", setup=mh.trickle("slow", b"/userinfo", 1.0), json_says='"valid": true'),
    # a slow server is slow, in the same words for every list
    "devices silent": Case(DEVICES, 5, "is slow: it did not answer within 1 s", server="silent"),
    "numbers silent": Case(NUMBERS, 5, "is slow: it did not answer within 1 s", server="silent"),
    "calls silent, slow": Case(CALLS, 5, "is slow: it did not answer within 1 s", server="silent"),
    "history silent": Case(HISTORY, 5, "is slow: it did not answer within 1 s", server="silent"),
    "status silent": Case(STATUS, 5, "is slow: it did not answer within 1 s", server="silent"),
    "login silent": Case(LOGIN, 5, "is slow: it did not answer within 1 s", server="silent", keyring="item", stdin=TOKEN),
    # TLS: the advice fits the diagnosis; REQUESTS_CA_BUNDLE keeps working
    "status, https to a plain port": Case(STATUS, 5, "does not speak TLS on this port", setup=mh.https_to_plain_port),
    "status, https to a plain port, advice": Case(STATUS, 5, "Nothing speaks HTTPS at this address: check the scheme and the port", setup=mh.https_to_plain_port),
    "call, https to a plain port": Case(CALL, 5, "does not speak TLS on this port. The call was not placed", setup=mh.https_to_plain_port),
    "status, certificate for another name": Case(STATUS, 5, "belongs to another name", setup=mh.tls_front("sipgate.example")),
    "call, expired certificate": Case(CALL, 5, "date and time", setup=mh.tls_front(expired=True)),
    "status, untrusted certificate advice": Case(STATUS, 5, "point REQUESTS_CA_BUNDLE to that authority", server="tls"),
    "status, REQUESTS_CA_BUNDLE trusted": Case(STATUS, 0, "token accepted", setup=mh.tls_front(), json_says='"valid": true'),
    "call, https on loopback, HTTPS_PROXY set": Case(CALL, 0, "Call accepted", 1, setup=mh.tls_front(proxy="HTTPS_PROXY"), json_says='"ok": true'),
    # -- hardening (issue 13): files: locks, odd files, user-only directories, region pins -------
    # (rows: files)
    # symbolic links: written through (the link stays the same link), a dangling one is named
    "config set through a symlink": Case(("config", "set", "default-device", "e1"), 0, "default-device saved", setup=mf.linked_config(expect_in_target='default_device = "e1"'), config_changes=True, json_says='"default-device": "e1"'),
    "favourites add through a symlink": Case(("favourites", "add", "mom", "0157 99912345"), 0, "Saved mom", setup=mf.linked_config(expect_in_target='mom = "+4915799912345"'), config_changes=True, json_says='"mom": "+4915799912345"'),
    "call with a symlinked config": Case(CALL, 0, "Call accepted", 1, setup=mf.linked_config(), json_says='"ok": true'),
    "config, dangling config link": Case(("config",), 7, "which does not exist", setup=mf.dangling_link("config")),
    "config set, dangling config link": Case(("config", "set", "region", "AT"), 7, "which does not exist", setup=mf.dangling_link("config")),
    "call, dangling config link": Case(CALL, 7, "which does not exist", setup=mf.dangling_link("config")),
    "call, dangling state link": Case(CALL, 0, "which does not exist", 1, setup=mf.dangling_link("state")),
    # FIFOs and devices: refused after a stat, never opened (a read would hang), never replaced
    "config, FIFO config": Case(("config",), 7, "named pipe (FIFO)", setup=mf.fifo("config")),
    "config set, FIFO config": Case(("config", "set", "region", "AT"), 7, "named pipe (FIFO)", setup=mf.fifo("config")),
    "favourites, FIFO config": Case(("favourites",), 7, "named pipe (FIFO)", setup=mf.fifo("config")),
    "call, FIFO config": Case(CALL, 7, "named pipe (FIFO)", setup=mf.fifo("config")),
    "status, FIFO config": Case(STATUS, 0, "token accepted", setup=mf.fifo("config"), json_says='"valid": true'),  # needs only account-type: auto
    "call, FIFO state": Case(CALL, 0, "named pipe (FIFO)", 1, setup=mf.fifo("state")),
    "devices, FIFO state": Case(DEVICES, 0, "Desk phone", setup=mf.fifo("state")),
    "config clear-recent, FIFO state": Case(("config", "clear-recent"), 7, "named pipe (FIFO)", setup=mf.fifo("state")),
    "config, /dev/zero config": Case(("config",), 7, "character device", setup=mf.device("config")),
    "call, /dev/null config": Case(CALL, 7, "character device", setup=mf.device("config", "/dev/null")),
    "call, /dev/zero state": Case(CALL, 0, "character device", 1, setup=mf.device("state")),
    "status, /dev/urandom state": Case(STATUS, 0, "token accepted", setup=mf.device("state", "/dev/urandom"), json_says='"valid": true'),
    # a cached user id that would leave /v2: counts as not cached, userinfo is asked again
    "call, cached user id ../../x": Case(CALL, 0, "Call accepted", 1, setup=mf.cached_user_id("../../x"), json_says='"ok": true'),
    "call, cached user id w0/../..": Case(CALL, 0, "Call accepted", 1, setup=mf.cached_user_id("w0/../.."), json_says='"ok": true'),
    "call, cached user id empty": Case(CALL, 0, "Call accepted", 1, setup=mf.cached_user_id(""), json_says='"ok": true'),
    "call, cached user id too long": Case(CALL, 0, "Call accepted", 1, setup=mf.cached_user_id("w" * 65), json_says='"ok": true'),
    "call, cached user id with CRLF": Case(CALL, 0, "Call accepted", 1, setup=mf.cached_user_id("w0\r\nX-Evil: 1"), json_says='"ok": true'),
    "call, cached user id with an escape": Case(CALL, 0, "Call accepted", 1, setup=mf.cached_user_id("w0\x1b[2J"), json_says='"ok": true'),
    "call, cached user id not a string": Case(CALL, 0, "Call accepted", 1, setup=mf.cached_user_id(7), json_says='"ok": true'),
    "devices, cached user id ../../x": Case(DEVICES, 0, "Desk phone", setup=mf.cached_user_id("../../x")),
    "devices, cached user id %2e%2e": Case(DEVICES, 0, "Desk phone", setup=mf.cached_user_id("%2e%2e/%2e%2e")),
    # a UTF-8 byte order mark at the start of config.toml: accepted, and kept on rewrite
    "config, BOM config": Case(("config",), 0, "region DE", setup=mf.bom_config(), json_says='"region": "DE"'),
    "call, BOM config": Case(CALL, 0, "Call accepted", 1, setup=mf.bom_config(), json_says='"ok": true'),
    "call a favourite, BOM config": Case(("call", "mom", "-d", "e0", "--yes", *FAST), 0, "Call accepted", 1, setup=mf.bom_config('[profiles.default.favourites]\nmom = "0157 99912345"\n'), json_says='"callee": "+4915799912345"'),
    "config set, BOM config": Case(("config", "set", "default-device", "e1"), 0, "default-device saved", setup=mf.bom_config(), config_changes=True, json_says='"default-device": "e1"'),
    # region pins: national numbers pinned to the old region in the same write, and said
    "config set region, national favourites": Case(("config", "set", "region", "AT"), 0, "read in region DE", setup=mf.national_favourites, config_changes=True, json_says='"was": "0157 99912345"'),
    "config set region, national caller id": Case(("config", "set", "region", "CH"), 0, "default-caller-id 0211 5550001 → +49 211 5550001", setup=mf.national_favourites, config_changes=True, json_says='"now": "+492115550001"'),
    # locks: a lock held by another run is waited for (bounded), then named; never a hang
    "favourites add, config lock held": Case(("favourites", "add", "mom", "0157 99912345"), 7, "was not changed", setup=mf.lock_held("config")),
    "config set, config lock held": Case(("config", "set", "region", "AT"), 7, "SIPGATE_TUI_LOCK_TIMEOUT", setup=mf.lock_held("config")),
    "call, state lock held": Case(CALL, 0, "Not remembered", 1, setup=mf.lock_held("state")),
    "config clear-recent, state lock held": Case(("config", "clear-recent"), 7, "was not changed", setup=mf.lock_held("state")),
    # concurrent writers: every run's update is kept
    "favourites add beside 9 others": Case(("favourites", "add", "mom", "0157 99912345"), 0, "Saved mom", setup=mf.parallel_writers("favourites", 9), config_changes=True, json_says='"mom": "+4915799912345"'),
    "call beside 9 other calls": Case((*CALL[:-2], "--timeout", "30"), 0, "Call accepted", 1, setup=mf.parallel_writers("call", 9), json_says='"ok": true'),  # 9 starting runs load the CPU: no 1 s deadline
    # -- hardening (issue 13): the keyring: plain-text backends, locked keyrings -----------------
    # (rows: keyring)
    # keyring's null backend (and the fail one, above) is no keyring, however it was chosen;
    # a keyrings.alt backend named but not even installed is refused in the same words (the
    # real keyrings.alt: tests/test_plaintext_keyrings.py, in a venv of its own)
    **{
        f"{command} {label}": Case(args, code, says, keyring="none", stdin=TOKEN if command == "login" else "", setup=setup)
        for label, setup in (
            ("null keyring", mi.keyring_backend("keyring.backends.null.Keyring")),
            ("null keyring in keyringrc.cfg", mi.keyringrc("keyring.backends.null.Keyring")),
            ("fail keyring in keyringrc.cfg", mi.keyringrc("keyring.backends.fail.Keyring")),
            ("keyrings.alt named, not installed", mi.keyring_backend("keyrings.alt.file.PlaintextKeyring")),
        )
        for command, args, code, says in (
            ("login", LOGIN, 7, "never falls back to a plain-text file"),
            ("call", CALL, 3, "no usable keyring"),
            ("status", STATUS, 3, "no usable keyring"),
            ("logout", LOGOUT, 7, "no stored token"),
        )
    },
    # the fast path (issue 16): the remembered Secret Service is gone; discovery finds none
    **{
        f"{command} remembered Secret Service gone": Case(args, 3, "no usable keyring", keyring="none", setup=mi.remembered_secret_service_gone())
        for command, args in (("call", CALL), ("devices", DEVICES), ("numbers", NUMBERS))
    },
    # PYTHON_KEYRING_BACKEND set but empty is set (keyring tries to load "" and fails): every
    # command says so alike, a dial too, though its remembered backend would have worked
    **{
        f"{command} PYTHON_KEYRING_BACKEND empty": Case(args, 7, "could not be loaded", keyring="item", stdin=TOKEN if command == "login" else "", setup=mi.keyring_backend(""))
        for command, args in (("call", CALL), ("status", STATUS), ("login", LOGIN))
    },
    "login keyrings.alt named says why": Case(LOGIN, 7, "keeps secrets in a file", keyring="none", stdin=TOKEN, setup=mi.keyring_backend("keyrings.alt.file.EncryptedKeyring")),
    # status names a keyring it could not read as such, never "none found" (JSON: the rows above)
    "status locked says keyring locked": Case(STATUS, 7, "Credentials keyring locked", keyring="locked", json=False),
    "status locked gives the unlock advice": Case(STATUS, 7, "Unlock your keyring", keyring="locked"),
    "status keyring blocks says so": Case(STATUS, 7, "Credentials keyring did not answer", keyring="block", json=False),
    "status keyring raises says so": Case(STATUS, 7, "Credentials keyring could not be read", keyring="raise-read", json=False),
    "status corrupted item names the keyring": Case(STATUS, 3, "is unreadable", keyring="corrupted", json=False),
    # -- hardening (issue 13): numbers and option input --------------------------------------------
    # (rows: numbers)
    # longer than E.164 allows (15 digits with the country code): refused here, nothing sent
    **{
        f"call too long {label}": Case(("call", number, "-d", "e0", "--yes", *FAST), 2, "too long")
        for label, number in (
            ("national", "0157 999 123 45 6789"),
            ("international", "+49 157 999123456789"),
            ("with 00", "0049 1579 9912 3456 789"),
            ("in fullwidth digits", "０１５７ ９９９ １２３ ４５ ６７８９"),
        )
    },
    "call too long caller id": Case((*CALL, "--caller-id", "+49 211 555000100000"), 2, "--caller-id: The caller ID '+49 211 555000100000' is too long"),
    "call too long --caller": Case((*CALL, "--caller", "+49 211 555000100000"), 2, "--caller: The --caller number '+49 211 555000100000' is too long"),
    "favourites add too long": Case(("favourites", "add", "mom", "0157 999 123 45 6789"), 2, "too long"),
    # digits of other scripts are digits: the simulator (ASCII E.164 only) gets the same number
    **{
        f"call in {label}": Case(("call", number, "-d", "e0", "--yes", *FAST), 0, "Call accepted", 1, setup=mi.sent_callee("+4915799912345"), json_says='"ok": true')
        for label, number in (
            ("fullwidth digits", "０１５７ ９９９１２３４５"),
            ("fullwidth digits and plus", "＋４９ １５７ ９９９１２３４５"),
            ("Arabic-Indic digits", "٠١٥٧ ٩٩٩١٢٣٤٥"),
            ("Persian digits", "۰۱۵۷ ۹۹۹۱۲۳۴۵"),
            ("Devanagari digits", "०१५७ ९९९१२३४५"),
            ("mixed digits", "0١5７ 99912345"),
        )
    },
    "call caller id in Arabic-Indic digits": Case((*CALL, "--caller-id", "+٤٩ ٢١١ ٥٥٥٠٠٠١"), 0, "Call accepted", 1, setup=mi.sent_callee("+492115550001", "callerId"), json_says='"ok": true'),
    "favourites add in fullwidth digits": Case(("favourites", "add", "mom", "０１５７ ９９９１２３４５"), 0, "Saved mom", config_changes=True, json_says='"mom": "+4915799912345"'),
    "numbers from the server in fullwidth digits": Case(NUMBERS, 0, "+49 211 5550001", respond=r(200, {"items": [{"number": "＋４９２１１５５５０００１", "type": "LANDLINE", "endpointAlias": "Desk"}], "totalCount": 1}, "/numbers"), json_says='"+492115550001"'),
    "history target in Arabic-Indic digits": Case(HISTORY, 0, "+49 211 5550002", respond=r(200, {"items": [{"target": "٤٩٢١١٥٥٥٠٠٠٢", "created": "2026-11-30T10:00:00Z", "status": "PICKUP"}], "totalCount": 1}, "/history"), json_says='"target": "٤٩٢١١٥٥٥٠٠٠٢"'),  # --json: the API's own item
    # a number with spaces in an option, unquoted: the option is named, nothing is sent
    "call unquoted caller id": Case(("call", "--caller-id", "0211", "55500010", "-d", "e0", "--yes", *FAST), 2, "Quote numbers with spaces in options: --caller-id '0211 55500010'"),
    "call unquoted caller id after the callee": Case(("call", "0157 99912345", "--caller-id", "0211", "55500010", "-d", "e0", "--yes", *FAST), 2, "--caller-id: '0211'"),
    "call unquoted international caller id": Case(("call", "0157 99912345", "--caller-id", "+49", "211", "55500010", "-d", "e0", "--yes", *FAST), 2, "Quote numbers with spaces in options: --caller-id '+49 …'"),
    "call unquoted --caller": Case(("call", "0157 99912345", "-d", "e0", "--caller", "0211", "5550001", "--yes", *FAST), 2, "--caller: '0211'"),
    "call unquoted device id": Case(("call", "-d", "e", "0", "0157 99912345", "--yes", *FAST), 2, "--device: 'e' is not a device id"),
    # -- hardening (issue 13): output: encodings, escapes, redaction, signals, tiny terminals -----
    # (rows: output)
    # stdout that cannot hold UTF-8: the outcome and the exit code never change
    **{
        f"{name} on {encoding}": Case(args, code, says, posts, env={"PYTHONIOENCODING": encoding}, respond=respond, json_says=json_says)
        for encoding in ("ascii", "cp1252", "latin-1")
        for name, args, code, says, posts, respond, json_says in (
            ("call", CALL, 0, "Call accepted", 1, None, '"ok": true'),
            ("call 403", CALL, 4, "refused to place this call", 1, r(403), None),
            ("status", STATUS, 0, "token accepted", 0, None, '"valid": true'),
            ("devices", DEVICES, 0, "Desk phone", 0, None, None),
            ("history", HISTORY, 0, "+49 211 5550002", 0, r(200, {"items": [{"target": "+492115550002", "created": "2026-11-30T10:00:00Z", "status": "PICKUP"}], "totalCount": 1}, "/history"), "+492115550002"),
        )
    },
    "devices with accents on ascii": Case(DEVICES, 0, "Mullers Telefon", env={"PYTHONIOENCODING": "ascii"}, setup=mo.echoing_devices("Müllers Telefon"), json_says="M\\u00fcllers Telefon"),
    "help on ascii": Case(("--help",), 0, "Place a call", env={"PYTHONIOENCODING": "ascii"}, json=False),
    "config set help on latin-1": Case(("config", "set", "--help"), 0, "region", env={"PYTHONIOENCODING": "latin-1"}, json=False),
    # terminal escapes and bidi marks in server text: cleaned before display, escaped in JSON
    "devices alias with a window title": Case(DEVICES, 0, "Deskphone", setup=mo.echoing_devices("Desk\x1b]0;pwned\x07phone"), json_says="Desk"),
    "devices alias with a hyperlink": Case(DEVICES, 0, "click", setup=mo.echoing_devices("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07"), json_says="click"),
    "devices alias clearing the screen": Case(DEVICES, 0, "Desk phone", setup=mo.echoing_devices("\x1b[2J\x1b[HDesk phone"), json_says="Desk phone"),
    "devices alias with a bidi override": Case(DEVICES, 0, "Desk", setup=mo.echoing_devices("Desk\u202eenohp"), json_says="\\u202e"),
    "devices alias with C1 controls": Case(DEVICES, 0, "Desk", setup=mo.echoing_devices("Desk\x9b2J\x85phone"), json_says="\\u009b"),
    "history status with escapes": Case(HISTORY, 0, "+49 211 5550002", respond=r(200, {"items": [{"target": "+492115550002", "created": "2026-11-30T10:00:00Z", "status": "\x1b]0;pwned\x07PICKUP\x1b[2J\u202e"}], "totalCount": 1}, "/history"), json_says="\\u202e"),
    # the token echoed back, split by an escape, a control or a bidi mark: never shown
    **{
        f"call 403 echoing the token split by {label}": Case(CALL, 4, "refused to place this call", 1, respond=r(403, {"errors": [{"title": f"token {TOKEN[:12]}{split}{TOKEN[12:]} refused"}]}))
        for label, split in (("a colour", "\x1b[31m"), ("a title", "\x1b]0;x\x07"), ("a bidi mark", "\u202e"), ("a NUL", "\x00"), ("a line break", "\n"))
    },
    "call 400 echoing the token under --debug": Case(("--debug", *CALL), 4, "rejected the call request", 1, respond=r(400, {"errors": [{"title": TOKEN[:6] + "\x1b[0m" + TOKEN[6:]}]}), json=False),
    "call redirect to the token": Case(CALL, 5, "never follows", 1, respond=r(307, Location=f"https://evil.example/{TOKEN[:9]}\x1b[0m{TOKEN[9:]}")),
    "devices alias echoing the token": Case(DEVICES, 0, "Desk", setup=mo.echoing_devices(f"Desk {TOKEN[:3]}\u200b{TOKEN[3:]}"), json_says="Desk"),
    # a bug or a signal at each phase of a call: the outcome is said, never "try again" wrongly
    "call bug before the POST": Case(CALL, 1, "hit a bug (RuntimeError)", 0, setup=mo.strike("before-post", "bug")),
    "call bug reading the answer": Case(CALL, 6, "may have been placed", 1, setup=mo.strike("in-post", "bug")),
    "call bug after acceptance": Case(CALL, 0, "The call was accepted", 1, setup=mo.strike("after-accepted", "bug")),
    **{
        f"call {what} {when}": Case(CALL, code, says, posts, server=server, setup=mo.strike(when, what))
        for what in ("SIGTERM", "SIGHUP")
        for when, code, says, posts, server in (
            ("before-post", 130, "No call was placed", 0, "sim"),
            ("in-post", 6, "Interrupted while the call request was on its way", 1, "silent"),
            ("after-accepted", 0, "The call was accepted", 1, "sim"),
        )
    },
    # -- hardening (issue 13): wording: 403 advice, live line, guided first run --------------------
    # (rows: wording)
    # a call's outcome in a tiny terminal (1-3 columns, 4 rows): plain lines, the outcome last
    **{
        f"tiny {rows}x{cols} call accepted": Case((*CALL, "--no-wait"), 0, "✓Callacceptedbysipgate." if cols < 20 else "✓ Call accepted by sipgate.", 1, keys=(), columns=cols, rows=rows)
        for rows, cols in ((4, 1), (4, 2), (4, 3), (40, 3), (3, 19), (4, 80))
    },
    "tiny 4x3 live view": Case(CALL, 0, "Thecallgoeson", 1, keys=((mw.spread("Connected"), "q"),), columns=3, rows=4),
    "tiny 4x3 call 403": Case(CALL, 4, "Refusedbysipgate", 1, respond=r(403, mw.ACCOUNT_TYPE_403), keys=(), columns=3, rows=4),
    "tiny 4x1 call 402": Case(CALL, 4, "balanceistoolow", 1, respond=r(402), keys=(), columns=1, rows=4),
    "tiny 4x2 call 500": Case(CALL, 5, "Networkorserviceproblem", 1, respond=r(500), keys=(), columns=2, rows=4),
    "tiny 4x3 may have been placed": Case(CALL, 6, "Outcomeunknown", 1, server="silent", keys=(), columns=3, rows=4),
    "tiny 4x1 cut off": Case(CALL, 6, "mayhavebeenplaced", 1, server="hangup", keys=(), columns=1, rows=4),
    "tiny 4x60 may have been placed": Case(CALL, 6, "may have been placed", 1, server="silent", keys=(), columns=60, rows=4),
    "tiny 4x3 usage error": Case(("call", "0157 99912345", "-d", "w0", "--yes"), 2, "Cannotusethisinput", 0, keys=(), columns=3, rows=4),
    # the 403 advice: led by the cause sipgate names, or by a phone the account does not list
    "call 403 account type": Case(CALL, 4, "sipgate names the cause: The account type", 1, respond=r(403, mw.ACCOUNT_TYPE_403)),
    "call 403 not booked, text": Case(CALL, 4, "sipgate names the cause: The account type", 1, respond=r(403, "Feature not booked for this account")),
    "call 403 scope named": Case(CALL, 4, "sipgate names the cause: The token lacks the scope", 1, respond=r(403, mw.SCOPE_403)),
    "call 403 no cause named": Case(CALL, 4, "sipgate does not say which", 1, respond=r(403, {"errors": [{"title": "Forbidden"}]})),
    "call 403 phone not yours": Case(("call", "0157 99912345", "-d", "e7", "--yes", *FAST), 4, "e7 is not one of your phones (yours: e0, e1, y0, x0)", 1, setup=mw.device_list_seen(2)),
    "call 403 phone not yours, 40 columns": Case(("call", "0157 99912345", "-d", "e7", "--yes", *FAST), 4, "e7 is not one of your phones", 1, keys=(), columns=40),
    "neo call 403 phone not yours": Case(("--account-type", "neo", "call", "0157 99912345", "-d", "e7", "--yes", *FAST), 4, "e7 is not one of your phones", 1, account="neo"),
    # a phone known to be offline at the dial: named, and said so, in the live line and after
    "call offline phone": Case(("call", "0157 99912345", "-d", "e1", "--yes", *FAST), 0, "Softphone (laptop) (e1) is offline", 1, json_says="is offline", setup=mw.device_list_seen(1)),
    "call offline phone live line": Case(("call", "0157 99912345", "-d", "e1", "--yes", *FAST), 0, "Softphone (laptop) (e1) was offline when dialled", 1, keys=(("was offline when dialled", "q"),)),
    "call offline phone, tiny": Case(("call", "0157 99912345", "-d", "e1", "--yes", *FAST), 0, "Offline", 1, keys=((mw.spread("Offline"), "q"),), columns=3, rows=4),
    # a guided first run: login, then the call, asking sipgate once for the user and the phones
    "guided first run": Case((), 0, "Call accepted", 1, keyring="item", keyring_changes=True, setup=mw.first_run, keys=(("Token id", TOKEN_ID + "\r"), ("Token \\(hidden\\)", TOKEN + "\r"), ("Whom do you want to call", "0157 99912345\r"), ("Which phone rings first", "\r"), ("Which number should they see", "\r"), ("Place this call", "y"), ("Connected|Ringing", "q"))),
    # -- issue 14: the account's contacts (rows in tests/matrix_contacts.py) ---------------------
    # (rows: contacts)
    **{name: Case(**row) for name, row in mc.CONTACT_CASES.items()},
    # -- issue 14: missed calls, `history --missed` (helpers in tests/matrix_missed.py) ---------
    # (rows: missed)
    "missed classic": Case(mm.MISSED, 0, "Ada Lovelace · +49 1579 9912347", setup=mm.sample, json_says='"number": "+4915799912347"'),
    "missed neo": Case(mm.NEO_MISSED, 0, "2 h ago) 1× yes", account="neo", setup=mm.sample, json_says='"number": "+49301234567"'),
    "missed json shape": Case(mm.MISSED, 0, "2×", setup=mm.sample, json_says='"raw": "+4915799912347", "time": "'),
    "missed json counts": Case(mm.MISSED, 0, "1×", setup=mm.sample, json_says='"count": 2, "calledBack": false}'),
    "missed anonymous caller": Case(mm.MISSED, 0, "anonymous (number withheld)", setup=mm.anonymous_only, json_says='"number": null, "raw": "anonymous"'),
    "missed 403": Case(mm.MISSED, 4, "not available here (HTTP 403)", respond=r(403, b"", "/history")),
    "missed 403 hint": Case(mm.MISSED, 4, "The token needs the scope history:read", respond=r(403, b"", "/history")),
    "missed neo 403": Case(mm.NEO_MISSED, 4, "channels:read", account="neo", respond=r(403, b"", "/channels")),
    "missed unusable items": Case(mm.MISSED, 0, "No missed calls in the history.", respond=r(200, mm.UNUSABLE, "/history"), json_says="[]"),
    "missed endless pages": Case((*mm.MISSED, "--limit", "1000"), 0, "20×", respond=r(200, mm.ENDLESS, "/history"), json_says='"count": 20,'),
    "missed escapes in caller and name": Case(mm.MISSED, 0, "Ada Lovelace · +49 1579 9912347", respond=r(200, mm.ESCAPES, "/history"), json_says='"raw": "+49 1579 9912347"'),
    "missed escapes, not a number": Case(mm.MISSED, 0, "evil 2J (not a number to call)", respond=r(200, mm.ESCAPES, "/history"), json_says='"number": null'),
    # -- issue 16: the stored profiles (setups in tests/matrix_profiles.py) -----------------------
    # (rows: profiles)
    # profiles and status --all print a JSON list, so their failing rows have no JSON variant
    # here (the runner reads a failure's one document); tests/test_profiles.py checks those.
    "profiles none stored": Case(("profiles",), 0, "No profile has a stored token yet", keyring="item", setup=mp.no_item, json_says='"stored": false'),
    "profiles locked keyring": Case(("profiles",), 7, "The keyring is locked", keyring="locked", json=False),
    "profiles env credentials": Case(("profiles",), 0, "SIPGATE_TOKEN_ID and SIPGATE_TOKEN from the environment now", json_says='"environmentOverrides": true'),
    "status all one token rejected": Case(("status", "--all", *FAST), 3, "work token-OLD002 ••••6c7d ✗ token not accepted", keyring="item", setup=mp.a_rejected_profile, json=False),
    # -- issue 15: links, dial strings, --from-desktop (rows in tests/matrix_links.py) ---------
    # (rows: links)
    **{name: Case(**row) for name, row in ml.LINK_CASES.items()},
    # (rows: tones)
    **{name: Case(**row) for name, row in ml.TONE_CASES.items()},
    # -- issue 14: `call NAME` against the simulator's demo phonebook (tests/test_callee_names.py)
    # (rows: names)
    "call name, one number": Case(("call", "grace", "-d", "e0", "--yes", *FAST), 0, "Grace Hopper (work)", 1, json_says='"name": "Grace Hopper (work)", "source": "contact"'),
    "call name, folded and typed": Case(("call", "mueller mobile", "-d", "e0", "--yes", *FAST), 0, "Jürgen Müller (mobile)", 1, json_says='"callee": "+491605550005"'),
    "call name ambiguous": Case(("call", "ada", "-d", "e0", "--yes", *FAST), 2, "'ada' names 2 numbers: Ada Lovelace (mobile) +49 1579 9912347; Ada Lovelace (work)"),
    "call name unknown": Case(("call", "lovel", "-d", "e0", "--yes", *FAST), 2, "nor the name of a contact"),
    "call name without numbers": Case(("call", "Charles Babbage", "-d", "e0", "--yes", *FAST), 2, "no number in the phonebook"),
    "call name, unusable number": Case(("call", "flower shop", "-d", "e0", "--yes", *FAST), 2, "no number that can be dialled ('0800-FLOWERS')"),
    "call name, contacts refused": Case(("call", "grace", "-d", "e0", "--yes", *FAST), 4, "'grace' is no favourite, and the contacts could not be read", respond=r(403, b"", "/contacts")),
    "call name dry run, no cache": Case(("call", "grace", "-d", "e0", "--dry-run"), 2, "no contacts are kept for this profile"),
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
        "SIPGATE_TUI_CACHE_DIR": str(tmp_path / "cache"),
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
    if case.keys is None:  # what the server sent never acts on the terminal
        assert not re.search("\x1b\\]|\x1b\\[[0-9;]*[HJK]|[\u202a-\u202e\u2066-\u2069\x9b]", everything)
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
    after = snapshot(keyring_file, config_file)
    if not case.keyring_changes:
        assert after[0] == before[0]  # nothing lost: the keyring item
    if not (case.keyring_changes or case.config_changes):
        assert after[1] == before[1]  # nothing lost: config.toml
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
        errors="replace",  # rows with another output encoding are read as UTF-8
        timeout=60,
        preexec_fn=preexec,
    )
    return result.returncode, result.stdout, result.stderr


COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7])(;[0-9;]*)?m")
KEYS = {"^C": "\x03", "^D": "\x04"}


def run_in_terminal(script: str, args: list[str], env: dict[str, str], case: Case):
    env = {k: v for k, v in env.items() if k != "COLUMNS"}
    child = pexpect.spawn(
        script, args, env=env, dimensions=(case.rows, case.columns), encoding="utf-8", timeout=20
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
    if case.columns < 20:  # 1-3 columns break every word: compare the letters in order
        plain = "".join(plain.split())
    return child.exitstatus, plain
