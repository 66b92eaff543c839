"""Every problem a user can meet: its stable code, exit code(s), meaning and fix.

This is the source of the README's "Troubleshooting" and "Exit codes" sections (a test fails
when they differ, and another when a code used anywhere in the package is missing here or has
another exit code). Regenerate the README sections with::

    python -m sipgate_tui.catalogue README.md
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from sipgate_tui.errors import ExitCode

E = ExitCode


@dataclass(frozen=True)
class Entry:
    """One problem: what it means and what to do about it."""

    exit_codes: tuple[ExitCode, ...]
    meaning: str
    fix: str


EXIT_CODES: dict[ExitCode, str] = {
    E.OK: "success",
    E.INTERNAL: "internal error (a bug: please report it, with `--debug` output)",
    E.USAGE: "usage: bad option or input",
    E.CREDENTIALS: "credentials missing or rejected (401)",
    E.REFUSED: "refused by sipgate (400, 402, 403, 404, 405, 415)",
    E.NETWORK: "network or service trouble (DNS, connection refused, TLS, timeout before the "
    "request was sent, 429, 5xx)",
    E.OUTCOME_UNKNOWN: "outcome unknown: the call was sent but no (readable) answer came",
    E.ENVIRONMENT: "local environment: keyring unavailable, locked, failing or timed out; config "
    "or state file unreadable, invalid or unwritable",
    E.CANCELLED: "cancelled by the user (Ctrl-C, Ctrl-D, or No at a question)",
}

CATALOGUE: dict[str, Entry] = {
    # -- usage: what was typed or passed -------------------------------------------------------
    "usage": Entry(
        (E.USAGE,),
        "An option the command does not know, or a value of the wrong type.",
        "See `sipgate-tui COMMAND --help`; global options (--profile, "
        "--api-url, --no-input, --debug) go before the command.",
    ),
    "missing-value": Entry(
        (E.USAGE,),
        "A value is missing and nothing may be asked (no terminal, --no-input or --json).",
        "Pass it as an option, e.g. `call NUMBER --device e0 --yes`.",
    ),
    "confirmation-required": Entry(
        (E.USAGE,),
        "A call (or `hangup --all`) without a terminal to confirm on.",
        "Add --yes; for a call, --dry-run shows the request without sending.",
    ),
    "no-command": Entry(
        (E.USAGE,),
        "Bare sipgate-tui (the guided mode) without a terminal.",
        "Give a command; see `sipgate-tui --help`.",
    ),
    "invalid-number": Entry(
        (E.USAGE,),
        "Not a phone number: letters, too short or long, an "
        "area code alone, an unknown country code.",
        "Write it as +49 157 99912345 or 0157 99912345 (with --region for other countries).",
    ),
    "emergency-number": Entry(
        (E.USAGE,),
        "An emergency number.",
        "Call it from your phone directly; sipgate-tui does not dial emergency numbers.",
    ),
    "invalid-device": Entry(
        (E.USAGE,),
        "Not a device id that can place calls.",
        "Use e0, x1, y0 or p0 style ids; `sipgate-tui devices` lists yours.",
    ),
    "invalid-caller": Entry(
        (E.USAGE,),
        "--caller got a device id.",
        "Give device ids with --device; --caller takes a number.",
    ),
    "invalid-region": Entry(
        (E.USAGE,), "Not a country code.", "Use a two-letter code: DE, AT, CH, GB..."
    ),
    "invalid-timeout": Entry(
        (E.USAGE,), "--timeout out of range.", "More than 0 and at most 600 seconds."
    ),
    "invalid-call-id": Entry(
        (E.USAGE,),
        "`hangup` with something that cannot be a call id (empty, spaces, a path step).",
        "Copy the id from `sipgate-tui calls`.",
    ),
    "conflicting-options": Entry(
        (E.USAGE,),
        "Two options that exclude each other, such as `hangup CALL_ID --all` or "
        "`calls --watch --json`.",
        "Pick one of them.",
    ),
    "invalid-api-url": Entry(
        (E.USAGE,),
        "The API address cannot be used.",
        "Use https://…, default https://api.sipgate.com/v2.",
    ),
    "insecure-api-url": Entry(
        (E.USAGE,),
        "Plain http:// to another machine: the token would travel unencrypted.",
        "Use https://; http:// only for loopback.",
    ),
    "invalid-profile": Entry(
        (E.USAGE,), "Not a usable profile name.", "Letters, digits and ._@- (up to 64)."
    ),
    "invalid-keyring-timeout": Entry(
        (E.USAGE,),
        "SIPGATE_TUI_KEYRING_TIMEOUT is not a number of seconds.",
        "Set it to e.g. 10, or unset it.",
    ),
    "unknown-favourite": Entry(
        (E.USAGE,),
        "A name that is no favourite.",
        "`sipgate-tui favourites` lists them; `favourites add NAME NUMBER`.",
    ),
    "invalid-favourite-name": Entry(
        (E.USAGE,),
        "A favourite's name must be a word, not like a number or device id.",
        "Use e.g. mom or office_berlin.",
    ),
    "unknown-setting": Entry(
        (E.USAGE,),
        "`config set` with an unknown key.",
        "Keys: default-device, default-caller-id, region, history.",
    ),
    "invalid-value": Entry(
        (E.USAGE,), "A setting's value cannot be used.", "history takes true or false."
    ),
    "token-as-argument": Entry(
        (E.USAGE,),
        "--token-id got the token itself.",
        "Token id with "
        "--token-id, the token on stdin; if it was real, create a new "
        "one (the process list showed it).",
    ),
    # -- credentials -------------------------------------------------------------------------------
    "credentials-missing": Entry(
        (E.CREDENTIALS,),
        "No token in the environment or the keyring.",
        "`sipgate-tui login`, or set SIPGATE_TOKEN_ID and SIPGATE_TOKEN.",
    ),
    "incomplete-credentials": Entry(
        (E.CREDENTIALS,),
        "Only one of SIPGATE_TOKEN_ID and SIPGATE_TOKEN is set.",
        "Set both, or unset the one.",
    ),
    "credentials-corrupted": Entry(
        (E.CREDENTIALS,), "The keyring item cannot be read.", "`sipgate-tui login` stores it again."
    ),
    "unauthorized": Entry(
        (E.CREDENTIALS,),
        "sipgate rejected the token id and token (401).",
        "Check them, or create a new token and `sipgate-tui login`.",
    ),
    # -- refused by sipgate ------------------------------------------------------------------------
    "bad-request": Entry(
        (E.REFUSED,),
        "sipgate found the call request invalid (400).",
        "Check the device id and numbers; `call --dry-run` shows the request.",
    ),
    "insufficient-balance": Entry(
        (E.REFUSED,), "The account balance is too low (402).", "Top it up in the sipgate web app."
    ),
    "forbidden": Entry(
        (E.REFUSED,),
        "Not allowed (403): a missing scope, a device that is not "
        "yours, a password reset due, or an account type without the feature.",
        "The panel lists the checks in order; a new token with the scope, then "
        "`sipgate-tui login`.",
    ),
    "not-found": Entry(
        (E.REFUSED,),
        "Nothing at that address (404).",
        "Check --api-url / SIPGATE_API_URL; some account types lack some endpoints.",
    ),
    "method-not-allowed": Entry(
        (E.REFUSED,),
        "The address does not take this request (405).",
        "Check --api-url / SIPGATE_API_URL.",
    ),
    "unsupported-media-type": Entry(
        (E.REFUSED,),
        "The request's content type was refused (415).",
        "A proxy may change requests; see --debug.",
    ),
    "no-such-call": Entry(
        (E.REFUSED,),
        "`hangup` with a call id that is not among the active calls (it may have ended).",
        "`sipgate-tui calls` lists the active calls and their ids.",
    ),
    "history-unavailable": Entry(
        (E.REFUSED,),
        "`history` answered 403 or 404: the token lacks history:read, or the account type "
        "keeps its call history outside this API.",
        "A token with history:read, then `sipgate-tui login`; the sipgate web app always "
        "shows the history.",
    ),
    "unexpected-status": Entry(
        (E.REFUSED,),
        "An HTTP status sipgate does not document.",
        "Check the API address; see --debug.",
    ),
    # -- network and service -----------------------------------------------------------------------
    "rate-limited": Entry(
        (E.NETWORK,),
        "sipgate limits requests right now (429).",
        "Wait as long as the message says; reads retry once by themselves.",
    ),
    "server-error": Entry(
        (E.NETWORK,),
        "sipgate failed (5xx).",
        "Wait a minute; for a call, check your phone first (it most likely did not ring).",
    ),
    "dns-failure": Entry(
        (E.NETWORK,),
        "The API's host name does not resolve.",
        "Check the internet connection and the API address.",
    ),
    "connection-refused": Entry(
        (E.NETWORK,),
        "Nothing answers at that address.",
        "Check the API address, a firewall or a proxy.",
    ),
    "connection-failed": Entry(
        (E.NETWORK,), "No connection could be made.", "Check the internet connection."
    ),
    "connect-timeout": Entry(
        (E.NETWORK,), "No connection within the time.", "Check the connection, or raise --timeout."
    ),
    "read-timeout": Entry(
        (E.NETWORK,), "A read got no answer within the time.", "Try again, or raise --timeout."
    ),
    "tls-error": Entry(
        (E.NETWORK,),
        "No secure connection (a certificate problem).",
        "A company proxy? Point REQUESTS_CA_BUNDLE to its certificate.",
    ),
    "proxy-error": Entry(
        (E.NETWORK,), "The proxy failed.", "Check HTTPS_PROXY / HTTP_PROXY / NO_PROXY."
    ),
    "unexpected-redirect": Entry(
        (E.NETWORK,),
        "The API answered with a redirect, which is never followed.",
        "Check the API address; a captive portal (hotel Wi-Fi) does this too.",
    ),
    "connection-lost": Entry(
        (E.NETWORK, E.OUTCOME_UNKNOWN),
        "The connection broke before the answer (for a call: after it was sent).",
        "Reads: try again. A call may have been placed: check your phone before retrying.",
    ),
    "unreadable-response": Entry(
        (E.NETWORK, E.OUTCOME_UNKNOWN),
        "An answer that is not the API's (for a call: no session id).",
        "Check the API address. A call may have been placed: check your phone first.",
    ),
    # -- the call's outcome is unknown -----------------------------------------------------------
    "no-response": Entry(
        (E.OUTCOME_UNKNOWN,),
        "The call request was sent; no answer came in time.",
        "Check your phone before retrying, so nobody is called twice.",
    ),
    "interrupted": Entry(
        (E.OUTCOME_UNKNOWN,),
        "Ctrl-C while the call request was on its way.",
        "Check your phone before retrying.",
    ),
    # -- the local environment ---------------------------------------------------------------------
    "keyring-unavailable": Entry(
        (E.ENVIRONMENT,),
        "No usable keyring (never a plain-text fallback).",
        "Install/unlock GNOME Keyring or KWallet, or use SIPGATE_TOKEN_ID and SIPGATE_TOKEN.",
    ),
    "keyring-locked": Entry(
        (E.ENVIRONMENT,),
        "The keyring is locked.",
        "Unlock it (log in to the desktop session) and run the command again.",
    ),
    "keyring-timeout": Entry(
        (E.ENVIRONMENT,),
        "The keyring did not answer in time.",
        "Unlock it, or raise SIPGATE_TUI_KEYRING_TIMEOUT.",
    ),
    "keyring-write-unknown": Entry(
        (E.ENVIRONMENT,),
        "Storing timed out: it may or may not be stored.",
        "`sipgate-tui status` tells; log in again if needed.",
    ),
    "keyring-error": Entry(
        (E.ENVIRONMENT,),
        "The keyring backend failed or did not load.",
        "`python -m keyring diagnose` (with sipgate-tui's Python), or use "
        "the environment variables.",
    ),
    "config-unreadable": Entry(
        (E.ENVIRONMENT,),
        "config.toml is not valid TOML (path and line given).",
        "Fix that line; the file is never overwritten.",
    ),
    "config-invalid": Entry(
        (E.ENVIRONMENT,),
        "A value in config.toml cannot be used (key given).",
        "Fix it, or `config set` / `config unset` it.",
    ),
    "settings-unreadable": Entry(
        (E.ENVIRONMENT,),
        "A settings file cannot be read (permissions).",
        "Check the file, or move it away.",
    ),
    "settings-unwritable": Entry(
        (E.ENVIRONMENT,),
        "A settings file cannot be written.",
        "Check the directory, or set SIPGATE_TUI_CONFIG_DIR / SIPGATE_TUI_STATE_DIR.",
    ),
    "state-unreadable": Entry(
        (E.ENVIRONMENT,),
        "The recent-numbers file is damaged (calls still work, with a note).",
        "Delete it; it is rebuilt.",
    ),
    # -- the rest ---------------------------------------------------------------------------------
    "cancelled": Entry(
        (E.CANCELLED,),
        "You cancelled; the message says that nothing was sent, placed or stored.",
        "Nothing to do.",
    ),
    "internal-error": Entry(
        (E.INTERNAL,),
        "A bug in sipgate-tui.",
        "Run again with --debug and report the traceback (your token is scrubbed from it).",
    ),
}

BEGIN = "<!-- generated by python -m sipgate_tui.catalogue: {name} -->"
END = "<!-- end of generated {name} -->"


def exit_codes_markdown() -> str:
    """The README's exit-code table."""
    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| {int(code)} | {meaning} |" for code, meaning in EXIT_CODES.items()]
    return "\n".join(lines)


