"""Names wherever a number is shown (issue 14, item 6): `calls`, `history` and
`history --missed` name the numbers a contact has, from the contacts cache alone."""

from __future__ import annotations

import subprocess

import pytest
from helpers import TOKEN, TOKEN_ID, flat

from sipgate_tui.simulator import SipgateSimulator


@pytest.fixture
def env(clean_env: dict[str, str], simulator: SipgateSimulator, tmp_path) -> dict[str, str]:
    return {
        **clean_env,
        "SIPGATE_API_URL": simulator.url,
        "SIPGATE_TOKEN_ID": TOKEN_ID,
        "SIPGATE_TOKEN": TOKEN,
        "SIPGATE_TUI_CACHE_DIR": str(tmp_path / "cache"),
        "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
        "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
    }


def run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script, *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_history_names_the_numbers_of_cached_contacts_without_asking_for_them(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    simulator.add_missed_sample()
    simulator.add_past_call("+4915799912347", at=1.7e9, duration=60)
    before = run(console_script, env, "history")
    assert "Ada Lovelace" not in flat(before.stdout)  # no cache yet: numbers only
    assert run(console_script, env, "contacts").returncode == 0  # fills the cache
    asked = len(simulator.requests)
    after = run(console_script, env, "history")
    assert after.returncode == 0, after.stderr
    assert "Ada Lovelace (mobile) · +49 1579 9912347" in flat(after.stdout)
    assert not [r for r in simulator.requests[asked:] if r.path.startswith("/contacts")]
    missed = run(console_script, env, "history", "--missed")
    assert "Ada Lovelace" in flat(missed.stdout)


def test_a_cache_of_another_token_names_nothing(
    console_script: str, env: dict[str, str], simulator: SipgateSimulator
) -> None:
    simulator.add_past_call("+4915799912347", at=1.7e9, duration=60)
    assert run(console_script, env, "contacts").returncode == 0
    other = run(console_script, {**env, "SIPGATE_TOKEN_ID": "token-OTHER1"}, "history")
    assert "Ada Lovelace" not in flat(other.stdout + other.stderr)
