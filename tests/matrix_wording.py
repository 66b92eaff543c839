"""Helpers for the fault matrix's wording rows (issue 13): tiny terminals, the 403 advice, the
live line for an offline phone, a guided first run that asks sipgate once for each thing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

ACCOUNT_TYPE_403 = {
    "errors": [
        {"title": "Forbidden", "detail": "Click-to-dial is not available for your account type"}
    ]
}
SCOPE_403 = {"errors": [{"title": "Forbidden", "detail": "token lacks scope sessions:calls:write"}]}


def spread(word: str) -> str:
    """A regex for ``word`` as a 1-3 column pty shows it: line breaks and colour codes
    between its letters (for a row's ``keys``)."""
    between = r"(?:\s|\x1b\[[0-9;?]*[A-Za-z])*"
    return between.join(re.escape(ch) for ch in word if not ch.isspace())


def first_run(run: Any) -> None:
    """No token stored yet (the bare command logs in first); after the run, sipgate must have
    been asked once who the token is and once for the phones, and sent one call."""
    (run.tmp_path / "keyring.json").unlink()
    simulator = run.simulator

    def asked_once() -> None:
        asked = [(r.method, r.path) for r in simulator.requests]
        assert asked.count(("GET", "/authorization/userinfo")) == 1, asked
        assert asked.count(("GET", "/w0/devices")) == 1, asked

    run.stack.callback(asked_once)  # runs when the row's stack closes: after the command


def device_list_seen(expected: int) -> Callable[[Any], None]:
    """After the run: how often the phones were listed (once beside a --yes dial, once
    more only after a refusal that the list then explains)."""

    def setup(run: Any) -> None:
        simulator = run.simulator

        def check() -> None:
            listed = [r for r in simulator.requests if r.path.endswith("/devices")]
            assert len(listed) <= expected, [r.path for r in simulator.requests]

        run.stack.callback(check)

    return setup
