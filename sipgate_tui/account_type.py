"""Which kind of sipgate account a token belongs to: ``"classic"``, ``"neo"`` or ``"unknown"``.

sipgate Neo (every account created since September 2025, and classic ones as they migrate)
places calls through other endpoints. A personal access token does not say which system it
belongs to, so three cheap GETs ask (sipgate-api.md, "sipgate Neo accounts"): ``/groups`` and
``/{userId}/phonelines`` are classic-only (200 on classic; on Neo 403 with the plain-text body
"This endpoint requires a sipgate Classic PBX Account"), and ``/channels`` exists only on Neo.
Each needs a scope of its own (PROBE_SCOPES), which many tokens lack: anything but those
answers tells nothing, and the type is then "unknown", never a guess.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sipgate_tui.api import ApiError
from sipgate_tui.errors import AppError
from sipgate_tui.options import ACCOUNT_TYPE_CHOICES as ACCOUNT_TYPE_CHOICES
from sipgate_tui.options import ENV_ACCOUNT_TYPE

if TYPE_CHECKING:
    from sipgate_tui.api import SipgateClient
    from sipgate_tui.settings import SettingsStore

CLASSIC, NEO, UNKNOWN = "classic", "neo", "unknown"
AUTO = "auto"
LABELS = {CLASSIC: "classic", NEO: "sipgate Neo", UNKNOWN: "unknown"}
PROBE_SCOPES = ("groups:read", "phonelines:read", "channels:read")  # optional scopes
log = logging.getLogger("sipgate_tui.account_type")

# A probe's answer: the HTTP status, and whether it was the Classic-PBX refusal. Probes that
# failed on the network are left out of the answers: they tell nothing.
Answer = tuple[int, bool]


def probe_paths(user_id: str) -> dict[str, str]:
    """Scope -> the path whose GET tells the account type (and needs that scope)."""
    return {
        "groups:read": "/groups",
        "phonelines:read": f"/{user_id}/phonelines",
        "channels:read": "/channels",
    }


def _is_classic_only(path: str) -> bool:
    return path == "/groups" or path.endswith("/phonelines")


def _answered(answer: Answer) -> bool:
    return 200 <= answer[0] < 300


def classify(answers: Mapping[str, Answer]) -> str:
    """The account type the probes' answers (path -> (status, refused)) show; never a guess.

    Any Classic-PBX refusal: "neo"; else a 2xx from a classic-only path: "classic"; else a 2xx
    from ``/channels``: "neo". A 2xx from a classic-only path together with a refusal
    contradicts itself: "unknown", like every other combination.
    """
    refused = any(refusal for _, refusal in answers.values())
    classic = any(_answered(a) for path, a in answers.items() if _is_classic_only(path))
    if refused:
        return UNKNOWN if classic else NEO
    if classic:
        return CLASSIC
    if any(_answered(a) for path, a in answers.items() if path == "/channels"):
        return NEO
    return UNKNOWN


def explain(answers: Mapping[str, Answer], user_id: str) -> str:
    """Why :func:`classify` came to its answer, in words for ``status`` and ``--debug``."""
    found = classify(answers)
    paths = probe_paths(user_id)
    if found == NEO and any(refusal for _, refusal in answers.values()):
        refused = [path for path, (_, refusal) in answers.items() if refusal]
        return f"sipgate refuses classic-only requests ({', '.join(refused)})"
    if found == CLASSIC:
        working = [p for p, a in answers.items() if _is_classic_only(p) and _answered(a)]
        return f"classic-only requests work ({', '.join(working)})"
    if found == NEO:
        return "/channels answered (only sipgate Neo has channels)"
    if any(refusal for _, refusal in answers.values()):
        return "sipgate answered one classic-only request and refused another as not classic"
    lacking = [
        scope
        for scope, path in paths.items()
        if path in answers and answers[path][0] in (401, 403, 404)
    ]
    unclear = [
        f"{path} could not be checked" + (f" (HTTP {answers[path][0]})" if path in answers else "")
        for path in paths.values()
        if path not in answers or answers[path][0] not in (401, 403, 404)
    ]
    reasons = ([f"the token lacks {_and(lacking)}"] if lacking else []) + unclear
    return "; ".join(reasons) or "nothing answered"


def _and(words: list[str]) -> str:
    """``a, b and c``."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def probe(client: SipgateClient, path: str) -> Answer | None:
    """One probe's answer, or None when it failed on the network (it tells nothing)."""
    try:
        return client.probe_refusal(path)
    except ApiError:
        return None


def conclude(answers: Mapping[str, Answer], user_id: str) -> str:
    """:func:`classify`, and say in ``--debug`` what was found and why."""
    found = classify(answers)
    log.debug("account type: %s (%s)", found, explain(answers, user_id))
    return found


