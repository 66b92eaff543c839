"""The user id of the token in use: most paths under ``/v2`` start with it.

sipgate tells it through ``GET /authorization/userinfo``; the state file caches it so a dial
does not wait for that request. Three rules live here and nowhere else: the cached id counts
only for the token id it was learnt with (``ProfileState.user_id_for``), and only if it passes
the rule userinfo's answer is held to (``settings.valid_user_id``: a hand-edited ``../../x``
would otherwise send requests outside ``/v2``); an id learnt in the background is saved by the
main thread, so the state file has one writer at a time in a run (and its lock file serialises
the runs).
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING

from sipgate_tui.api import SipgateClient
from sipgate_tui.errors import AppError

if TYPE_CHECKING:
    from sipgate_tui.settings import SettingsStore


class UserId:
    """The token's user id: the cached one, else asked from sipgate once (thread-safe)."""

    def __init__(self, client: SipgateClient, cached: str | None) -> None:
        from sipgate_tui.settings import valid_user_id

        self._client = client
        # Checked again here, whoever read it: the id goes into request paths, so one that
        # breaks userinfo's rule ("../../x") counts as not cached and is asked again.
        self._value = valid_user_id(cached)
        self._learnt: str | None = None
        self._lock = threading.Lock()

    def get(self) -> str:
        """The user id; asks sipgate the first time when nothing was cached (raises ApiError)."""
        with self._lock:
            if self._value is None:
                self._value = self._learnt = self._client.userinfo().user_id
            return self._value

    @property
    def learnt(self) -> str | None:
        """An id asked from sipgate during this run, for the caller to remember; else None."""
        return self._learnt


def cached_user_id(store: SettingsStore, token_id: str) -> str | None:
    """The state file's user id for this token id; None when unknown or the file is damaged
    (the damage is reported by whoever reads the state for its own sake)."""
    try:
        return store.load_state().user_id_for(token_id)
    except AppError:
        return None


def remember_learnt(store: SettingsStore, token_id: str, user: UserId) -> None:
    """Save an id learnt during this run (main thread only); a failed write costs a request
    next time, nothing else."""
    if user.learnt is not None:
        with contextlib.suppress(AppError):
            store.remember(user=(token_id, user.learnt))
