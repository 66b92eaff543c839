"""Setups for the fault matrix's profiles rows (issue 16, item 5): ``profiles`` and
``status --all`` over the matrix's file keyring.

Each function is a row's ``setup``: it changes the prepared run (see ``Prepared`` in
test_fault_matrix.py) before the command starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sipgate_tui.credentials import Credentials, encode_item

# A token sipgate (the simulator) does not know: it answers 401.
REJECTED = Credentials("token-OLD002", "2d0a8b5c-3e4f-4a6b-8c1d-2e3f4a5b6c7d")


def no_item(run: Any) -> None:
    """A keyring that works and holds nothing for sipgate-tui."""
    Path(run.env["TEST_KEYRING_FILE"]).write_text("{}")


def a_rejected_profile(run: Any) -> None:
    """Besides the default profile's good token, profile ``work`` (in the index) holds a token
    sipgate rejects."""
    path = Path(run.env["TEST_KEYRING_FILE"])
    items = json.loads(path.read_text())
    items["sipgate-tui/work"] = encode_item(REJECTED)
    path.write_text(json.dumps(items))
    run.state_dir.mkdir(parents=True, exist_ok=True)
    (run.state_dir / "state.json").write_text(json.dumps({"profile_index": ["default", "work"]}))