def detect(client: SipgateClient, user_id: str) -> str:
    """The account type, from the three probes sent at once (a thread pool, like
    ``token_check.check_account``); network errors and other statuses tell nothing."""
    # Here, not at the top: the thread pool's modules cost ~3 ms, paid only when probing.
    from concurrent.futures import ThreadPoolExecutor

    paths = list(probe_paths(user_id).values())
    with ThreadPoolExecutor(max_workers=len(paths), thread_name_prefix="type-probe") as pool:
        results = list(pool.map(lambda path: probe(client, path), paths))
    answers = {path: answer for path, answer in zip(paths, results, strict=True) if answer}
    return conclude(answers, user_id)


# -- forcing and remembering ---------------------------------------------------------------


def forced_choice(option: str, setting: str) -> str:
    """What the user forces: ``--account-type`` (or its variable) beats the setting
    ``account-type``; "auto" forces nothing."""
    return option if option != AUTO else setting


def forced_by(option: str, setting: str, env: Mapping[str, str]) -> str | None:
    """Who forces the type, in words (``--account-type``, the variable, the setting), or None
    when nothing does."""
    if option != AUTO:
        if (env.get(ENV_ACCOUNT_TYPE) or "").strip().lower() == option:
            return ENV_ACCOUNT_TYPE
        return "--account-type"
    if setting != AUTO:
        return "the setting account-type"
    return None


def effective_type(forced: str, remembered: str | None) -> str:
    """The type to act on: the forced one unless "auto", else the remembered (or just
    detected) one, else "unknown"."""
    if forced in (CLASSIC, NEO):
        return forced
    return remembered if remembered in (CLASSIC, NEO) else UNKNOWN


def resolve(
    *,
    forced: str,
    by: str | None,
    detected: str | None,
    reason: str,
    remembered: str | None,
) -> tuple[str, str]:
    """The type to act on, and why, in words for ``status`` and ``login``.

    ``forced`` is :func:`forced_choice` (``by``: :func:`forced_by`); ``detected`` what this
    run's probes found (None: not probed, ``reason``: :func:`explain`); ``remembered`` what
    an earlier run found for this token.
    """
    definite = detected if detected in (CLASSIC, NEO) else None
    found = effective_type(forced, definite or remembered)
    if forced in (CLASSIC, NEO):
        why = f"forced by {by or '--account-type'}"
        if definite:
            why += f" (detected: {LABELS[definite]})"
    elif definite:
        why = reason
    elif found != UNKNOWN:
        why = "remembered from an earlier check" + (f" (now: {reason})" if reason else "")
    else:
        why = reason or "not checked"
    log.debug("account type in use: %s (%s)", found, why)
    return found, why


def setting_of(store: SettingsStore) -> str:
    """The setting ``account-type``; "auto" when config.toml cannot be read (whoever reads
    the settings for their own sake reports that)."""
    try:
        return store.load().account_type
    except AppError:
        return AUTO


def remembered_of(store: SettingsStore, token_id: str | None) -> str | None:
    """The account type remembered for this token id; None when unknown or the state file
    is damaged."""
    if token_id is None:
        return None
    try:
        return store.load_state().account_type_for(token_id)
    except AppError:
        return None


def remember_type(store: SettingsStore, token_id: str, found: str) -> None:
    """Save a type found out for this token (main thread; a failed write costs a probe or a
    refused request next time, nothing else)."""
    if found in (CLASSIC, NEO):
        with contextlib.suppress(AppError):
            store.remember(account_type=(token_id, found))


def remember_detected(
    store: SettingsStore, token_id: str, detected: str, remembered: str | None
) -> None:
    """Save a type detected during this run when it is a finding and news (main thread
    only, one write, like the user id); a failed write costs probes next time, nothing else."""
    if detected != remembered:
        remember_type(store, token_id, detected)


class AccountKind:
    """The account type a command acts on, whether the user forced it, and why (``--debug``).

    ``type`` is "classic", "neo" or "unknown" (unknown acts the classic way).
    """

    # A plain class, not a dataclass: it is created on every dial's import, where each
    # dataclass costs about a millisecond (measured with -X importtime).
    __slots__ = ("forced", "type", "why")

    def __init__(self, type: str, forced: bool, why: str) -> None:
        self.type, self.forced, self.why = type, forced, why

    def __repr__(self) -> str:
        return f"AccountKind({self.type!r}, forced={self.forced}, why={self.why!r})"

    @property
    def neo(self) -> bool:
        """Whether this is (known to be) a sipgate Neo account."""
        return self.type == NEO


def account_kind(
    option: str, setting: str, remembered: str | None, env: Mapping[str, str]
) -> AccountKind:
    """The type to act on without probing: ``--account-type`` (or its variable), else the
    setting, else what an earlier run found for this token, else unknown."""
    by = forced_by(option, setting, env)
    found, why = resolve(
        forced=forced_choice(option, setting),
        by=by,
        detected=None,
        reason="",
        remembered=remembered,
    )
    return AccountKind(found, by is not None, why)
