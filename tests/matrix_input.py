"""Setups for the fault matrix's keyring and numbers rows (issue 13, items 4, 15, 17, 22).

Each function returns a row's ``setup``: it changes the prepared run (see ``Prepared`` in
test_fault_matrix.py) and, where the row needs it, registers a check that runs after the
command, while the simulator is still up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Setup = Callable[[Any], None]


def keyring_backend(name: str) -> Setup:
    """Choose keyring's backend with PYTHON_KEYRING_BACKEND (the matrix's own file keyring
    otherwise); the keyring file the row snapshots stays as it was."""

    def setup(run: Any) -> None:
        run.env["PYTHON_KEYRING_BACKEND"] = name

    return setup


def keyringrc(name: str) -> Setup:
    """Choose keyring's backend in keyring's own config file (keyringrc.cfg, under
    XDG_CONFIG_HOME), with PYTHON_KEYRING_BACKEND unset, as a user would configure it."""

    def setup(run: Any) -> None:
        run.env.pop("PYTHON_KEYRING_BACKEND", None)
        config = Path(run.env["XDG_CONFIG_HOME"]) / "python_keyring" / "keyringrc.cfg"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f"[backend]\ndefault-keyring={name}\n")

    return setup


def remembered_secret_service_gone() -> Setup:
    """The state file remembers keyring's SecretService backend (the fast path reads it
    directly), but no Secret Service answers now (its D-Bus socket is gone), and keyring is
    left to choose by itself: keyring's full discovery decides, and finds no keyring."""

    def setup(run: Any) -> None:
        run.env.pop("PYTHON_KEYRING_BACKEND", None)
        run.env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={run.tmp_path / 'no-such-bus'}"
        state = Path(run.env["SIPGATE_TUI_STATE_DIR"]) / "state.json"
        state.parent.mkdir(parents=True, exist_ok=True)
        remembered = {"keyring_backend": "keyring.backends.SecretService.Keyring"}
        state.write_text(json.dumps(remembered))

    return setup


def sent_callee(expected: str, field: str = "callee") -> Setup:
    """After the run: every call request the simulator received named ``expected`` (plain
    ASCII E.164) as ``field``, whatever digits the user typed."""

    def setup(run: Any) -> None:
        def check() -> None:
            posts = [r for r in run.simulator.requests if r.method == "POST"]
            assert posts, "no call request arrived"
            for request in posts:
                assert json.loads(request.body)[field] == expected, request.body

        run.stack.callback(check)

    return setup
