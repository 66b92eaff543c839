"""What a token may do: verify it, and probe the optional read scopes in parallel.

sipgate does not tell a token its own scopes, so each read scope is probed with the cheapest
GET that needs it. Write scopes cannot be probed without side effects (a call, a hang-up).
Three of the probes also tell the account type (``account_type``): they run in the same pool.
Only login and status check a token: a dial never imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sipgate_tui import account_type
from sipgate_tui.account_type import PROBE_SCOPES, probe_paths
from sipgate_tui.api import ApiError, SipgateClient, UserInfo


@dataclass(frozen=True)
class Scope:
    """A token scope, what it unlocks, and how to probe it (None: it cannot be probed).

    ``only_on`` names the account type the scope matters for ("classic", "neo"), if only one;
    ``on_neo`` is what to say instead of its verdict on a Neo account, where it unlocks
    nothing yet; ``missing`` are the probe's statuses that mean the token lacks the scope.
    """

    name: str
    used_for: str
    required: bool = False
    probe: Callable[[UserInfo], tuple[str, dict[str, str | int]]] | None = None
    only_on: str | None = None
    on_neo: str | None = None
    missing: tuple[int, ...] = (401, 403, 404)


def _type_probe(scope: str) -> Callable[[UserInfo], tuple[str, dict[str, str | int]]]:
    """The probe of one of the account type's scopes (account_type.PROBE_SCOPES)."""
    return lambda user: (probe_paths(user.user_id)[scope], {})


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
    Scope(
        "rtcm:read",
        "watch the call connect after dialing",
        probe=lambda user: ("/calls", {}),
        on_neo="sipgate Neo lists no active calls yet",
    ),
    Scope("rtcm:write", "hang up from the terminal"),
    Scope(
        "history:read",
        "list your recent calls",
        probe=lambda user: ("/history", {"types": "CALL", "limit": 1}),
    ),
    Scope(
        "contacts:read",
        "find people by name in the account's contacts",
        probe=lambda user: ("/contacts", {"limit": 1}),
    ),
    Scope(
        "channels:read",
        "pick the channel a call goes through, and list recent calls, on sipgate Neo",
        probe=_type_probe("channels:read"),
        only_on="neo",
        missing=(401, 403),  # a 404: no channels at all, as on classic accounts
    ),
    Scope(
        "groups:read",
        "tell a classic account from a sipgate Neo one",
        probe=_type_probe("groups:read"),
        only_on="classic",
    ),
    Scope(
        "phonelines:read",
        "tell a classic account from a sipgate Neo one",
        probe=_type_probe("phonelines:read"),
        only_on="classic",
    ),
)
PROBED = tuple(scope for scope in SCOPES if scope.probe is not None)


@dataclass(frozen=True)
class AccountCheck:
    """A verified token: whose it is, per probed scope True / False / None (unknown), and
    the account type its answers show ("classic", "neo", "unknown") with the reason."""

    user: UserInfo
    scopes: dict[str, bool | None] = field(default_factory=dict)
    account_type: str = "unknown"
    account_type_reason: str = ""


def check_account(client: SipgateClient) -> AccountCheck:
    """Verify the token (``GET /authorization/userinfo``), then probe the read scopes at once.

    Raises the client's errors for the verification (401: the token is wrong); a probe that
    fails for any reason other than a missing scope is reported as unknown, never as an error.
    """
    user = client.userinfo()

    def probe(scope: Scope) -> tuple[int, bool] | None:
        assert scope.probe is not None
        path, params = scope.probe(user)
        try:
            return client.probe_refusal(path, params)
        except ApiError:
            return None

    # Here, not at the top: the thread pool's modules cost ~3 ms, and only login and status
    # probe the scopes.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(PROBED), thread_name_prefix="probe") as pool:
        answers = dict(zip(PROBED, pool.map(probe, PROBED), strict=True))
    paths = probe_paths(user.user_id)
    type_answers = {
        paths[scope.name]: answer
        for scope, answer in answers.items()
        if scope.name in PROBE_SCOPES and answer is not None
    }
    found = account_type.conclude(type_answers, user.user_id)
    return AccountCheck(
        user,
        {scope.name: _granted(scope, answer, found) for scope, answer in answers.items()},
        account_type=found,
        account_type_reason=account_type.explain(type_answers, user.user_id),
    )


def _granted(scope: Scope, answer: tuple[int, bool] | None, found: str) -> bool | None:
    """Whether a probe's answer shows the scope granted; None when it tells nothing (a
    network failure, a server error, the Classic-PBX refusal, which is about the account, not
    the token, or a 404 on Neo from an endpoint Neo does not have yet, such as ``/calls``)."""
    if answer is None or answer[1]:
        return None
    status = answer[0]
    if 200 <= status < 300:
        return True
    if status == 404 and found == "neo" and scope.on_neo:
        return None
    return False if status in scope.missing else None