def troubleshooting_markdown() -> str:
    """The README's troubleshooting table: every problem code, grouped by exit code."""
    lines = [
        "| exit | code (`--json`: `error.code`) | what it means | what to do |",
        "|---|---|---|---|",
    ]
    order = list(EXIT_CODES)
    for code, entry in sorted(
        CATALOGUE.items(),
        key=lambda i: (order.index(i[1].exit_codes[0]), list(CATALOGUE).index(i[0])),
    ):
        exits = ", ".join(str(int(c)) for c in entry.exit_codes)
        lines.append(f"| {exits} | `{code}` | {entry.meaning} | {entry.fix} |")
    return "\n".join(lines)


SECTIONS = {"exit codes": exit_codes_markdown, "troubleshooting": troubleshooting_markdown}


def render_into(text: str) -> str:
    """``text`` with every generated section replaced by its current content."""
    for name, make in SECTIONS.items():
        begin, end = BEGIN.format(name=name), END.format(name=name)
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        if not rest:
            raise ValueError(f"the README has no '{begin}' marker")
        text = f"{head}{begin}\n{make()}\n{end}{tail}"
    return text


def main(argv: list[str]) -> int:
    """``python -m sipgate_tui.catalogue README.md``: rewrite the generated sections."""
    if len(argv) != 1:
        print(__doc__)
        return 2
    path = Path(argv[0])
    path.write_text(render_into(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
