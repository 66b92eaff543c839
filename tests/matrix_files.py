"""Setups for the fault matrix's file rows (issue 13: locks, odd files, user ids, region pins).

Each function returns a ``setup`` for a row: it gets the run's ``Prepared`` and puts an odd file
in place of config.toml or state.json (a symbolic link, a FIFO, a device), writes a state file
with a cached user id, holds a lock, or starts parallel writers. Checks the runner cannot make
(the link is still a link, no request left /v2, every parallel writer's update was kept) are
registered on the run's ExitStack, so a failing one fails the row.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from helpers import TOKEN_ID

from sipgate_tui.simulator import SipgateSimulator

Setup = Callable[[Any], None]
SCRIPT = str(Path(sys.executable).with_name("sipgate-tui"))
NATIONAL = (
    "# mine\n[profiles.default]\n"
    'default_caller_id = "0211 5550001"  # the office\n'
    "[profiles.default.favourites]\n"
    'mom = "0157 99912345"  # mum\n'
    'dad = "+43 1 5551234"\n'
)


def _config(run: Any) -> Path:
    return Path(run.config_dir) / "config.toml"


def _state(run: Any) -> Path:
    return Path(run.state_dir) / "state.json"


def linked_config(*, expect_in_target: str | None = None) -> Setup:
    """config.toml as a relative symbolic link to a file elsewhere (a dotfiles checkout). After
    the run the link is still the same link, and the target holds the user's comment (and
    ``expect_in_target``, when the row changes the file)."""

    def setup(run: Any) -> None:
        dotfiles = Path(run.tmp_path) / "dotfiles"
        dotfiles.mkdir()
        target = dotfiles / "sipgate.toml"
        os.replace(_config(run), target)
        _config(run).symlink_to(os.path.relpath(target, run.config_dir))
        link = os.readlink(_config(run))

        def check() -> None:
            assert _config(run).is_symlink() and os.readlink(_config(run)) == link
            text = target.read_text()
            assert "# mine" in text, text
            if expect_in_target is not None:
                assert expect_in_target in text, text
            assert sorted(p.name for p in dotfiles.iterdir()) == ["sipgate.toml"]

        run.stack.callback(check)

    return setup


def dangling_link(which: str) -> Setup:
    """config.toml or state.json as a link to a file that does not exist; it stays so."""

    def setup(run: Any) -> None:
        path = _config(run) if which == "config" else _state(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        gone = Path(run.tmp_path) / "unmounted" / path.name
        path.symlink_to(gone)

        def check() -> None:
            assert path.is_symlink() and not gone.parent.exists()

        run.stack.callback(check)

    return setup


def fifo(which: str) -> Setup:
    """A FIFO in place of config.toml or state.json: nobody ever writes to it, so a read
    would hang (the runner's timeout fails the row); after the run it is still the FIFO."""

    def setup(run: Any) -> None:
        path = _config(run) if which == "config" else _state(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.mkfifo(path)
        run.stack.callback(lambda: _assert_fifo(path))

    return setup


def _assert_fifo(path: Path) -> None:
    assert stat.S_ISFIFO(os.lstat(path).st_mode), path


def device(which: str, name: str = "/dev/zero") -> Setup:
    """config.toml or state.json as a link to a device (endless zeros, or nothing at all)."""

    def setup(run: Any) -> None:
        path = _config(run) if which == "config" else _state(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        path.symlink_to(name)
        run.stack.callback(lambda: _assert_link(path, name))

    return setup


def _assert_link(path: Path, target: str) -> None:
    assert os.readlink(path) == target


def cached_user_id(value: object) -> Setup:
    """A state file whose cached user id (for the token in use) is ``value``. After the run:
    no request left /v2 (the simulator records those as /not-under-v2/...), and userinfo was
    asked, since a bad id counts as not cached."""

    def setup(run: Any) -> None:
        _state(run).parent.mkdir(parents=True, exist_ok=True)
        entry = {"user_id": value, "user_token_id": TOKEN_ID}
        _state(run).write_text(json.dumps({"profiles": {"default": entry}}))
        run.stack.callback(_no_request_outside_v2, run.simulator)

    return setup


def _no_request_outside_v2(simulator: SipgateSimulator) -> None:
    paths = [r.path for r in simulator.requests]
    assert not [p for p in paths if p.startswith("/not-under-v2")], paths
    assert "/authorization/userinfo" in paths, paths


def bom_config(extra: str = "") -> Setup:
    """config.toml starting with a UTF-8 byte order mark (as Windows editors save it); one
    BOM is still there after the run."""

    def setup(run: Any) -> None:
        text = _config(run).read_text()
        _config(run).write_bytes(("\ufeff" + text + extra).encode())

        def check() -> None:
            data = _config(run).read_bytes()
            assert data.startswith(b"\xef\xbb\xbf# mine") and data.count(b"\xef\xbb\xbf") == 1

        run.stack.callback(check)

    return setup


def national_favourites(run: Any) -> None:
    """Hand-written numbers without a country code; after `config set region`, they are
    pinned to E.164 in the old region with their comments, the '+' one left as written."""
    _config(run).write_text(NATIONAL)

    def check() -> None:
        text = _config(run).read_text()
        assert 'mom = "+4915799912345"  # mum' in text, text
        assert 'default_caller_id = "+492115550001"  # the office' in text, text
        assert 'dad = "+43 1 5551234"' in text and "# mine" in text, text

    run.stack.callback(check)


@contextmanager
def _held(path: Path) -> Iterator[None]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another sipgate-tui, stopped mid-write
        yield


def lock_held(which: str, timeout: str = "0.5") -> Setup:
    """Another process holds config.toml's or state.json's lock for the whole run; the wait
    is bounded by SIPGATE_TUI_LOCK_TIMEOUT."""

    def setup(run: Any) -> None:
        path = _config(run) if which == "config" else _state(run)
        run.env["SIPGATE_TUI_LOCK_TIMEOUT"] = timeout
        run.stack.enter_context(_held(path.with_name(path.name + ".lock")))

    return setup


def parallel_writers(kind: str, count: int) -> Setup:
    """``count`` other sipgate-tui runs write the same file while the row's command runs
    (favourites add: config.toml; call: state.json, their calls going to a second simulator
    so the row's own POSTs stay countable). After the run every update is in the file."""

    def setup(run: Any) -> None:
        env = dict(run.env)
        if kind == "call":
            env["SIPGATE_API_URL"] = run.stack.enter_context(SipgateSimulator()).url
        commands = [
            ["favourites", "add", f"friend{i}", f"+4921155501{i:02d}"]
            if kind == "favourites"
            else ["call", f"+4921155500{i:02d}", "-d", "e0", "--yes"]
            for i in range(count)
        ]
        processes = [
            subprocess.Popen(
                [SCRIPT, *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for args in commands
        ]
        run.stack.callback(_all_kept, run, kind, processes, count)

    return setup


def _all_kept(run: Any, kind: str, processes: list[subprocess.Popen[bytes]], count: int) -> None:
    for process in processes:
        output, _ = process.communicate(timeout=240)
        assert process.returncode == 0 and b"Traceback" not in output, output[-2000:]
    if kind == "favourites":
        text = _config(run).read_text()
        assert all(f"friend{i} = " in text for i in range(count)), text
        assert 'mom = "+4915799912345"' in text and "# mine" in text, text  # the row's own
    else:
        entry = json.loads(_state(run).read_text())["profiles"]["default"]
        numbers = {item["number"] for item in entry["recent"]}
        expected = {f"+4921155500{i:02d}" for i in range(count)} | {"+4915799912345"}
        assert numbers == expected, (sorted(expected - numbers), sorted(numbers - expected))
