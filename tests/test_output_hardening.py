"""Output that cannot crash a command or show a secret; signals that end a run cleanly.

Issue 13, items 1 (encodings), 3 (redaction after cleaning, and of everything written),
6 (``--json`` escapes) and 10 (SIGTERM and SIGHUP). The guard is tested on real text streams;
the commands run as the installed console script against the simulator on 127.0.0.1.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pexpect
import pytest
import typer
from helpers import TOKEN, TOKEN_ID
from hypothesis import given
from hypothesis import strategies as st
from servers import SilentServer

from sipgate_tui import known_secrets
from sipgate_tui.credentials import Credentials
from sipgate_tui.options import GlobalOptions
from sipgate_tui.safe_output import GuardedStream, encodable
from sipgate_tui.simulator import SipgateSimulator
from sipgate_tui.text import ESCAPES as ESCAPE_SEQUENCES
from sipgate_tui.text import json_text, one_line

BASIC = base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()
CALL = ["call", "0157 99912345", "-d", "e0", "--yes", "--timeout", "5"]


def guarded(encoding: str) -> tuple[GuardedStream, io.BytesIO]:
    raw = io.BytesIO()
    return GuardedStream(io.TextIOWrapper(raw, encoding=encoding, write_through=True)), raw


# -- the guard itself ---------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "latin-1", "cp437", "utf-8"])
def test_every_character_degrades_instead_of_failing(encoding: str) -> None:
    stream, raw = guarded(encoding)
    stream.write("✓ Call accepted • Müller → +49 157 … ★ 電話 \udcff\n")
    text = raw.getvalue().decode(encoding)
    assert "Call accepted" in text
    if encoding == "ascii":
        assert text.startswith("+ Call accepted * Muller > +49 157 . * ?? ?")


@given(st.text())
def test_the_guard_never_raises_and_writes_only_encodable_text(text: str) -> None:
    for encoding in ("ascii", "cp1252", "utf-8"):
        written = encodable(text, encoding, unicode=encoding == "utf-8")
        written.encode(encoding)  # raises if anything in it cannot be written
        assert len(written) >= len(text.strip()) // 4  # degraded, not dropped


def test_the_guard_keeps_what_rich_and_prompt_toolkit_ask_about() -> None:
    stream, _ = guarded("cp1252")
    assert stream.encoding == "cp1252" and stream.errors == "replace"
    assert not stream.isatty()
    assert not hasattr(stream, "buffer")  # bytes never go past the guard


@pytest.mark.parametrize(
    "write",
    [
        TOKEN,
        f"Basic {BASIC}",
        TOKEN[:10] + "\x1b[31m" + TOKEN[10:],  # split by a colour
        TOKEN[:5] + "\x1b]0;title\x07" + TOKEN[5:],  # split by a window title
        TOKEN[:8] + "\x00\u202e" + TOKEN[8:],  # split by controls
        TOKEN[:20] + "\n" + TOKEN[20:],  # wrapped at the end of a line
    ],
)
def test_no_written_form_of_the_token_gets_through(write: str) -> None:
    Credentials(TOKEN_ID, TOKEN)  # the process has seen the token
    stream, raw = guarded("utf-8")
    stream.write(f"sipgate said: {write}!\n")
    out = raw.getvalue().decode()
    squeezed = "".join(ch for ch in out if ch.isprintable() and not ch.isspace())
    assert TOKEN not in squeezed and BASIC not in squeezed
    assert "sipgate" in out and "said" in out


def test_cleaning_comes_before_redaction_and_before_the_cut() -> None:
    Credentials(TOKEN_ID, TOKEN)
    assert TOKEN not in one_line(TOKEN[:4] + "\x1b[0m" + TOKEN[4:])
    # The cut at 40 characters would have kept the first part of the token.
    cut = one_line("x" * 30 + TOKEN, 40)
    assert TOKEN[:9] not in cut and known_secrets.MASK in cut


@pytest.mark.parametrize("char", ["\x7f", "\x85", "\x9b", "\u202e", "\u2066", "\u200b", "\ufeff"])
def test_json_escapes_what_a_terminal_would_act_on(char: str) -> None:
    text = json_text({"status": f"a{char}b"})
    assert char not in text
    assert json.loads(text) == {"status": f"a{char}b"}  # the data itself is unchanged


# -- the installed command: encodings ----------------------------------------------------------


def run(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [env["SCRIPT"], *args], env=env, capture_output=True, timeout=60, **kwargs
    )


@pytest.fixture
def env(clean_env: dict[str, str], console_script: str, simulator: SipgateSimulator) -> dict:
    return {
        **clean_env,
        "SCRIPT": console_script,
        "SIPGATE_API_URL": simulator.url,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
    }


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "latin-1"])
def test_a_placed_call_on_a_stdout_that_is_not_utf8_reports_the_call(
    encoding: str, env: dict, simulator: SipgateSimulator
) -> None:
    result = run(CALL, {**env, "PYTHONIOENCODING": encoding})
    out = result.stdout.decode(encoding)
    assert result.returncode == 0, out + result.stderr.decode(encoding)
    assert "Call accepted" in out and "bug" not in out.lower()
    assert len(simulator.call_requests()) == 1


def test_json_on_an_ascii_stdout_keeps_the_data_exact(
    env: dict, simulator: SipgateSimulator
) -> None:
    simulator.respond_with(
        200,
        {"items": [{"id": "e0", "alias": "Müllers Telefon", "type": "REGISTER", "online": True}]},
        path="/w0/devices",
    )
    result = run(["devices", "--json"], {**env, "PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert "M\\u00fcllers Telefon" in result.stdout.decode("ascii")
    assert json.loads(result.stdout)[0]["alias"] == "Müllers Telefon"


# -- the installed command: a server that echoes the token -------------------------------------


@pytest.mark.parametrize("split", ["\x1b[0m", "\x1b]8;;https://x\x07", "\u202e", "\x00"])
@pytest.mark.parametrize("mode", [[], ["--json"], ["--debug"]])
def test_an_echoed_token_with_an_escape_inside_is_never_shown(
    split: str, mode: list[str], env: dict, simulator: SipgateSimulator
) -> None:
    echoed = TOKEN[:12] + split + TOKEN[12:]
    simulator.respond_with(403, {"errors": [{"title": f"token {echoed} refused"}]})
    args = ["--debug", *CALL] if mode == ["--debug"] else [*CALL, *mode]
    result = run(args, env)
    everything = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == 4, everything
    squeezed = "".join(ch for ch in everything if ch.isprintable() and not ch.isspace())
    for form in (TOKEN, BASIC):
        assert form not in everything and form not in squeezed.replace("\x1b", "")
    assert "Traceback" not in everything


# -- a bug after the call request: never "run it again" ----------------------------------------


def test_a_bug_after_the_call_was_accepted_keeps_exit_0_and_says_so(
    simulator: SipgateSimulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from sipgate_tui import cli
    from sipgate_tui.api import CallRequest

    monkeypatch.setenv("SIPGATE_TOKEN_ID", TOKEN_ID)
    monkeypatch.setenv("SIPGATE_TOKEN", TOKEN)

    def command(ctx: object) -> int:
        client = ctx.make_client(Credentials(TOKEN_ID, TOKEN), cli_timeouts())  # type: ignore[attr-defined]
        client.place_call(CallRequest(caller="e0", callee="+4915799912345"))
        raise UnicodeEncodeError("ascii", "✓", 0, 1, "a crash while printing")

    typer_ctx = SimpleNamespace(obj=GlobalOptions(api_url=simulator.url))
    with pytest.raises(typer.Exit) as ended:
        cli._execute(typer_ctx, False, command)  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert ended.value.exit_code == 0
    assert "The call was accepted" in err and "hangup" in err
    assert "again" not in err
    assert len(simulator.call_requests()) == 1


def test_a_bug_while_the_call_request_is_out_says_it_may_have_been_placed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from sipgate_tui import cli
    from sipgate_tui.api import CallRequest

    monkeypatch.setenv("SIPGATE_TOKEN_ID", TOKEN_ID)
    monkeypatch.setenv("SIPGATE_TOKEN", TOKEN)
    with SilentServer() as server:

        def command(ctx: object) -> int:
            client = ctx.make_client(Credentials(TOKEN_ID, TOKEN), cli_timeouts(0.3))  # type: ignore[attr-defined]
            with contextlib.suppress(Exception):  # the read timeout; then the "bug"
                client.place_call(CallRequest(caller="e0", callee="+4915799912345"))
            raise RuntimeError("a bug")

        typer_ctx = SimpleNamespace(obj=GlobalOptions(api_url=server.url))
        with pytest.raises(typer.Exit) as ended:
            cli._execute(typer_ctx, True, command)  # type: ignore[arg-type]
    document = json.loads(capsys.readouterr().out)
    assert ended.value.exit_code == 6
    assert document["exitCode"] == 6 and "may have been placed" in document["error"]["message"]
    assert "run the command again" not in json.dumps(document).lower()


def cli_timeouts(seconds: float = 5.0) -> object:
    from sipgate_tui.api import Timeouts

    return Timeouts.both(seconds)


# -- signals ------------------------------------------------------------------------------------


def wait_until(condition: object, timeout: float = 20.0) -> None:
    """Wait for a condition another process brings about (polled: there is no event to wait on)."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("json_mode", [False, True])
