"""`sipgate-tui handler`: sipgate-tui as the desktop's handler of tel: links, with the real
freedesktop tools (xdg-mime, update-desktop-database, desktop-file-validate, xdg-open) in a
throwaway XDG home, and xdg-open end to end: in a pseudo-terminal, and without one through
$TERMINAL.

Without the tools the tests skip with the reason, except under CI, where they must run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pexpect
import pytest
from helpers import TOKEN, TOKEN_ID, flat, make_context, output_of

from sipgate_tui import render
from sipgate_tui.commands.handler import HandlerOptions, run
from sipgate_tui.desktop_entry import DESKTOP_ID, exec_value, parse_exec, without_ours
from sipgate_tui.desktop_handler import Desktop, launch_command, notify
from sipgate_tui.errors import AppError
from sipgate_tui.simulator import SipgateSimulator

TOOLS = {
    "xdg-mime": "xdg-utils",
    "xdg-open": "xdg-utils",
    "update-desktop-database": "desktop-file-utils",
    "desktop-file-validate": "desktop-file-utils",
    "setsid": "util-linux",
}
LINK = "tel:+49 211 5550003"
# Variables that would send xdg-utils to a real desktop (KDE's tools, GNOME's gio, a browser).
DESKTOP_VARIABLES = (
    "DBUS_SESSION_BUS_ADDRESS",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "KDE_FULL_SESSION",
    "KDE_SESSION_VERSION",
    "GNOME_DESKTOP_SESSION_ID",
    "MATE_DESKTOP_SESSION_ID",
    "DESKTOP_SESSION",
    "XDG_MENU_PREFIX",
    "BROWSER",
    "TERMINAL",
)


def needs_tools() -> None:
    """Skip without the freedesktop tools, or fail under CI, which installs them."""
    for name, package in TOOLS.items():
        if shutil.which(name) is None:
            if os.environ.get("CI"):
                pytest.fail(f"{name} is not installed, though CI installs it ({package})")
            pytest.skip(f"{name} is not installed (apt-get install {package})")


@pytest.fixture
def xdg(clean_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """An environment whose XDG directories are all throwaway ones, on a generic desktop."""
    needs_tools()
    env = {k: v for k, v in clean_env.items() if k not in DESKTOP_VARIABLES}
    env.update(
        XDG_DATA_DIRS=str(tmp_path / "system-data"),
        XDG_CONFIG_DIRS=str(tmp_path / "system-config"),
        XDG_CURRENT_DESKTOP="X-Generic",
    )
    return env


def applications(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / "applications"


def mimeapps(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "mimeapps.list"


def handler_of(env: dict[str, str], scheme: str = "tel") -> str:
    done = subprocess.run(
        ["xdg-mime", "query", "default", f"x-scheme-handler/{scheme}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    return done.stdout.strip()


def other_dialer(env: dict[str, str], *schemes: str) -> None:
    """Another app that handles tel: links, made the default first (as GNOME Contacts is)."""
    folder = applications(env)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "other-dialer.desktop").write_text(
        "[Desktop Entry]\nType=Application\nName=Other dialer\nExec=/bin/true %u\n"
        "MimeType=x-scheme-handler/tel;\n"
    )
    for scheme in schemes or ("tel",):
        subprocess.run(
            ["xdg-mime", "default", "other-dialer.desktop", f"x-scheme-handler/{scheme}"],
            env=env,
            check=True,
            timeout=10,
        )


def sipgate(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [script, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert "Traceback" not in done.stderr
    return done


def squeezed(text: str) -> str:
    """``text`` without any white space or frame: long paths fold anywhere in a panel."""
    return re.sub(r"[\s│╭╮╰╯─]", "", text)


def in_process(env: dict[str, str], action: str, **desktop: str) -> tuple[str, AppError | None]:
    """Run the command on a Desktop of our own (another platform, another program path):
    what it printed, and the problem it ended with."""
    ctx = make_context("http://127.0.0.1:9", env=env)
    options = HandlerOptions(action=action, desktop=Desktop(env=env, **desktop))
    try:
        run(options, ctx)
    except AppError as error:
        ctx.err.print(render.problem(error))
        return flat(output_of(ctx.out) + output_of(ctx.err)), error
    return flat(output_of(ctx.out)), None


# -- install, status, uninstall ----------------------------------------------------------------


def test_install_makes_sipgate_tui_the_handler_and_the_entry_is_valid(
    console_script: str, xdg: dict[str, str]
) -> None:
    done = sipgate(console_script, xdg, "handler", "install")
    assert done.returncode == 0, done.stderr
    said = flat(done.stdout)
    assert "tel: had no handler; now sipgate-tui" in said
    assert f"Runs {console_script} call --from-desktop -- LINK" in said
    for scheme in ("tel", "callto", "sip", "sips"):
        assert handler_of(xdg, scheme) == DESKTOP_ID
    entry = applications(xdg) / DESKTOP_ID
    text = entry.read_text()
    assert f"Exec={console_script} call --from-desktop -- %u\n" in text
    assert "Terminal=true\n" in text and "NoDisplay=true\n" in text
    validated = subprocess.run(
        ["desktop-file-validate", str(entry)], capture_output=True, text=True, timeout=10
    )
    assert validated.returncode == 0, validated.stdout


def test_the_previous_handler_is_shown_kept_over_a_second_install_and_given_back(
    console_script: str, xdg: dict[str, str]
) -> None:
    other_dialer(xdg)
    first = sipgate(console_script, xdg, "handler", "install")
    assert "tel: was handled by other-dialer.desktop; now sipgate-tui" in flat(first.stdout)
    second = sipgate(console_script, xdg, "handler", "install", "--json")
    tel = next(s for s in json.loads(second.stdout)["schemes"] if s["scheme"] == "tel")
    assert tel == {
        "scheme": "tel",
        "previous": "other-dialer.desktop",  # recorded at the first install, not ourselves
        "alreadyOurs": True,
        "handler": DESKTOP_ID,
        "tookEffect": True,
        "problem": None,
    }
    status = sipgate(console_script, xdg, "handler", "status")
    assert "tel: sipgate-tui (before it: other-dialer.desktop)" in flat(status.stdout)

    done = sipgate(console_script, xdg, "handler", "uninstall")
    assert done.returncode == 0, done.stderr
    said = flat(done.stdout)
    assert "tel: back to other-dialer.desktop" in said
    assert "callto: no handler now (it had none before sipgate-tui)" in said
    assert handler_of(xdg, "tel") == "other-dialer.desktop"
    assert handler_of(xdg, "callto") == ""
    assert not (applications(xdg) / DESKTOP_ID).exists()


def test_uninstall_keeps_every_other_line_of_mimeapps_list(
    console_script: str, xdg: dict[str, str]
) -> None:
    other_dialer(xdg)
    path = mimeapps(xdg)
    # Someone's own list: a comment, CRLF endings, another section, a list naming two apps.
    original = path.read_bytes() + (
        b"# mine\r\n[Added Associations]\r\ntext/html=firefox.desktop;\r\n"
        b"x-scheme-handler/sip=other-dialer.desktop;\r\n"
    )
    path.write_bytes(original)
    sipgate(console_script, xdg, "handler", "install")
    assert b"x-scheme-handler/callto=sipgate-tui.desktop" in path.read_bytes()
    sipgate(console_script, xdg, "handler", "uninstall")
    assert path.read_bytes() == original


def test_a_scheme_taken_over_since_is_left_alone_and_said_so(
    console_script: str, xdg: dict[str, str]
) -> None:
    sipgate(console_script, xdg, "handler", "install")
    other_dialer(xdg, "callto")
    done = sipgate(console_script, xdg, "handler", "uninstall")
    assert "callto: left alone: other-dialer.desktop handles it since" in flat(done.stdout)
    assert handler_of(xdg, "callto") == "other-dialer.desktop"
    assert handler_of(xdg, "tel") != DESKTOP_ID


def test_uninstall_when_not_installed_says_so_and_exits_0(
    console_script: str, xdg: dict[str, str]
) -> None:
    done = sipgate(console_script, xdg, "handler", "uninstall")
    assert done.returncode == 0
    assert "sipgate-tui is not installed as a link handler" in flat(done.stdout)


def test_status_names_each_schemes_handler(console_script: str, xdg: dict[str, str]) -> None:
    other_dialer(xdg)
    before = sipgate(console_script, xdg, "handler", "status")
    assert before.returncode == 0
    said = flat(before.stdout)
    assert "Link handler · not installed" in said
    assert "tel: other-dialer.desktop" in said and "callto: no app" in said
    assert "sipgate-tui handler install" in said
    sipgate(console_script, xdg, "handler", "install")
    document = json.loads(sipgate(console_script, xdg, "handler", "status", "--json").stdout)
    assert document["installed"] is True and document["stale"] is False
    assert document["command"] == [console_script]
    assert [(s["scheme"], s["ours"]) for s in document["schemes"]] == [
        ("tel", True),
        ("callto", True),
        ("sip", True),
        ("sips", True),
    ]


def test_status_after_the_program_moved_says_install_again(
    xdg: dict[str, str], tmp_path: Path
) -> None:
    moved = tmp_path / "old-venv" / "bin" / "sipgate-tui"
    moved.parent.mkdir(parents=True)
    shutil.copy(Path(sys.executable).with_name("sipgate-tui"), moved)
    said, problem = in_process(xdg, "install", argv0=str(moved))
    assert problem is None, said
    moved.unlink()  # an upgrade or a reinstall elsewhere
    said, problem = in_process(xdg, "status", argv0=str(moved))
    assert problem is None
    assert "Link handler · needs `handler install` again" in said
    assert squeezed(f"The program it runs, {moved}, is gone") in squeezed(said)
    assert "run `sipgate-tui handler install` again" in said


def test_python_dash_m_installs_the_interpreter_and_the_module(
    xdg: dict[str, str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sipgate_tui", "handler", "install"],
        env=xdg,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    text = (applications(xdg) / DESKTOP_ID).read_text()
    assert f"Exec={sys.executable} -m sipgate_tui call --from-desktop -- %u\n" in text


def test_a_desktops_own_list_is_named_with_its_line_and_install_is_not_advised(
    console_script: str, xdg: dict[str, str]
) -> None:
    other_dialer(xdg)
    # GNOME's own list, read before mimeapps.list, names another app for tel: (issue 15, 6).
    env = {**xdg, "XDG_CURRENT_DESKTOP": "GNOME"}
    own_list = Path(xdg["XDG_CONFIG_HOME"]) / "gnome-mimeapps.list"
    own_list.write_text(
        "[Default Applications]\ntext/html=firefox.desktop\n"
        "x-scheme-handler/tel=other-dialer.desktop\n"
    )
    done = sipgate(console_script, env, "handler", "install")
    assert done.returncode == 0, done.stderr  # three of four took effect
    said = flat(done.stdout)
    assert "! sipgate-tui became the handler of callto:, sip:, sips: links only" in said
    assert "✗ tel: still opens other-dialer.desktop, not sipgate-tui" in said
    assert "✓ callto: had no handler; now sipgate-tui" in said
    line = "x-scheme-handler/tel=other-dialer.desktop"
    assert squeezed(f"For tel: links: line 3 of {own_list} says {line}") in squeezed(said)
    assert "Remove that line" in said
    assert "✓ sipgate-tui now opens phone links" not in said
    assert "may say otherwise" not in said  # the old guess, which blamed nothing in particular
    assert handler_of(env, "tel") == "other-dialer.desktop"

    status = sipgate(console_script, env, "handler", "status")
    assert status.returncode == 0
    told = flat(status.stdout)
    assert "tel: other-dialer.desktop" in told
    assert squeezed(f"line 3 of {own_list} says {line}") in squeezed(told)
    assert "takes it back" not in told  # an install again cannot help: no going round in circles
    document = json.loads(sipgate(console_script, env, "handler", "status", "--json").stdout)
    tel = document["schemes"][0]
    assert tel["ours"] is False and tel["problem"]["kind"] == "desktop-list"

    own_list.write_text("[Default Applications]\ntext/html=firefox.desktop\n")  # as advised
    assert "Try it: xdg-open" in flat(sipgate(console_script, env, "handler", "status").stdout)


def test_status_says_install_takes_back_a_scheme_another_app_took_since(
    console_script: str, xdg: dict[str, str]
) -> None:
    sipgate(console_script, xdg, "handler", "install")
    other_dialer(xdg, "callto")  # written into mimeapps.list: install would write it back
    said = flat(sipgate(console_script, xdg, "handler", "status").stdout)
    assert "callto: other-dialer.desktop" in said
    assert squeezed(
        f"For callto: links: {mimeapps(xdg)} names other-dialer.desktop for it: "
        "`sipgate-tui handler install` takes it back."
    ) in squeezed(said)


def test_a_config_home_that_is_a_file_fails_with_the_reason_and_exit_7(
    console_script: str, xdg: dict[str, str], tmp_path: Path
) -> None:
    # xdg-mime exits 0 and writes nothing; its query still names us, from the cache only.
    config = tmp_path / "config-file"
    config.write_text("not a directory\n")
    env = {**xdg, "XDG_CONFIG_HOME": str(config)}
    done = sipgate(console_script, env, "handler", "install")
    assert done.returncode == 7
    said = flat(done.stdout)
    assert "✗ sipgate-tui did not become the handler of phone links" in said
    assert "✓" not in said
    assert "✗ tel: opens sipgate-tui for now, but the choice was not saved" in said
    assert squeezed(
        f"For tel:, callto:, sip: and sips: links: the choice cannot be saved in "
        f"{config / 'mimeapps.list'}: {config} (XDG_CONFIG_HOME) is not a directory."
    ) in squeezed(said)
    assert "did not become the handler of tel:, callto:, sip: or sips: links: the reasons are " in (
        flat(done.stderr)
    )
    document = json.loads(sipgate(console_script, env, "handler", "install", "--json").stdout)
    assert document["exitCode"] == 7 and document["error"]["code"] == "handler-failed"
    assert f"{config} (XDG_CONFIG_HOME) is not a directory" in document["error"]["message"]
    status = flat(sipgate(console_script, env, "handler", "status").stdout)
    assert "(XDG_CONFIG_HOME) is not a directory" in status


def test_a_path_with_a_space_is_quoted_and_its_limit_said(
    xdg: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "my apps" / "sipgate-tui"
    script.parent.mkdir()
    shutil.copy(Path(sys.executable).with_name("sipgate-tui"), script)
    said, problem = in_process(xdg, "install", argv0=str(script))
    assert problem is None, said
    assert (
        f'Exec="{script}" call --from-desktop -- %u' in (applications(xdg) / DESKTOP_ID).read_text()
    )
    assert "holds a space or a special character: xdg-open outside GNOME and KDE" in said


def test_a_path_with_a_space_that_xdg_utils_skips_is_a_cross_with_that_reason(
    xdg: dict[str, str], tmp_path: Path
) -> None:
    # xdg-utils 1.1.3 cannot start the quoted path, skips our line and reads on: here a
    # system list that names another app, as a distribution's gnome-mimeapps.list does.
    other_dialer(xdg)
    system = tmp_path / "system-config"
    system.mkdir()
    (system / "mimeapps.list").write_text(
        "[Default Applications]\nx-scheme-handler/tel=other-dialer.desktop\n"
    )
    mimeapps(xdg).write_text("")  # the user's own choice gone: only the system's is left
    script = tmp_path / "my apps" / "sipgate-tui"
    script.parent.mkdir()
    shutil.copy(Path(sys.executable).with_name("sipgate-tui"), script)
    said, problem = in_process(xdg, "install", argv0=str(script))
    assert problem is None, said
    assert "✗ tel: still opens other-dialer.desktop, not sipgate-tui" in said
    assert squeezed(
        f"For tel: links: the path {script} holds a space or a special character: xdg-utils"
    ) in squeezed(said)
    assert "may say otherwise" not in said and "gnome-mimeapps" not in said
    assert said.count("holds a space") == 1  # the reason, not the same warning again


def test_status_names_the_other_sipgate_tui_the_entry_runs(
    xdg: dict[str, str], tmp_path: Path
) -> None:
    old = program(tmp_path / "old" / "sipgate-tui")
    new = program(tmp_path / "new" / "sipgate-tui")
    assert in_process(xdg, "install", argv0=str(old))[1] is None
    said, _ = in_process(xdg, "status", argv0=str(new))
    assert "Link handler · installed" in said
    assert squeezed(f"It runs another sipgate-tui than this one ({new})") in squeezed(said)
    assert "`sipgate-tui handler install` points it here" in said


def test_uninstall_removes_the_cache_it_caused_and_nothing_else(
    console_script: str, xdg: dict[str, str]
) -> None:
    sipgate(console_script, xdg, "handler", "install")
    cache = applications(xdg) / "mimeinfo.cache"
    assert DESKTOP_ID in cache.read_text()
    assert sipgate(console_script, xdg, "handler", "uninstall").returncode == 0
    assert list(applications(xdg).iterdir()) == []  # our entry was the only one: cache gone


def test_uninstall_rebuilds_a_cache_that_other_entries_need(
    console_script: str, xdg: dict[str, str]
) -> None:
    other_dialer(xdg)
    sipgate(console_script, xdg, "handler", "install")
    assert sipgate(console_script, xdg, "handler", "uninstall").returncode == 0
    text = (applications(xdg) / "mimeinfo.cache").read_text()
    assert "x-scheme-handler/tel=other-dialer.desktop;" in text
    assert DESKTOP_ID not in text


def test_bare_handler_is_the_status_and_uninstall_has_json(
    console_script: str, xdg: dict[str, str]
) -> None:
    assert "Link handler · not installed" in flat(sipgate(console_script, xdg, "handler").stdout)
    sipgate(console_script, xdg, "handler", "install")
    document = json.loads(sipgate(console_script, xdg, "handler", "uninstall", "--json").stdout)
    assert document["ok"] is True and document["wasInstalled"] is True
    assert {s["outcome"] for s in document["schemes"]} == {"cleared"}


# -- problems ---------------------------------------------------------------------------------


def test_without_the_tools_it_names_them_and_their_packages(
    console_script: str, xdg: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    purposes = {
        "install": "to register as the handler of tel: links",
        "uninstall": "to give the links back to the apps they had before",
    }
    for action, purpose in purposes.items():
        done = sipgate(console_script, {**xdg, "PATH": str(empty)}, "handler", action)
        assert done.returncode == 7
        said = flat(done.stderr)
        assert re.search(r"xdg-mime.* (is|are) not installed", said), said
        assert "xdg-utils" in said and f"needs them {purpose}." in said
    done = sipgate(console_script, {**xdg, "PATH": str(empty)}, "handler", "install")
    assert "sudo apt install desktop-file-utils xdg-utils" in flat(done.stderr)
    assert not (applications(xdg) / DESKTOP_ID).exists()


def test_status_without_xdg_mime_tells_what_it_can_and_exits_0(
    console_script: str, xdg: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    bare = {**xdg, "PATH": str(empty)}
    before = sipgate(console_script, bare, "handler", "status")
    assert before.returncode == 0, before.stderr
    said = flat(before.stdout)
    assert "Link handler · not installed" in said
    assert "Links unknown (xdg-mime is not installed)" in said
    assert "sipgate-tui needs it to tell which app opens tel: links" in said
    assert "sudo apt install xdg-utils" in said

    assert sipgate(console_script, xdg, "handler", "install").returncode == 0
    after = sipgate(console_script, bare, "handler", "status")
    assert after.returncode == 0
    said = flat(after.stdout)
    assert "Link handler · installed" in said
    assert f"Runs {console_script} call --from-desktop -- LINK" in said
    assert "(missing)" not in said and "Try it" not in said  # no xdg-open to try it with
    document = json.loads(sipgate(console_script, bare, "handler", "status", "--json").stdout)
    assert document["installed"] is True and document["commandExists"] is True
    assert document["schemes"] is None and document["toolsMissing"] == ["xdg-mime"]


def test_status_without_xdg_mime_still_finds_a_program_that_is_gone(
    xdg: dict[str, str], tmp_path: Path
) -> None:
    moved = program(tmp_path / "old" / "sipgate-tui")
    assert in_process(xdg, "install", argv0=str(moved))[1] is None
    moved.unlink()
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    said, problem = in_process({**xdg, "PATH": str(empty)}, "status", argv0=str(moved))
    assert problem is None
    assert "Link handler · needs `handler install` again" in said
    assert "xdg-mime is not installed" in said and "(missing)" in said


def test_an_entry_the_validator_refuses_is_not_installed(
    console_script: str, xdg: dict[str, str], tmp_path: Path
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    validator = tools / "desktop-file-validate"
    validator.write_text('#!/bin/sh\necho "$1: error: key Exec is wrong"\nexit 1\n')
    validator.chmod(0o755)
    env = {**xdg, "PATH": f"{tools}:{xdg['PATH']}"}
    done = sipgate(console_script, env, "handler", "install")
    assert done.returncode == 7
    said = flat(done.stderr)
    assert "desktop-file-validate refused the desktop entry, so nothing was installed" in said
    assert "sipgate-tui.desktop: error: key Exec is wrong" in said
    assert not (applications(xdg) / DESKTOP_ID).exists()
    assert handler_of(xdg) == ""


def test_an_unwritable_applications_directory_is_handler_failed(
    console_script: str, xdg: dict[str, str]
) -> None:
    from helpers import read_only_directory

    with read_only_directory(applications(xdg)):
        done = sipgate(console_script, xdg, "handler", "install")
    assert done.returncode == 7
    assert squeezed(f"Cannot write {applications(xdg) / DESKTOP_ID}") in squeezed(done.stderr)


# -- macOS and Windows: the steps, and no pretending ----------------------------------------------


def test_on_macos_install_prints_the_steps_and_exits_7(xdg: dict[str, str], tmp_path: Path) -> None:
    script = program(tmp_path / "bin" / "sipgate-tui")
    said, problem = in_process(xdg, "install", platform="darwin", argv0=str(script))
    assert problem is not None and problem.code == "handler-manual-steps"
    assert int(problem.exit_code) == 7
    assert "On macOS, make sipgate-tui open tel: links by hand" in said
    assert "Platypus" in said and "CFBundleURLTypes" in said
    assert "call --from-desktop" in said and str(script) in said
    assert "nothing was installed or changed" in said
    assert not (applications(xdg) / DESKTOP_ID).exists()


def test_on_windows_install_prints_the_registry_keys_and_exits_7(
    xdg: dict[str, str], tmp_path: Path
) -> None:
    exe = str(program(tmp_path / "Ada Lovelace" / "sipgate-tui.exe"))
    ctx = make_context("http://127.0.0.1:9", env=xdg, width=200)
    options = HandlerOptions(
        action="install", desktop=Desktop(env=xdg, platform="win32", argv0=exe)
    )
    with pytest.raises(AppError) as caught:
        run(options, ctx)
    assert caught.value.code == "handler-manual-steps"
    printed = output_of(ctx.out)
    assert "[HKEY_CURRENT_USER\\Software\\Classes\\tel]\n" in printed
    assert '"URL Protocol"=""\n' in printed
    assert "[HKEY_CURRENT_USER\\Software\\Classes\\tel\\shell\\open\\command]\n" in printed
    escaped = exe.replace("\\", "\\\\")
    assert f'@="\\"{escaped}\\" call --from-desktop -- \\"%1\\""\n' in printed
    assert "Settings > Apps > Default apps" in flat(printed)


def test_manual_steps_travel_in_the_json_error(xdg: dict[str, str]) -> None:
    ctx = make_context("http://127.0.0.1:9", env=xdg)
    options = HandlerOptions(
        action="install", json=True, desktop=Desktop(env=xdg, platform="darwin")
    )
    with pytest.raises(AppError) as caught:
        run(options, ctx)
    document = json.loads(json.dumps(caught.value.to_json()))
    assert document["exitCode"] == 7
    assert "open -a Terminal" in document["error"]["hint"]
    assert output_of(ctx.out) == ""  # with --json, stdout holds the one document (the CLI's)


# -- xdg-open, end to end ---------------------------------------------------------------------


def test_xdg_open_without_a_terminal_starts_terminal_with_the_link_as_one_argument(
    console_script: str, xdg: dict[str, str], tmp_path: Path
) -> None:
    assert sipgate(console_script, xdg, "handler", "install").returncode == 0
    recorded = tmp_path / "argv"
    terminal = tmp_path / "terminal"
    terminal.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {recorded}\n')
    terminal.chmod(0o755)
    env = {**xdg, "DISPLAY": ":99", "TERMINAL": str(terminal)}
    # setsid: no controlling terminal, so xdg-open cannot open /dev/tty and uses $TERMINAL.
    done = subprocess.run(
        ["setsid", "-w", "xdg-open", LINK],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert recorded.read_text().splitlines() == [
        "-e",
        console_script,
        "call",
        "--from-desktop",
        "--",
        LINK,
    ]


def test_gio_as_on_gnome_starts_a_program_whose_path_holds_a_space(
    xdg: dict[str, str], tmp_path: Path
) -> None:
    gio = shutil.which("gio")
    if gio is None:
        pytest.skip("gio is not installed (apt-get install libglib2.0-bin)")
    script = tmp_path / "my apps" / "sipgate-tui"
    script.parent.mkdir()
    shutil.copy(Path(sys.executable).with_name("sipgate-tui"), script)
    assert in_process(xdg, "install", argv0=str(script))[1] is None
    # GLib runs Terminal=true apps in the first terminal it knows of: xterm, here a recorder
    # that writes its arguments into a FIFO, whose reader waits for them (no sleeping).
    recorded = tmp_path / "argv"
    os.mkfifo(recorded)
    tools = tmp_path / "bin"
    program(tools / "xterm").write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {recorded}\n'
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(recorded.read_text().splitlines()))
    reader.start()
    # Only the recorder on PATH: GLib prefers gnome-terminal, konsole... where they exist.
    env = {**xdg, "PATH": str(tools)}
    done = subprocess.run(
        [gio, "open", LINK], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        with open(recorded, "w"):  # let the reader go
            pass
    reader.join(60)
    assert done.returncode == 0, done.stderr
    assert lines == ["-e", str(script), "call", "--from-desktop", "--", LINK]


@pytest.mark.pty
def test_xdg_open_in_a_terminal_shows_the_number_and_the_phone_rings(
    console_script: str, xdg: dict[str, str], simulator: SipgateSimulator
) -> None:
    assert sipgate(console_script, xdg, "handler", "install").returncode == 0
    env = {
        **xdg,
        "DISPLAY": ":99",
        "SIPGATE_API_URL": simulator.url,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("COLUMNS")
    child = pexpect.spawn(
        "xdg-open", [LINK], env=env, dimensions=(40, 100), encoding="utf-8", timeout=20
    )
    child.expect("Which phone rings first?")
    child.send("\r")
    index = child.expect(["Which number should they see?", "Ready to call"])
    if index == 0:
        child.send("\r")
        child.expect("Ready to call")
    child.expect(re.escape("+49 211 5550003"))
    child.expect("Place this call\\?")
    child.send("y")
    child.expect("Call accepted")
    if child.expect(["Connected to", "Press Enter to close this window"]) == 0:
        child.send("h")  # hang up in the live view
        child.expect("Press Enter to close this window")
    child.send("\r")
    child.expect(pexpect.EOF)
    child.close()
    assert "Traceback" not in (child.before or "")
    assert [r.json["callee"] for r in simulator.call_requests()] == ["+492115550003"]


# -- the pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "value"),
    [
        (["/usr/bin/sipgate-tui"], "/usr/bin/sipgate-tui"),
        (["/opt/my apps/sipgate-tui"], '"/opt/my apps/sipgate-tui"'),
        (["/opt/100%/x"], "/opt/100%%/x"),
        (['/o/a"b$c`d'], '"/o/a\\\\"b\\\\$c\\\\`d"'),
        (["/o/back\\slash"], '"/o/back\\\\\\\\slash"'),  # four backslashes, as the spec says
    ],
)
def test_exec_values_are_quoted_as_the_desktop_entry_spec_says(argv: list[str], value: str) -> None:
    assert exec_value(argv) == value
    unescaped = value.replace("\\\\", "\\")  # the string escapes, undone first
    assert parse_exec(unescaped) == argv


def test_a_quoted_exec_passes_the_validator(tmp_path: Path) -> None:
    needs_tools()
    from sipgate_tui.desktop_entry import entry_text

    entry = tmp_path / DESKTOP_ID
    entry.write_text(entry_text(["/opt/my apps/$HOME/sipgate-tui"], {"tel": "a.desktop"}))
    done = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_without_ours_removes_only_our_entries() -> None:
    data = (
        b"[Default Applications]\nx-scheme-handler/tel=sipgate-tui.desktop\n"
        b"x-scheme-handler/sip=a.desktop;sipgate-tui.desktop;\r\ntext/html=sipgate-tui.desktop\n"
        b"[Other]\nx-scheme-handler/tel=sipgate-tui.desktop\n"
    )
    changed, touched = without_ours(data, ["tel", "sip"])
    assert changed == (
        b"[Default Applications]\n"
        b"x-scheme-handler/sip=a.desktop;\r\ntext/html=sipgate-tui.desktop\n"
        b"[Other]\nx-scheme-handler/tel=sipgate-tui.desktop\n"
    )
    assert touched == ["tel", "sip"]


def program(path: Path) -> Path:
    """An executable file at ``path``, standing in for an installed sipgate-tui."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_the_command_is_the_console_script_else_python_dash_m(tmp_path: Path) -> None:
    script = program(tmp_path / "bin" / "sipgate-tui")
    env = {"PATH": str(tmp_path / "nowhere")}
    assert launch_command(Desktop(env=env, argv0=str(script))) == [str(script)]
    module = Desktop(env=env, argv0="/x/sipgate_tui/__main__.py", executable="/venv/bin/python")
    assert launch_command(module) == ["/venv/bin/python", "-m", "sipgate_tui"]
    on_path = Desktop(env={"PATH": str(script.parent)}, argv0="/usr/bin/pytest")
    assert launch_command(on_path) == [str(script)]


