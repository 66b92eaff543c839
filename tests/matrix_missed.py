"""Fault-matrix helpers for ``history --missed`` (issue 14): the rows' ``setup`` callables and
the pages the misbehaving servers answer with. Each ``setup`` gets the matrix's ``Prepared``.
"""

from __future__ import annotations

from typing import Any

MISSED = ("history", "--missed", "--timeout", "1")
NEO_MISSED = ("--account-type", "neo", *MISSED)
WHEN = "2026-11-30T10:00:00Z"


def _item(source: object, **more: object) -> dict[str, Any]:
    item = {"source": source, "created": WHEN, "direction": "MISSED_INCOMING", "type": "CALL"}
    return {**item, **more}


# Pages that never end, whatever the offset: one usable missed call among 99 unusable items
# each, so only the page cap (rtcm.MAX_HISTORY_PAGES, 20) stops the reading.
ENDLESS = {"items": [_item("+4915799912347"), *[{"source": 1}] * 99]}
# A page of items no missed call can be made of (callers that are no text).
UNUSABLE = {"items": [{"source": 1, "created": WHEN}, {"source": {"a": 1}}, "x"] * 34}
ESCAPES = {
    "items": [
        _item("\x1b]0;pwned\x07+49 1579 9912347\u202e", sourceAlias="\x1b[2JAda\u202eLovelace"),
        _item("\x1b[31mevil\x9b2J"),
    ],
    "totalCount": 2,
}


def sample(run: Any) -> None:
    """The demo's missed calls: Ada twice (not called back), an anonymous caller, Grace
    (called back)."""
    run.simulator.add_missed_sample()


def anonymous_only(run: Any) -> None:
    """One caller who withheld the number."""
    run.simulator.add_missed_call("anonymous")
