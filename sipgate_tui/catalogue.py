"""Every problem a user can meet: its stable code, exit code(s), title, meaning and fix.

This registry is the one place where a problem code's exit code is written: :class:`AppError`
takes its exit code and panel title from here (an unknown code is a bug and raises), and the
README's "Troubleshooting" and "Exit codes" sections are generated from it and from
:class:`ExitCode` (a test fails when they differ). Regenerate them with::

    python -m sipgate_tui.catalogue README.md

Imported on every path (through ``errors``), so it holds plain data and imports nothing else.
"""

from __future__ import annotations

import sys

from sipgate_tui.exit_codes import ExitCode
from sipgate_tui.setting_keys import SETTING_KEYS

E = ExitCode


class UnknownProblemCode(LookupError):
    """A problem code that is not in :data:`CATALOGUE`: a bug in sipgate-tui, never the user's."""


class Problem:
    """One problem code: its exit code(s), title, what it means and what to do about it.

    ``after_call_sent`` is the exit code once the call request was sent, for the few problems
    that mean something else then (a connection lost before a read's answer is a network
    problem; after the POST the call may have been placed). ``title`` replaces the exit code's
    panel title for this problem. A plain class, not a dataclass: ``dataclasses`` would cost
    every start-up its import.
    """

    __slots__ = ("_after_call_sent", "exit_code", "fix", "meaning", "title")

    def __init__(
        self,
        exit_code: ExitCode,
        meaning: str,
        fix: str,
        *,
        after_call_sent: ExitCode | None = None,
        title: str | None = None,
    ) -> None:
        self.exit_code = exit_code
        self.meaning = meaning
        self.fix = fix
        self.title = title
        self._after_call_sent = after_call_sent

    @property
    def exit_codes(self) -> tuple[ExitCode, ...]:
        """Every exit code this problem can end with: for reads first, then after the POST."""
        if self._after_call_sent is None:
            return (self.exit_code,)
        return (self.exit_code, self._after_call_sent)

    def exit_code_for(self, *, after_call_sent: bool) -> ExitCode:
        """The exit code, given whether the call request was already sent."""
        if after_call_sent and self._after_call_sent is not None:
            return self._after_call_sent
        return self.exit_code

    def title_for(self, *, after_call_sent: bool) -> str:
        """The panel title: this problem's own, else its exit code's."""
        return self.title or self.exit_code_for(after_call_sent=after_call_sent).title


