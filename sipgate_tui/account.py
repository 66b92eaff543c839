"""What a token may do: verify it, and probe the optional read scopes in parallel.

sipgate does not tell a token its own scopes, so each read scope is probed with the cheapest
GET that needs it. Write scopes cannot be probed without side effects (a call, a hang-up).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sipgate_tui.api import ApiError, SipgateClient, UserInfo


@dataclass(frozen=True)
class Scope:
    """A token scope, what it unlocks, and how to probe it (None: it cannot be probed)."""

    name: str
    used_for: str
    required: bool = False
    probe: Callable[[UserInfo], tuple[str, dict[str, str | int]]] | None = None


SCOPES: tuple[Scope, ...] = (
    Scope("sessions:calls:write", "place calls", required=True),
    Scope(
        "devices:read",
        "pick your phone from a list and see whether it is online",
        probe=lambda user: (f"/{user.user_id}/devices", {}),
    ),
    Scope(
        "numbers:read",
        "pick the number the callee sees",
        probe=lambda user: ("/numbers", {"limit": 1}),
    ),
    Scope("rtcm:read", "watch the call connect after dialing", probe=lambda user: ("/calls", {})),
    Scope("rtcm:write", "hang up from the terminal"),
    Scope(
        "history:read",
        "list your recent calls",
        probe=lambda user: ("/history", {"types": "CALL", "limit": 1}),
    ),
)
PROBED = tuple(scope for scope in SCOPES if scope.probe is not None)


@dataclass(frozen=True)
class AccountCheck:
    """A verified token: whose it is, and per probed scope True / False / None (unknown)."""

    user: UserInfo
    scopes: dict[str, bool | None] = field(default_factory=dict)


def check_account(client: SipgateClient) -> AccountCheck:
    """Verify the token (``GET /authorization/userinfo``), then probe the read scopes at once.

    Raises the client's errors for the verification (401: the token is wrong); a probe that
    fails for any reason other than 403/404 is reported as unknown, never as an error.
    """
    user = client.userinfo()

    def probe(scope: Scope) -> bool | None:
        assert scope.probe is not None
        path, params = scope.probe(user)
        try:
            status = client.probe(path, params)
        except ApiError:
            return None
        if 200 <= status < 300:
            return True
        if status in (401, 403, 404):
            return False
        return None

    with ThreadPoolExecutor(max_workers=len(PROBED), thread_name_prefix="probe") as pool:
        results = list(pool.map(probe, PROBED))
    return AccountCheck(user, {scope.name: ok for scope, ok in zip(PROBED, results, strict=True)})