# -- notifications ------------------------------------------------------------------------------


def fake_notify_send(tmp_path: Path, exit_code: int = 0) -> tuple[dict[str, str], Path]:
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    recorded = tmp_path / "notified"
    program = tools / "notify-send"
    program.write_text(
        f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {recorded}\nexit {exit_code}\n'
    )
    program.chmod(0o755)
    return {"PATH": str(tools), "DISPLAY": ":0"}, recorded


def test_notify_sends_summary_and_body_as_arguments(tmp_path: Path) -> None:
    env, recorded = fake_notify_send(tmp_path)
    assert notify("-Not calling", "tel:+49 211 $(id)\nno terminal", env) is True
    lines = recorded.read_text().splitlines()
    assert lines[-3:] == ["--", "-Not calling", "tel:+49 211 $(id) no terminal"]


def test_notify_says_false_without_a_session_a_program_or_success(tmp_path: Path) -> None:
    env, recorded = fake_notify_send(tmp_path)
    assert notify("a", "b", {"PATH": env["PATH"]}) is False  # no display, no session bus
    assert not recorded.exists()
    assert notify("a", "b", {"PATH": str(tmp_path / "nowhere"), "DISPLAY": ":0"}) is False
    (tmp_path / "failing").mkdir()
    failing, _ = fake_notify_send(tmp_path / "failing", exit_code=1)
    assert notify("a", "b", failing) is False
