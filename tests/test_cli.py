"""The installed console script as scripts see it: exit codes, --json documents, stderr, secrets."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from helpers import TOKEN, TOKEN_ID

from sipgate_tui import __version__
from sipgate_tui.context import GlobalOptions
from sipgate_tui.simulator import SipgateSimulator

BASIC = base64.b64encode(f"{TOKEN_ID}:{TOKEN}".encode()).decode()


def sipgate_tui(
    script: str, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [script, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    everything = result.stdout + result.stderr
    assert "Traceback" not in everything
    assert TOKEN not in everything and BASIC not in everything
    return result


@pytest.fixture
def env(clean_env: dict[str, str], simulator: SipgateSimulator) -> dict[str, str]:
    return {
        **clean_env,
        "SIPGATE_API_URL": simulator.url,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
    }


def test_version(console_script: str, clean_env: dict[str, str]) -> None:
    result = sipgate_tui(console_script, clean_env, "--version")
    assert (result.returncode, result.stdout) == (0, f"sipgate-tui {__version__}\n")


def test_python_dash_m_works_too(clean_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sipgate_tui", "call", "--help"],
        env=clean_env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0
    assert "Usage: sipgate-tui call" in result.stdout
    assert "--dry-run" in result.stdout


def test_help_names_the_command_and_global_options(
    console_script: str, clean_env: dict[str, str]
) -> None:
    result = sipgate_tui(console_script, clean_env, "--help")
    assert result.returncode == 0
    for fragment in ("call", "--api-url", "--no-input", "--debug", "--version"):
        assert fragment in result.stdout


def test_a_scripted_call_with_json(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    result = sipgate_tui(
        console_script, env, "call", "0157 99912345", "--device", "e0", "--yes", "--json"
    )
    assert result.returncode == 0
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document == {
        "ok": True,
        "sessionId": simulator.sessions[0]["sessionId"],
        "callId": simulator.sessions[0]["sessionId"],  # added for sipgate Neo: the same id
        "accountType": "unknown",  # this token's type was never probed
        "request": {"caller": "e0", "callee": "+4915799912345"},
        "warnings": [],
        # added for names (issue 14): whom the call went to, and how it was chosen
        "callee": {
            "number": "+4915799912345",
            "name": None,
            "source": "number",
            "contact": None,
            "link": None,  # added for links (issue 15): the link it came from
        },
        "tones": None,  # added for dial strings (issue 15): keypad tones after connecting
    }
    assert len(simulator.call_requests()) == 1


@pytest.mark.parametrize(
    ("args", "extra_env", "exit_code", "code"),
    [
        (["call", "0157 99912345", "-d", "e0", "--json"], {}, 2, "confirmation-required"),
        (["call", "-d", "e0", "--yes", "--json"], {}, 2, "missing-value"),
        (["call", "0157 99912345", "-d", "e01", "--yes", "--json"], {}, 2, "invalid-device"),
        (
            ["call", "0157 99912345", "-d", "e0", "--yes", "--json"],
            {"SIPGATE_TOKEN_ID": "", "SIPGATE_TOKEN": ""},
            3,
            "credentials-missing",
        ),
        (
            ["call", "0157 99912345", "-d", "e0", "--yes", "--json"],
            {"SIPGATE_TOKEN": ""},
            3,
            "incomplete-credentials",
        ),
        (
            ["call", "0157 99912345", "-d", "e0", "--yes", "--json"],
            {"SIPGATE_TOKEN": "wrong-token-0000000000"},
            3,
            "unauthorized",
        ),
        (["call", "0157 99912345", "-d", "e9", "--yes", "--json"], {}, 4, "forbidden"),
        (
            ["call", "0157 99912345", "-d", "e0", "--yes", "--json"],
            {"SIPGATE_API_URL": "http://api.example.com/v2"},
            2,
            "insecure-api-url",
        ),
        (
            ["call", "0157 99912345", "-d", "e0", "--yes", "--json"],
            {"SIPGATE_API_URL": "ftp://127.0.0.1/v2"},
            2,
            "invalid-api-url",
        ),
        (
            ["call", "0157 99912345", "-d", "e0", "--yes", "--json"],
            {"SIPGATE_API_URL": "https://api.sipgate.invalid/v2"},
            5,
            "dns-failure",
        ),
    ],
)
def test_json_errors_are_one_document_on_stdout_with_the_exit_code(
    console_script: str,
    env: dict[str, str],
    args: list[str],
    extra_env: dict[str, str],
    exit_code: int,
    code: str,
) -> None:
    result = sipgate_tui(console_script, {**env, **extra_env}, *args)
    assert result.returncode == exit_code
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["exitCode"] == exit_code
    assert document["error"]["code"] == code
    assert set(document["error"]) == {"code", "status", "message", "hint", "detail"}
    assert document["error"]["message"]


def test_human_errors_go_to_stderr_as_a_panel(console_script: str, env: dict[str, str]) -> None:
    result = sipgate_tui(console_script, env, "call", "0157 99912345", "-d", "e0")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Not placing a call without confirmation" in result.stderr
    assert "--yes" in result.stderr


def test_no_input_env_var_is_honoured(console_script: str, env: dict[str, str]) -> None:
    result = sipgate_tui(console_script, {**env, "SIPGATE_TUI_NO_INPUT": "1"}, "call")
    assert result.returncode == 2
    assert "Missing whom to call" in result.stderr


def test_debug_logs_http_to_stderr_without_the_token(
    console_script: str, env: dict[str, str]
) -> None:
    result = sipgate_tui(
        console_script, env, "--debug", "call", "0157 99912345", "-d", "e0", "--yes", "--json"
    )
    assert result.returncode == 0
    json.loads(result.stdout)
    post = re.search(r"debug: \[(\d+)\] > POST ", result.stderr)
    assert post is not None  # requests are numbered: the offline check runs alongside
    assert f"debug: [{post.group(1)}] < HTTP 200" in result.stderr
    assert "Authorization: Basic ••••" in result.stderr


def test_dry_run_without_any_credentials(console_script: str, clean_env: dict[str, str]) -> None:
    result = sipgate_tui(
        console_script, clean_env, "call", "0157 99912345", "-d", "e0", "--dry-run"
    )
    assert result.returncode == 0
    assert "POST https://api.sipgate.com/v2/sessions/calls" in result.stdout
    assert "nothing was sent" in result.stdout


def test_a_bug_is_one_friendly_message_with_exit_code_1(capsys: pytest.CaptureFixture[str]) -> None:
    from sipgate_tui.cli import _execute

    def broken(ctx: object) -> int:
        raise ZeroDivisionError("division by zero")

    typer_ctx = SimpleNamespace(obj=GlobalOptions())
    with pytest.raises(typer.Exit) as caught:
        _execute(typer_ctx, True, broken)  # type: ignore[arg-type]
    assert caught.value.exit_code == 1
    document = json.loads(capsys.readouterr().out)
    assert document["error"]["code"] == "internal-error"
    assert "ZeroDivisionError" in document["error"]["message"]


def test_a_number_written_with_spaces_needs_no_quotes(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    result = sipgate_tui(console_script, env, "call", "0157", "99912345", "-d", "e0", "--yes")
    assert result.returncode == 0
    assert simulator.call_requests()[0].json["callee"] == "+4915799912345"


@pytest.mark.parametrize(
    ("args", "extra_env", "fragment"),
    [
        (["call", "--timeout", "abc", "--json"], {}, "--timeout"),
        (["call", "--bogus", "--json"], {}, "No such option: --bogus"),
        (["call", "--json"], {"SIPGATE_TUI_NO_INPUT": "banana"}, "SIPGATE_TUI_NO_INPUT"),
    ],
)
def test_usage_errors_from_the_parser_are_json_too(
    console_script: str,
    env: dict[str, str],
    args: list[str],
    extra_env: dict[str, str],
    fragment: str,
) -> None:
    result = sipgate_tui(console_script, {**env, **extra_env}, *args)
    assert (result.returncode, result.stderr) == (2, "")
    document = json.loads(result.stdout)
    assert (document["ok"], document["exitCode"], document["error"]["code"]) == (False, 2, "usage")
    assert fragment in document["error"]["message"]


def test_a_full_disk_after_the_call_does_not_turn_success_into_a_bug(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [console_script, "call", "0157 99912345", "-d", "e0", "--yes", "--json"],
            env=env,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0
    assert "could not write the output" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(simulator.call_requests()) == 1


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_closed_pipe_keeps_the_exit_code(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator, json_flag: list[str]
) -> None:
    process = subprocess.Popen(
        [console_script, "call", "0157 99912345", "-d", "e0", "--yes", *json_flag],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()  # the reader is gone before anything is written
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0
    assert "Traceback" not in stderr and stderr == ""
    assert len(simulator.call_requests()) == 1


def test_debug_can_be_switched_on_by_environment(console_script: str, env: dict[str, str]) -> None:
    result = sipgate_tui(
        console_script,
        {**env, "SIPGATE_TUI_DEBUG": "1"},
        "call",
        "0157 99912345",
        "-d",
        "e0",
        "--yes",
        "--json",
    )
    assert result.returncode == 0
    assert "debug: [" in result.stderr and "Authorization: Basic ••••" in result.stderr


def test_the_configured_region_reads_national_numbers(
    console_script: str, env: dict[str, str], tmp_path
) -> None:
    env = {
        **env,
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "c"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "s"),
    }
    assert sipgate_tui(console_script, env, "config", "set", "region", "CH").returncode == 0
    result = sipgate_tui(
        console_script, env, "call", "044 123 45 67", "-d", "e0", "--dry-run", "--json"
    )
    assert json.loads(result.stdout)["request"]["callee"] == "+41441234567"
    result = sipgate_tui(
        console_script,
        env,
        "call",
        "044 123 45 67",
        "-d",
        "e0",
        "--dry-run",
        "--json",
        "--region",
        "DE",
    )
    assert json.loads(result.stdout)["request"]["callee"] == "+49441234567"


def test_no_history_leaves_no_trace(console_script: str, env: dict[str, str], tmp_path) -> None:
    env = {
        **env,
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "c"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "s"),
    }
    sipgate_tui(console_script, env, "call", "0157 99912345", "-d", "e0", "--yes", "--no-history")
    state = tmp_path / "s" / "state.json"
    assert not state.exists() or "4915799912345" not in state.read_text()
    sipgate_tui(console_script, env, "call", "0157 99912345", "-d", "e0", "--yes")
    assert "+4915799912345" in state.read_text()
    assert sipgate_tui(console_script, env, "config", "clear-recent").returncode == 0
    assert "+4915799912345" not in state.read_text()


def test_shell_completion_installs_and_completes(
    console_script: str, clean_env: dict[str, str]
) -> None:
    import shutil

    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    env = {
        **clean_env,
        "SHELL": "/bin/bash",
        "PATH": f"{Path(console_script).parent}:{clean_env['PATH']}",
    }
    installed = subprocess.run(
        [console_script, "--install-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr
    script = Path(env["HOME"]) / ".bash_completions" / "sipgate-tui.sh"
    assert script.exists() and "sipgate-tui.sh" in (Path(env["HOME"]) / ".bashrc").read_text()
    complete = (
        f"source {script}; COMP_WORDS=(sipgate-tui hang); COMP_CWORD=1; "
        '_sipgate_tui_completion sipgate-tui; echo "${COMPREPLY[@]}"; '
        "COMP_WORDS=(sipgate-tui call --dev); COMP_CWORD=2; "
        '_sipgate_tui_completion sipgate-tui; echo "${COMPREPLY[@]}"; '
        "COMP_WORDS=(sipgate-tui config set default-); COMP_CWORD=3; "
        '_sipgate_tui_completion sipgate-tui; echo "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        ["bash", "-c", complete], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split("\n")[:3] == [
        "hangup",
        "--device",
        "default-device default-caller-id",
    ]


def test_after_the_dial_commands_as_scripts_see_them(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    simulator.connect_after = 0
    called = sipgate_tui(console_script, env, "call", "0157 99912345", "-d", "e0", "--yes")
    assert called.returncode == 0
    # Without a terminal the dial does not follow the call: not a single look at /calls.
    assert not [r for r in simulator.requests if r.path == "/calls"]
    listed = sipgate_tui(console_script, env, "calls", "--json")
    [call] = json.loads(listed.stdout)
    assert call["callId"] == simulator.sessions[0]["sessionId"]

    unknown = sipgate_tui(console_script, env, "hangup", "nope", "--json")
    assert unknown.returncode == 4
    # Exactly one document: the error, with nothing printed before it.
    assert json.loads(unknown.stdout)["error"]["code"] == "no-such-call"

    hung = sipgate_tui(console_script, env, "hangup", call["callId"], "--json")
    assert (hung.returncode, json.loads(hung.stdout)) == (
        0,
        {"ok": True, "hungUp": [call["callId"]], "notFound": []},
    )
    history = sipgate_tui(console_script, env, "history", "--limit", "1", "--json")
    [entry] = json.loads(history.stdout)
    assert entry["target"] == "+4915799912345"


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (["status", "--version"], "sipgate-tui --version … status"),
        (["--yes", "call"], "put it after it"),
    ],
)
def test_an_option_on_the_wrong_side_says_where_it_goes(
    console_script: str, env: dict[str, str], args: list[str], hint: str
) -> None:
    result = sipgate_tui(console_script, env, *args)
    assert result.returncode == 2
    assert hint in " ".join(result.stderr.split())


def test_the_guided_mode_usage_names_every_command() -> None:
    from sipgate_tui.cli import app
    from sipgate_tui.commands.guided import USAGE

    group = typer.main.get_command(app)
    names = {name for name, command in group.commands.items() if not command.hidden}
    listed = set(USAGE.split("Commands: ")[1].split(". ")[0].split(", "))
    assert names == listed
