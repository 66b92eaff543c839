"""Setups for the fault matrix's output rows: a bug or a signal at a chosen phase of a run.

A ``sitecustomize.py`` in a directory put first on ``PYTHONPATH`` is imported by the installed
console script before anything else: it wraps one real function so that, at that moment, the
process sends itself SIGTERM or SIGHUP, or raises a bug. Nothing else is changed; the run is
the real command against the real simulator (or a silent server).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

HOOK = """
import os, signal, threading
import sipgate_tui.api as api

WHEN, WHAT = os.environ["MATRIX_AT"].split(":")
post_call = api.SipgateClient._post_call


def strike():
    if WHAT == "bug":
        raise RuntimeError("a bug, on purpose")
    os.kill(os.getpid(), getattr(signal, WHAT))


def wrapped(self, path, body, parse_id, id_name):
    if WHEN == "before-post":
        strike()
    if WHEN == "in-post":  # the request is out and the answer is not: the server is silent
        if WHAT == "bug":
            def broken(data):
                raise RuntimeError("a bug, on purpose")
            return post_call(self, path, body, broken, id_name)
        threading.Timer(0.5, os.kill, (os.getpid(), getattr(signal, WHAT))).start()
    found = post_call(self, path, body, parse_id, id_name)
    if WHEN == "after-accepted":
        strike()
    return found


api.SipgateClient._post_call = wrapped
"""


def strike(when: str, what: str) -> Callable[[Any], None]:
    """A row's setup: at ``when`` (before-post, in-post, after-accepted), ``what`` happens
    (bug, SIGTERM, SIGHUP)."""

    def setup(run: Any) -> None:
        hooks = run.tmp_path / "hooks"
        hooks.mkdir(exist_ok=True)
        (hooks / "sitecustomize.py").write_text(HOOK)
        run.env["PYTHONPATH"] = os.pathsep.join([str(hooks), run.env.get("PYTHONPATH", "")])
        run.env["MATRIX_AT"] = f"{when}:{what}"

    return setup


def echoing_devices(alias: str) -> Callable[[Any], None]:
    """A device list whose alias is ``alias`` (escapes, bidi marks, an echoed token)."""

    def setup(run: Any) -> None:
        run.simulator.respond_with(
            200,
            {"items": [{"id": "e0", "alias": alias, "type": "REGISTER", "online": True}]},
            path="/w0/devices",
        )

    return setup
