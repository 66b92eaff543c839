"""Fault-matrix rows for links, dial strings and ``--from-desktop`` (issue 15): what a link
can carry that must be refused before anything is sent, and what must never be echoed."""

# ruff: noqa: E501 - a table: one row per line reads better than wrapped rows

from __future__ import annotations

from typing import Any

from helpers import TOKEN
from matrix_input import sent_callee

FAST = ("--timeout", "1")
YES = ("-d", "e0", "--yes", *FAST)
PIN_LINK = "tel:+496971049922,,85512345678#"


def call(link: str, *more: str) -> tuple[str, ...]:
    """``call LINK -d e0 --yes --timeout 1`` (and ``more``)."""
    return ("call", link, *YES, *more)


def no_tones_sent(run: Any) -> None:
    """After the run: no keypad tones reached sipgate (a --yes run never follows the call)."""

    def check() -> None:
        tones = [r for r in run.simulator.requests if r.path.endswith("/dtmf")]
        assert not tones, tones

    run.stack.callback(check)


def both(*setups: Any) -> Any:
    """Several setups for one row."""

    def setup(run: Any) -> None:
        for each in setups:
            each(run)

    return setup


LINK_CASES: dict[str, dict[str, Any]] = {
    # links that name a number: called, the number alone sent (never the tones, never the link)
    "call tel link": dict(args=call("tel:+49 211 5550003"), exit=0, says="From link", posts=1, setup=sent_callee("+492115550003"), json_says='"source": "link"'),
    "call tel link percent-encoded": dict(args=call("tel:%2B49%20211%205550003"), exit=0, says="Call accepted", posts=1, setup=sent_callee("+492115550003"), json_says='"callee": "+492115550003"'),
    "call tel link with context": dict(args=call("tel:0211-5550003;phone-context=+49"), exit=0, says="Call accepted", posts=1, setup=sent_callee("+492115550003"), json_says='"callee": "+492115550003"'),
    "call sip link": dict(args=call("sip:+492115550003@sipgate.de;user=phone"), exit=0, says="Call accepted", posts=1, setup=sent_callee("+492115550003"), json_says='"callee": "+492115550003"'),
    "call callto link": dict(args=call("callto://+492115550003"), exit=0, says="Call accepted", posts=1, setup=sent_callee("+492115550003"), json_says='"callee": "+492115550003"'),
    # a meeting link: the PIN is shown (to type by hand: --yes never follows), never sent
    "call meeting link with --yes": dict(args=call(PIN_LINK), exit=0, says="4 s pause · 85512345678#", posts=1, setup=both(sent_callee("+496971049922"), no_tones_sent), json_says='"digits": "85512345678#", "sentBy": "you"'),
    # what a link may carry that is no phone number: refused, nothing sent
    "call sip address with a name": dict(args=call("sip:alice@example.com"), exit=2, says="not a phone number"),
    "call mailto link": dict(args=call("mailto:ada@example.com"), exit=2, says="mailto"),
    "call javascript link": dict(args=call("javascript:alert(1)"), exit=2, says="javascript"),
    "call tel link, domain context": dict(args=call("tel:7042;phone-context=example.com"), exit=2, says="private numbering plan"),
    "call tel link, emergency": dict(args=call("tel:112"), exit=2, says="emergency number"),
    "call tel link, emergency with tones": dict(args=call("tel:110,,1"), exit=2, says="emergency number"),
    "call tel link, nothing after the scheme": dict(args=call("tel:"), exit=2, says="no phone number"),
    "call tel link, far too long": dict(args=call("tel:+49" + "1" * 100_000), exit=2, says="a phone link has at most 512"),
    "call tel link, escapes": dict(args=call("tel:+49 211\x1b]0;pwned\x07 5550003\u202e"), exit=2, says="it holds an invisible character"),
    "call tel link, tones with letters": dict(args=call("tel:+492115550003,,12xy"), exit=2, says="'x' at position 5: letters are not keypad tones"),
    "call tel link, endless pauses": dict(args=call("tel:+492115550003" + "," * 400 + "1"), exit=2, says="at most 30 are dialled"),
    # the environment's token pasted as the callee: refused, and never echoed (known from the start)
    "call the token as the callee": dict(args=call(TOKEN), exit=2, says="is not a phone number"),
    "call sip link with the token as the name": dict(args=call(f"sip:{TOKEN}@sipgate.de"), exit=2, says="SIP address with a name"),
    "call the token as tones": dict(args=("call", "+492115550003", *YES, "--dtmf", TOKEN), exit=2, says="cannot be dialled"),
    "call link carrying the token": dict(args=call(f"tel:+492115550003;x={TOKEN}"), exit=0, says="Call accepted", posts=1, json_says='"ok": true'),
    # --dtmf: its own mistakes, and tones given twice
    "call --dtmf with letters": dict(args=("call", "+492115550003", *YES, "--dtmf", "12*A"), exit=2, says="A-D are not sent"),
    "call --dtmf with phone letters": dict(args=("call", "+492115550003", *YES, "--dtmf", "1p2w3"), exit=2, says="write a pause as ','"),
    "call --dtmf and tones in the link": dict(args=call(PIN_LINK, "--dtmf", "1"), exit=2, says="give them in one place"),
    # a link from the desktop: never without a terminal, never premium-rate, never --yes
    "desktop link without a terminal": dict(args=("call", "--from-desktop", "--", PIN_LINK), exit=2, says="always shown and confirmed first", json=False),
    "desktop flag with a typed number": dict(args=("call", "--from-desktop", "--", "0211 5550003"), exit=2, says="--from-desktop takes a link", json=False),
    "desktop link premium rate": dict(args=("call", "-d", "e0", "--from-desktop", "--", "tel:+49 900 1234567"), exit=2, says="premium-rate number", keys=(("Press Enter to close", "\r"),), json=False),
    "desktop link --yes still asks": dict(args=("call", "-d", "e0", "--yes", "--from-desktop", "--", PIN_LINK), exit=130, says="No call was placed", keys=(("Place this call", "n"), ("Press Enter to close", "\r")), json=False),
    "desktop link confirmed": dict(args=("call", "-d", "e0", "--from-desktop", "--", "tel:+49 211 5550003"), exit=0, says="Call accepted", posts=1, keys=(("Place this call", "y"), ("Connected|Ringing", "q"), ("Press Enter to close", "\r")), json=False),
}


