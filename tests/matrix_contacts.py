"""Fault-matrix rows for ``contacts`` (issue 14), as keyword arguments of the matrix's ``Case``.

Plain dicts, so this module imports nothing from tests/test_fault_matrix.py (no cycle): the
matrix turns them into rows with ``{name: Case(**row) for name, row in CONTACT_CASES.items()}``.
``respond`` is the matrix's ``r(...)`` tuple (status, body, headers, path); ``setup`` gets the
matrix's ``Prepared`` run.
"""

# ruff: noqa: E501 - a table: one row per line reads better than wrapped rows
from __future__ import annotations

import os
from typing import Any

from sipgate_tui.simulator import contact_item

CONTACTS = ("contacts", "--timeout", "1")
PATH = "/contacts"


def _cache_dir(run: Any) -> Any:
    """Point the run at a cache directory of its own; returns it (not yet created)."""
    directory = run.tmp_path / "cache"
    run.env["SIPGATE_TUI_CACHE_DIR"] = str(directory)
    return directory


def damaged_cache(run: Any) -> None:
    """A cache file that is no JSON: ignored, rebuilt."""
    directory = _cache_dir(run)
    directory.mkdir()
    (directory / "contacts-default.json").write_text('{"version": 1, "tokenId": "token-SIM001", [')


def cache_of_another_token(run: Any) -> None:
    """A well-formed cache from another token id, holding a stranger: never shown."""
    directory = _cache_dir(run)
    directory.mkdir()
    stranger = [
        ["s", "Stranger Danger", "", "shared", [], "stranger danger\x00stranger danger\x01\x00", ""]
    ]
    document = {
        "version": 1,
        "foldVersion": 1,
        "tokenId": "token-OTHER1",
        "fetchedAt": 4e9,
        "region": "DE",
        "contacts": stranger,
    }
    import json

    (directory / "contacts-default.json").write_text(json.dumps(document))


def fifo_cache(run: Any) -> None:
    """A FIFO where the cache file belongs: never opened for reading (it would block)."""
    directory = _cache_dir(run)
    directory.mkdir()
    os.mkfifo(directory / "contacts-default.json")


def unwritable_cache(run: Any) -> None:
    """The cache directory's place is taken by a file: the list still shows, with a note."""
    blocker = run.tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    run.env["SIPGATE_TUI_CACHE_DIR"] = str(blocker / "cache")


ESCAPED = [
    contact_item(
        "e", "Eve\x1b]0;pwned\x07\u202eOwner\x1b[2J", [("0211\x1b[31m 5550003", ["wo\x1b[1mrk"])]
    )
]
# fmt: off
CONTACT_CASES: dict[str, dict[str, Any]] = {
    # -- what sipgate answers ---------------------------------------------------------------------
    "contacts 403": {"args": CONTACTS, "exit": 4, "says": "contacts:read", "respond": (403, b"", {}, PATH)},
    "contacts 403 scope missing": {"args": CONTACTS, "exit": 4, "says": "read your contacts (HTTP 403)", "respond": (403, {"errors": [{"title": "Forbidden"}]}, {}, PATH)},
    "contacts 401": {"args": CONTACTS, "exit": 3, "says": "did not accept the token id and token", "respond": (401, b"", {}, PATH)},
    "contacts 404": {"args": CONTACTS, "exit": 4, "says": "has nothing at", "respond": (404, b"", {}, PATH)},
    "contacts 429": {"args": CONTACTS, "exit": 5, "says": "Wait 7 s", "respond": (429, b"", {"Retry-After": "7"}, PATH)},
    "contacts 503": {"args": CONTACTS, "exit": 5, "says": "HTTP 503", "respond": (503, b"", {}, PATH)},
    "contacts redirect": {"args": CONTACTS, "exit": 5, "says": "redirect", "respond": (302, b"", {"Location": "http://127.0.0.1:9/x"}, PATH)},
    "contacts html": {"args": CONTACTS, "exit": 5, "says": "502 Bad Gateway", "respond": (200, "<html><title>502 Bad Gateway</title></html>", {"Content-Type": "text/html"}, PATH)},
    # -- a contact list that is not a list, or pages that never end ---------------------------------
    "contacts not a list": {"args": CONTACTS, "exit": 5, "says": "is not a list of contacts", "respond": (200, [1, 2, 3], {}, PATH)},
    "contacts items missing": {"args": CONTACTS, "exit": 5, "says": "an object without a list of items", "respond": (200, {"data": []}, {}, PATH)},
    "contacts items not contacts": {"args": CONTACTS, "exit": 5, "says": "none of which is a contact", "respond": (200, {"items": ["a", 1, None]}, {}, PATH)},
    "contacts offset ignored": {"args": CONTACTS, "exit": 0, "says": "500 contacts", "json_says": '"Person 499"', "respond": (200, {"items": [contact_item(f"p{i}", f"Person {i}") for i in range(500)], "totalCount": 99999}, {}, PATH)},
    "contacts clamped": {"args": CONTACTS, "exit": 0, "says": "8 contacts", "json_says": '"id": "c8"', "sim": {"contacts_max_limit": 3}},
    "contacts total lies": {"args": CONTACTS, "exit": 0, "says": "8 contacts", "json_says": '"id": "c8"', "sim": {"contacts_total_count": 2}},
    "contacts no total": {"args": CONTACTS, "exit": 0, "says": "8 contacts", "json_says": '"id": "c8"', "sim": {"contacts_send_total": False}},
    # -- the network --------------------------------------------------------------------------------
    "contacts refused": {"args": CONTACTS, "exit": 5, "says": "refused the connection", "server": "refused"},
    "contacts silent": {"args": CONTACTS, "exit": 5, "says": "did not answer within 1 s", "server": "silent"},
    # -- local files and input ----------------------------------------------------------------------
    "contacts damaged cache": {"args": CONTACTS, "exit": 0, "says": "Ada Lovelace", "setup": damaged_cache},
    "contacts cache of another token": {"args": ("contacts", "stranger", "--timeout", "1"), "exit": 0, "says": "No contact matches 'stranger'", "json_says": "[]", "setup": cache_of_another_token},
    "contacts cache is a fifo": {"args": CONTACTS, "exit": 0, "says": "Ada Lovelace", "setup": fifo_cache},
    # --json writes the note to stderr, which the matrix keeps empty: human mode only
    "contacts cache unwritable": {"args": CONTACTS, "exit": 0, "says": "could not be kept in", "json": False, "setup": unwritable_cache},
    "contacts config corrupted": {"args": CONTACTS, "exit": 7, "says": "not valid TOML", "config": "corrupted"},
    "contacts no credentials": {"args": CONTACTS, "exit": 3, "says": "sipgate-tui login", "keyring": "none"},
    "contacts timeout 0": {"args": ("contacts", "--timeout", "0"), "exit": 2, "says": "--timeout must be more than 0"},
    # -- what the terminal shows --------------------------------------------------------------------
    "contacts escapes in names": {"args": ("contacts", "eve", "--timeout", "1"), "exit": 0, "says": "Eve", "sim": {"contacts": ESCAPED}},
    "contacts narrow": {"args": ("contacts", "ada", "--timeout", "1"), "exit": 0, "says": "Ada Lovelace · Analytical", "columns": 40, "json_says": "Analytical Engines Ltd"},
    "contacts accents folded": {"args": ("contacts", "MUELLER", "--timeout", "1"), "exit": 0, "says": "Jürgen Müller"},
}
# fmt: on