def test_a_signal_while_the_call_request_is_out_prints_the_outcome(
    number: int, json_mode: bool, env: dict
) -> None:
    with SilentServer() as server:
        args = [env["SCRIPT"], *CALL[:-1], "30", *(["--json"] if json_mode else [])]
        child = subprocess.Popen(
            args,
            env={**env, "SIPGATE_API_URL": server.url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_until(lambda: b"POST " in server.received)
        child.send_signal(number)
        out, err = child.communicate(timeout=30)
    assert child.returncode == 6, out + err
    text = (out + err).decode()
    assert "may have been placed" in text and "Traceback" not in text
    if json_mode:
        assert json.loads(out)["exitCode"] == 6 and err == b""


@pytest.mark.pty
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_at_a_question_cancels_and_restores_the_terminal(number: int, env: dict) -> None:
    child = pexpect.spawn(
        env["SCRIPT"],
        ["call"],
        env={**env, "PROMPT_TOOLKIT_NO_CPR": "1"},
        encoding="utf-8",
        timeout=20,
        dimensions=(30, 100),
    )
    child.expect("Whom do you want to call")
    child.kill(number)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, child.before
    assert "Nothing was sent" in child.before or "no call" in child.before.lower()
    assert "Traceback" not in child.before


@pytest.mark.pty
def test_a_signal_in_the_live_view_restores_the_terminal_and_names_the_hangup(
    env: dict, simulator: SipgateSimulator
) -> None:
    child = pexpect.spawn(
        env["SCRIPT"],
        CALL,
        env={**env, "PROMPT_TOOLKIT_NO_CPR": "1"},
        encoding="utf-8",
        timeout=30,
        dimensions=(30, 100),
    )
    # The live line; on a loaded machine the call may be connected by its first look.
    child.expect("Ringing|Connected")
    child.kill(signal.SIGTERM)
    child.expect(pexpect.EOF)
    child.close()
    screen = child.before
    assert child.exitstatus == 0, screen
    assert "sipgate-tui hangup" in screen
    assert "\x1b[?25h" in screen  # the cursor is shown again
    assert "Traceback" not in screen


def test_a_signal_during_the_demo_removes_its_files(
    clean_env: dict[str, str], console_script: str, tmp_path: Path
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = pexpect.spawn(
        console_script,
        ["demo"],
        env={**clean_env, "TMPDIR": str(scratch), "PROMPT_TOOLKIT_NO_CPR": "1"},
        encoding="utf-8",
        timeout=30,
        dimensions=(30, 100),
    )
    child.expect("Whom do you want to call")
    assert list(scratch.iterdir())  # the demo's directory exists while it runs
    child.kill(signal.SIGTERM)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, child.before
    assert list(scratch.iterdir()) == []
    assert os.listdir(scratch) == []


# -- global options after the command (item 19) ------------------------------------------------


@pytest.mark.parametrize(
    ("given", "parsed"),
    [
        (["status", "--debug"], ["--debug", "status"]),
        (
            ["call", "0157 99912345", "--profile", "work", "--yes"],
            ["--profile", "work", "call", "0157 99912345", "--yes"],
        ),
        (
            ["--no-input", "call", "--api-url=http://127.0.0.1:9/v2"],
            ["--no-input", "--api-url=http://127.0.0.1:9/v2", "call"],
        ),
        (
            ["--profile", "work", "status", "--account-type", "neo"],
            ["--profile", "work", "--account-type", "neo", "status"],
        ),
        (
            ["config", "set", "region", "AT", "--debug"],
            ["--debug", "config", "set", "region", "AT"],
        ),
        (["status", "--", "--debug"], ["status", "--", "--debug"]),  # after --: an argument
        (["status", "--profile"], ["status", "--profile"]),  # no value: click says so
        (["--debug"], ["--debug"]),
        ([], []),
    ],
)
def test_global_options_after_the_command_mean_the_same(
    given: list[str], parsed: list[str]
) -> None:
    from sipgate_tui.cli import hoist_global_options

    assert hoist_global_options(given) == parsed


def test_debug_after_the_command_works_as_the_hints_say(env: dict) -> None:
    result = run(["status", "--timeout", "5", "--debug"], env)
    assert result.returncode == 0, result.stderr
    assert b"debug: [1] > GET" in result.stderr


SPLITTERS = st.sampled_from(
    [
        "\x1b[0m",
        "\x1b[1;31m",
        "\x1b]0;t\x07",
        "\x1b]8;;x\x1b\\",
        "\x00",
        "\u202e",
        "\u200b",
        "\n",
        " ",
    ]
)


@given(
    before=st.text(max_size=30),
    after=st.text(max_size=30),
    cuts=st.lists(st.tuples(st.integers(1, len(TOKEN) - 1), SPLITTERS), max_size=3),
    form=st.sampled_from([TOKEN, BASIC]),
    encoding=st.sampled_from(["utf-8", "ascii", "cp1252"]),
)
def test_no_write_in_any_encoding_shows_the_token_however_it_is_split(
    before: str, after: str, cuts: list[tuple[int, str]], form: str, encoding: str
) -> None:
    Credentials(TOKEN_ID, TOKEN)
    secret = form
    for position, splitter in sorted(cuts, reverse=True):
        secret = secret[:position] + splitter + secret[position:]
    stream, raw = guarded(encoding)
    stream.write(before + secret + after)
    out = raw.getvalue().decode(encoding)
    squeezed = "".join(
        ch for ch in ESCAPE_SEQUENCES.sub("", out) if ch.isprintable() and not ch.isspace()
    )
    assert TOKEN not in squeezed and BASIC not in squeezed