def without_rtcm_write(run: Any) -> None:
    """The token may place calls and read them, but not send tones (no rtcm:write)."""
    from sipgate_tui.simulator import SimulatedToken

    for token_id, token in list(run.simulator.tokens.items()):
        scopes = token.scopes - {"rtcm:write", "all"} | {"sessions:calls:write"}
        run.simulator.tokens[token_id] = SimulatedToken(token.token, frozenset(scopes))


def tones_only_when_established(expected: str) -> Any:
    """After the run: sipgate got exactly ``expected`` as tones, each into an established call."""

    def setup(run: Any) -> None:
        def check() -> None:
            got = run.simulator.dtmf_received
            assert "".join(t.sequence for t in got) == expected, got
            assert all(t.established for t in got), got

        run.stack.callback(check)

    return setup


def two_calls_to_the_callee(run: Any) -> None:
    """The session id is no call's id, and the callee is in two new calls: ours is unknown."""
    run.simulator.call_id_is_session_id = False
    original = run.simulator._session_call

    def twice(body: dict[str, Any]) -> Any:
        answer = original(body)
        original(body)  # a colleague dials the same number at the same moment
        return answer

    run.simulator._session_call = twice


TONE = ("call", "+492115550003", "-d", "e0", "--yes", *FAST)
TONE_CASES: dict[str, dict[str, Any]] = {
    # tones sent once the call is connected, never before (the simulator says whether it was)
    "tones after connecting": dict(args=(*TONE, "--dtmf", "1234#"), exit=0, says="Tones sent: 1234#", posts=1, keys=(("Tones sent", "q"),), setup=tones_only_when_established("1234#"), json=False),
    "keypad tones": dict(args=TONE, exit=0, says="Connected", posts=1, keys=(("Connected", "5"), ("5", "q")), setup=tones_only_when_established("5"), json=False),
    # the token may not send tones: said, the digits left to type by hand, the call goes on
    "tones without rtcm:write": dict(args=(*TONE, "--dtmf", "1234#"), exit=0, says="needs a token with rtcm:write", posts=1, keys=(("rtcm:write", "q"),), setup=without_rtcm_write, json=False),
    # two new calls to the callee, neither by the session's id: no tone goes anywhere
    "tones into an ambiguous call": dict(args=(*TONE, "--dtmf", "1234#"), exit=0, says="two new calls", posts=1, keys=(("two new calls", "q"),), setup=both(two_calls_to_the_callee, tones_only_when_established("")), json=False),
    # no live view (--no-wait, --json, no terminal): the digits to type, nothing sent
    "tones with --no-wait": dict(args=(*TONE, "--dtmf", ",,1234#", "--no-wait"), exit=0, says="1234#", posts=1, setup=tones_only_when_established(""), json_says='"digits": "1234#", "sentBy": "you"'),
}
