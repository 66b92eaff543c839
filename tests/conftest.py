"""Shared fixtures: the loopback simulator, an in-memory keyring, a clean environment; and the
check that every scripted prompter used all its answers."""

from __future__ import annotations

import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import keyring
import pytest
from helpers import MemoryKeyring, ScriptedPrompter
from hypothesis import settings

from sipgate_tui.simulator import SipgateSimulator

# The same examples on every run, so CI cannot fail on a draw it will never repeat. To hunt
# for new ones (how the parsers' last bugs were found): HYPOTHESIS_PROFILE=explore.
settings.register_profile("sipgate-tui", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sipgate-tui"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    ScriptedPrompter.made.clear()  # only the prompters of the test about to run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """After a test that passed, fail it if a scripted prompter kept answers it never gave.

    A test that failed already keeps its own failure (the yield re-raises it), which says more
    than the answers it left over.
    """
    result = yield
    for prompter in ScriptedPrompter.made:
        prompter.check_all_answers_used()
    return result


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets an empty in-memory keyring; the developer's own is never touched."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def simulator() -> Iterator[SipgateSimulator]:
    """A running sipgate API simulator on 127.0.0.1."""
    with SipgateSimulator() as sim:
        yield sim


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """An environment for subprocesses: no SIPGATE_* variables, a throwaway HOME, and the
    keyring 'fail' backend so nothing can reach a real keyring."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPGATE")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
        XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"),
        XDG_STATE_HOME=str(tmp_path / "home" / ".local" / "state"),
        XDG_CACHE_HOME=str(tmp_path / "home" / ".cache"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONIOENCODING="utf-8",
        COLUMNS="100",
        TERM="xterm-256color",
    )
    env.pop("NO_COLOR", None)
    # A terminal height from outside would beat the pty's own (Rich reads LINES first):
    # pytest-xdist's workers export LINES=24, which turned 4-row terminals into tall ones.
    env.pop("LINES", None)
    (tmp_path / "home").mkdir()
    return env


@pytest.fixture(scope="session")
def console_script() -> str:
    """The installed ``sipgate-tui`` console script of this environment."""
    script = Path(sys.executable).with_name("sipgate-tui")
    if not script.exists():
        pytest.fail(f"{script} is missing: install the project first (see README, Development)")
    return str(script)