def problem(code: str) -> Problem:
    """The registry entry of ``code``; :class:`UnknownProblemCode` when there is none."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise UnknownProblemCode(
            f"{code!r} is no problem code: add it to sipgate_tui/catalogue.py"
        ) from None


CATALOGUE: dict[str, Problem] = {
    # -- usage: what was typed or passed -------------------------------------------------------
    "usage": Problem(
        E.USAGE,
        "An option the command does not know, or a value of the wrong type.",
        "See `sipgate-tui COMMAND --help`; global options (--profile, "
        "--api-url, --no-input, --debug, --account-type) go before or after the command.",
    ),
    "missing-value": Problem(
        E.USAGE,
        "A value is missing and nothing may be asked (no terminal, --no-input or --json).",
        "Pass it as an option, e.g. `call NUMBER --device e0 --yes`.",
    ),
    "confirmation-required": Problem(
        E.USAGE,
        "A call (or `hangup --all`) without a terminal to confirm on.",
        "Add --yes; for a call, --dry-run shows the request without sending.",
    ),
    "no-command": Problem(
        E.USAGE,
        "Bare sipgate-tui (the guided mode) without a terminal.",
        "Give a command; see `sipgate-tui --help`.",
    ),
    "invalid-number": Problem(
        E.USAGE,
        "Not a phone number: letters, too short or long, an "
        "area code alone, an unknown country code.",
        "Write it as +49 157 99912345 or 0157 99912345 (with --region for other countries).",
    ),
    "emergency-number": Problem(
        E.USAGE,
        "An emergency number.",
        "Call it from your phone directly; sipgate-tui does not dial emergency numbers.",
    ),
    "not-a-phone-link": Problem(
        E.USAGE,
        "A link that names no phone number: a SIP address with a name (sip:alice@example.com), "
        "a scheme other than tel:, callto:, sip: and sips:, or nothing after the scheme.",
        "Give the number itself, or a link such as tel:+49-211-5550003.",
    ),
    "invalid-dial-string": Problem(
        E.USAGE,
        "The tones after the number (or --dtmf) hold something that is no keypad tone, pause "
        "(,) or wait (;), or more than sipgate-tui dials.",
        "Use 0-9, * and #, ',' and ';' (e.g. ,,85512345678#); longer sequences on the keypad "
        "of the live view.",
    ),
    "premium-rate-link": Problem(
        E.USAGE,
        "A link opened from the desktop names a premium-rate number: such links are refused.",
        "Type the number yourself if you mean to call it: `sipgate-tui call NUMBER`.",
    ),
    "link-needs-terminal": Problem(
        E.USAGE,
        "A link opened from the desktop, but no terminal to show the call and ask in.",
        "Set $TERMINAL to your terminal emulator, or run `sipgate-tui call 'LINK'` yourself.",
    ),
    "invalid-device": Problem(
        E.USAGE,
        "Not a device id that can place calls.",
        "Use e0, x1, y0 or p0 style ids; `sipgate-tui devices` lists yours.",
    ),
    "invalid-caller": Problem(
        E.USAGE,
        "--caller got a device id.",
        "Give device ids with --device; --caller takes a number.",
    ),
    "invalid-region": Problem(
        E.USAGE, "Not a country code.", "Use a two-letter code: DE, AT, CH, GB..."
    ),
    "invalid-timeout": Problem(
        E.USAGE, "--timeout out of range.", "More than 0 and at most 600 seconds."
    ),
    "invalid-call-id": Problem(
        E.USAGE,
        "`hangup` with something that cannot be a call id (empty, spaces, a path step).",
        "Copy the id from `sipgate-tui calls`.",
    ),
    "conflicting-options": Problem(
        E.USAGE,
        "Two options that exclude each other, such as `hangup CALL_ID --all` or "
        "`calls --watch --json`.",
        "Pick one of them.",
    ),
    "channel-required": Problem(
        E.USAGE,
        "sipgate Neo: the phone is in several channels and nothing may be asked.",
        "Choose one with `--channel ID` (the message lists them).",
    ),
    "unknown-channel": Problem(
        E.USAGE,
        "sipgate Neo: `--channel` names none of your channels.",
        "Leave it out to use the channel that holds the phone.",
    ),
    "unsupported-on-neo": Problem(
        E.USAGE,
        "`--caller` on sipgate Neo, whose call request always rings one of your phones.",
        "Leave `--caller` out; pick the phone with `--device`.",
    ),
    "invalid-api-url": Problem(
        E.USAGE,
        "The API address cannot be used.",
        "Use https://…, default https://api.sipgate.com/v2.",
    ),
    "insecure-api-url": Problem(
        E.USAGE,
        "Plain http:// to another machine: the token would travel unencrypted.",
        "Use https://; http:// only for loopback.",
    ),
    "invalid-profile": Problem(
        E.USAGE, "Not a usable profile name.", "Letters, digits and ._@- (up to 64)."
    ),
    "invalid-keyring-timeout": Problem(
        E.USAGE,
        "SIPGATE_TUI_KEYRING_TIMEOUT is not a number of seconds.",
        "Set it to e.g. 10, or unset it.",
    ),
    "invalid-lock-timeout": Problem(
        E.USAGE,
        "SIPGATE_TUI_LOCK_TIMEOUT is not a number of seconds.",
        "Set it to e.g. 10, or unset it.",
    ),
    "unknown-favourite": Problem(
        E.USAGE,
        "A name that is no favourite.",
        "`sipgate-tui favourites` lists them; `favourites add NAME NUMBER`.",
    ),
    "unknown-name": Problem(
        E.USAGE,
        "A name that is neither a favourite nor a contact's (whole name words count).",
        "`sipgate-tui contacts NAME` shows whom it finds; or give the number.",
    ),
    "ambiguous-name": Problem(
        E.USAGE,
        "Without a terminal, a name that names several numbers (listed); nothing is sent.",
        "Add the number's type ('Ada Lovelace mobile'), more of the name, or the number.",
    ),
    "contact-without-number": Problem(
        E.USAGE,
        "The contact named has no number that can be dialled.",
        "Give the number, or correct it in the sipgate web app's contacts.",
    ),
    "invalid-favourite-name": Problem(
        E.USAGE,
        "A favourite's name must be a word, not like a number or device id.",
        "Use e.g. mom or office_berlin.",
    ),
    "unknown-setting": Problem(
        E.USAGE,
        "`config set` with an unknown key.",
        "Keys: " + ", ".join(key.name for key in SETTING_KEYS) + ".",
    ),
    "invalid-value": Problem(
        E.USAGE,
        "A setting's value cannot be used.",
        "history takes true or false; "
        + "; ".join(f"{key.name} {key.choices_in_words()}" for key in SETTING_KEYS if key.choices)
        + ".",
    ),
    "invalid-token": Problem(
        E.USAGE,
        "A token that is not text (a byte that is not UTF-8), or stdin far longer than one.",
        "Copy the token again from the sipgate web app; pipe in only the token.",
    ),
    "token-as-argument": Problem(
        E.USAGE,
        "--token-id got the token itself.",
        "Token id with "
        "--token-id, the token on stdin; if it was real, create a new "
        "one (the process list showed it).",
    ),
    # -- credentials -------------------------------------------------------------------------------
    "credentials-missing": Problem(
        E.CREDENTIALS,
        "No token in the environment or the keyring.",
        "`sipgate-tui login`, or set SIPGATE_TOKEN_ID and SIPGATE_TOKEN.",
        title="No credentials yet",
    ),
    "incomplete-credentials": Problem(
        E.CREDENTIALS,
        "Only one of SIPGATE_TOKEN_ID and SIPGATE_TOKEN is set.",
        "Set both, or unset the one.",
    ),
    "credentials-corrupted": Problem(
        E.CREDENTIALS, "The keyring item cannot be read.", "`sipgate-tui login` stores it again."
    ),
    "unauthorized": Problem(
        E.CREDENTIALS,
        "sipgate rejected the token id and token (401).",
        "Check them, or create a new token and `sipgate-tui login`.",
    ),
    # -- refused by sipgate ------------------------------------------------------------------------
    "bad-request": Problem(
        E.REFUSED,
        "sipgate found the call request invalid (400).",
        "Check the device id and numbers; `call --dry-run` shows the request.",
    ),
    "insufficient-balance": Problem(
        E.REFUSED, "The account balance is too low (402).", "Top it up in the sipgate web app."
    ),
    "forbidden": Problem(
        E.REFUSED,
        "Not allowed (403): a missing scope, a device that is not "
        "yours, a password reset due, or an account type without the feature.",
        "The panel lists the checks in order; a new token with the scope, then "
        "`sipgate-tui login`.",
    ),
    "not-found": Problem(
        E.REFUSED,
        "Nothing at that address (404).",
        "Check --api-url / SIPGATE_API_URL; some account types lack some endpoints.",
    ),
    "method-not-allowed": Problem(
        E.REFUSED,
        "The address does not take this request (405).",
        "Check --api-url / SIPGATE_API_URL.",
    ),
    "unsupported-media-type": Problem(
        E.REFUSED,
        "The request's content type was refused (415).",
        "A proxy may change requests; see --debug.",
    ),
    "no-such-call": Problem(
        E.REFUSED,
        "`hangup` with a call id that is not among the active calls (it may have ended).",
        "`sipgate-tui calls` lists the active calls and their ids.",
    ),
    "history-unavailable": Problem(
        E.REFUSED,
        "`history` answered 403 or 404: the token lacks history:read, or the account type "
        "keeps its call history outside this API.",
        "A token with history:read, then `sipgate-tui login`; the sipgate web app always "
        "shows the history.",
    ),
    "unexpected-status": Problem(
        E.REFUSED,
        "An HTTP status sipgate does not document.",
        "Check the API address; see --debug.",
    ),
    # -- network and service -----------------------------------------------------------------------
    "rate-limited": Problem(
        E.NETWORK,
        "sipgate limits requests right now (429).",
        "Wait as long as the message says; reads retry once by themselves.",
    ),
    "server-error": Problem(
        E.NETWORK,
        "sipgate failed (5xx).",
        "Wait a minute; for a call, check your phone first (it most likely did not ring).",
    ),
    "dns-failure": Problem(
        E.NETWORK,
        "The API's host name does not resolve.",
        "Check the internet connection and the API address.",
    ),
    "connection-refused": Problem(
        E.NETWORK,
        "Nothing answers at that address.",
        "Check the API address, a firewall or a proxy.",
    ),
    "connection-failed": Problem(
        E.NETWORK, "No connection could be made.", "Check the internet connection."
    ),
    "connect-timeout": Problem(
        E.NETWORK, "No connection within the time.", "Check the connection, or raise --timeout."
    ),
    "read-timeout": Problem(
        E.NETWORK, "A read got no answer within the time.", "Try again, or raise --timeout."
    ),
    "tls-error": Problem(
        E.NETWORK,
        "No secure connection: a certificate sipgate-tui does not trust, a name that does not "
        "match, or no TLS on that port.",
        "The panel names which: check the address and port, the system clock, or point "
        "REQUESTS_CA_BUNDLE to the certificate of a proxy that inspects TLS.",
    ),
    "proxy-error": Problem(
        E.NETWORK, "The proxy failed.", "Check HTTPS_PROXY / HTTP_PROXY / NO_PROXY."
    ),
    # A usage error, like an unusable SIPGATE_API_URL: trying again cannot help, the variable
    # must change. Nothing was sent (the setting is checked before any connection).
    "proxy-setting": Problem(
        E.USAGE,
        "A proxy variable (HTTPS_PROXY, ALL_PROXY, …) that cannot be used: nothing was sent.",
        "Fix or unset the variable named; SOCKS needs PySocks.",
    ),
    "unexpected-redirect": Problem(
        E.NETWORK,
        "The API answered with a redirect, which is never followed.",
        "Check the API address; a captive portal (hotel Wi-Fi) does this too.",
    ),
    "connection-lost": Problem(
        E.NETWORK,
        "The connection broke before the answer (for a call: after it was sent).",
        "Reads: try again. A call may have been placed: check your phone before retrying.",
        after_call_sent=E.OUTCOME_UNKNOWN,
    ),
    "unreadable-response": Problem(
        E.NETWORK,
        "An answer that is not the API's (for a call: no session id).",
        "Check the API address. A call may have been placed: check your phone first.",
        after_call_sent=E.OUTCOME_UNKNOWN,
    ),
    "contacts-unreadable": Problem(
        E.NETWORK,
        "`contacts`: GET /contacts answered something that is not a list of contacts; "
        "nothing was kept.",
        "Check the API address; if it is right, try again later.",
    ),
    "contacts-endless": Problem(
        E.NETWORK,
        "`contacts`: the pages of GET /contacts never ended (more than 100,000 contacts or "
        "1,000 pages); nothing was kept.",
        "Check the API address; if it is right, try again later.",
    ),
    # -- the call's outcome is unknown -----------------------------------------------------------
    "no-response": Problem(
        E.OUTCOME_UNKNOWN,
        "The call request was sent; no answer came in time.",
        "Check your phone before retrying, so nobody is called twice.",
    ),
    "interrupted": Problem(
        E.OUTCOME_UNKNOWN,
        "Ctrl-C while the call request was on its way.",
        "Check your phone before retrying.",
    ),
    # -- the local environment ---------------------------------------------------------------------
    "keyring-unavailable": Problem(
        E.ENVIRONMENT,
        "No usable keyring (never a plain-text fallback).",
        "Install/unlock GNOME Keyring or KWallet, or use SIPGATE_TOKEN_ID and SIPGATE_TOKEN.",
        title="No keyring available",
    ),
    "keyring-locked": Problem(
        E.ENVIRONMENT,
        "The keyring is locked.",
        "Unlock it (log in to the desktop session) and run the command again.",
    ),
    "keyring-timeout": Problem(
        E.ENVIRONMENT,
        "The keyring did not answer in time.",
        "Unlock it, or raise SIPGATE_TUI_KEYRING_TIMEOUT.",
    ),
    "keyring-write-unknown": Problem(
        E.ENVIRONMENT,
        "Storing timed out: it may or may not be stored.",
        "`sipgate-tui status` tells; log in again if needed.",
    ),
    "keyring-error": Problem(
        E.ENVIRONMENT,
        "The keyring backend failed or did not load.",
        "`python -m keyring diagnose` (with sipgate-tui's Python), or use "
        "the environment variables.",
    ),
    "config-unreadable": Problem(
        E.ENVIRONMENT,
        "config.toml is not valid TOML (path and line given).",
        "Fix that line; the file is never overwritten.",
    ),
    "config-invalid": Problem(
        E.ENVIRONMENT,
        "A value in config.toml cannot be used (key given).",
        "Fix it, or `config set` / `config unset` it.",
    ),
    "settings-unreadable": Problem(
        E.ENVIRONMENT,
        "A settings file cannot be read (permissions).",
        "Check the file, or move it away.",
    ),
    "settings-unwritable": Problem(
        E.ENVIRONMENT,
        "A settings file cannot be written.",
        "Check the directory, or set SIPGATE_TUI_CONFIG_DIR / SIPGATE_TUI_STATE_DIR.",
    ),
    "state-unreadable": Problem(
        E.ENVIRONMENT,
        "The recent-numbers file is damaged (calls still work, with a note).",
        "Delete it; it is rebuilt.",
    ),
    "settings-not-a-file": Problem(
        E.ENVIRONMENT,
        "config.toml or state.json is a FIFO, device, directory or dangling link: never read "
        "nor replaced (a damaged state file still lets calls go, with a note).",
        "Move it away, or point the link at a regular file.",
    ),
    "settings-locked": Problem(
        E.ENVIRONMENT,
        "Another sipgate-tui held the file's lock (NAME.lock, named) longer than "
        "SIPGATE_TUI_LOCK_TIMEOUT (10 s); nothing was changed.",
        "Let the other run finish (or resume one stopped with Ctrl-Z), then run it again.",
    ),
    "handler-tools-missing": Problem(
        E.ENVIRONMENT,
        "`handler install` or `uninstall` without the freedesktop tools (xdg-mime, "
        "update-desktop-database); `handler status` says what it can without them, exit 0.",
        "Install xdg-utils and desktop-file-utils (Debian, Ubuntu: `apt install xdg-utils "
        "desktop-file-utils`).",
    ),
    "handler-failed": Problem(
        E.ENVIRONMENT,
        "The desktop entry could not be written or removed, a freedesktop tool failed, or "
        "`handler install` took effect for no kind of link (each one's reason is shown).",
        "The message names the file or the tool; `sipgate-tui handler status` shows what "
        "handles the links now.",
    ),
    "handler-manual-steps": Problem(
        E.ENVIRONMENT,
        "`handler install` on macOS or Windows, where a link handler needs an app bundle or "
        "registry keys: nothing was installed, the steps are printed.",
        "Follow the printed steps (README: \"Dial from your browser\").",
    ),
    # -- the rest ---------------------------------------------------------------------------------
    "cancelled": Problem(
        E.CANCELLED,
        "You cancelled; the message says that nothing was sent, placed or stored.",
        "Nothing to do.",
    ),
    "internal-error": Problem(
        E.INTERNAL,
        "A bug in sipgate-tui (once the call request was sent: the call may have been placed).",
        "Report it with the traceback from --debug (your token is scrubbed from it); after a "
        "call request, check your phone before calling again.",
        after_call_sent=E.OUTCOME_UNKNOWN,
    ),
}

BEGIN = "<!-- generated by python -m sipgate_tui.catalogue: {name} -->"
END = "<!-- end of generated {name} -->"


def exit_codes_markdown() -> str:
    """The README's exit-code table."""
    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| {int(code)} | {code.meaning} |" for code in ExitCode]
    return "\n".join(lines)


def troubleshooting_markdown() -> str:
    """The README's troubleshooting table: every problem code, grouped by exit code."""
    lines = [
        "| exit | code (`--json`: `error.code`) | what it means | what to do |",
        "|---|---|---|---|",
    ]
    order = list(ExitCode)
    position = {code: index for index, code in enumerate(CATALOGUE)}
    for code, entry in sorted(
        CATALOGUE.items(), key=lambda item: (order.index(item[1].exit_code), position[item[0]])
    ):
        exits = ", ".join(str(int(exit_code)) for exit_code in entry.exit_codes)
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
    from pathlib import Path  # only here: the registry above is imported on every path

    if len(argv) != 1:
        print(__doc__)
        return 2
    path = Path(argv[0])
    path.write_text(render_into(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
