"""Account lookups that run in the background while the user answers prompts.

Devices and numbers are fetched concurrently over the client's one HTTP session, starting as
soon as the credentials are known. A prompt waits for them only briefly; a lookup that is slow,
refused (a token without the scope) or failing turns into a one-line hint and typed input,
never into a crash or a blocked prompt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from sipgate_tui.account import AccountNumber, Device, list_devices, list_numbers
from sipgate_tui.api import ApiError, HttpStatusError, NetworkError, SipgateClient
from sipgate_tui.user_id import UserId

if TYPE_CHECKING:
    from sipgate_tui.settings import SettingsStore

T = TypeVar("T")


def keep_devices(store: SettingsStore, token_id: str, devices: list[Device]) -> None:
    """Keep a device list just read in the state file, for shell completion of ``--device``
    (main thread only). A failed write costs completion candidates, nothing else."""
    from contextlib import suppress

    from sipgate_tui.errors import AppError

    with suppress(AppError):
        store.remember_devices(token_id, [(device.id, device.alias) for device in devices])


class Degraded(NamedTuple):
    """Why a list is not available; ``hint`` is one line for the user."""

    hint: str


class Background(Generic[T]):
    """A function running in a daemon thread (the process may exit without waiting for it)."""

    def __init__(self, function: Callable[[], T], name: str) -> None:
        self._done = threading.Event()
        self._value: list[T] = []  # the one value, once there is one (T itself may be None)
        self._error: BaseException | None = None

        def target() -> None:
            try:
                self._value.append(function())
            except BaseException as error:  # noqa: BLE001 - handed to whoever waits
                self._error = error
            finally:
                self._done.set()

        threading.Thread(target=target, name=f"sipgate-tui-{name}", daemon=True).start()

    def wait(self, seconds: float) -> bool:
        """True once finished; False if still running after ``seconds``."""
        return self._done.wait(seconds)

    def result(self) -> T:
        """The value, or the exception the function raised. Call after ``wait`` said True."""
        if self._error is not None:
            raise self._error
        return self._value[0]


class AccountLookups:
    """Devices and numbers of the account, fetched in the background."""

    def __init__(
        self,
        client: SipgateClient,
        user: UserId,
        *,
        from_environment: bool = False,
        all_device_types: bool | Callable[[], bool] = False,
        also_start: Callable[[], None] | None = None,
        store: SettingsStore | None = None,
    ) -> None:
        self._client = client
        self._user = user
        # Where the device list is kept for shell completion, once the main thread has it
        # (the state file has one writer per run: the main thread; see user_id.py).
        self._store = store
        self._devices_kept = store is None
        self._from_environment = from_environment
        # sipgate Neo: type=all; a function when the probes alongside will tell (it may wait).
        self._all_device_types = all_device_types
        self._also_start = also_start  # another background look that starts at the same time
        self._jobs: (
            tuple[Background[str], Background[list[Device]], Background[list[AccountNumber]]] | None
        ) = None

    def start(self) -> None:
        """Start fetching (once). Called when the first question is on screen, so the HTTP
        stack loads while the user reads it, not before it appears."""
        if self._jobs is None:
            if self._also_start is not None:
                self._also_start()
            user = Background(self._user.get, "user")
            self._jobs = (
                user,
                Background(lambda: self._fetch_devices(user), "devices"),
                Background(lambda: list_numbers(self._client), "numbers"),
            )

    def devices(self, wait: float) -> list[Device] | Degraded:
        """The user's devices, or why not (after waiting at most ``wait`` seconds)."""
        self.start()
        assert self._jobs is not None
        found = self._outcome(self._jobs[1], wait, "devices:read", "your phones", "the device id")
        if not self._devices_kept and self._store is not None and isinstance(found, list):
            self._devices_kept = True
            keep_devices(self._store, self._client.token_id, found)
        return found

    def numbers(self, wait: float) -> list[AccountNumber] | Degraded:
        """The account's numbers, or why not (after waiting at most ``wait`` seconds)."""
        self.start()
        assert self._jobs is not None
        return self._outcome(self._jobs[2], wait, "numbers:read", "your numbers", "the number")

    def _fetch_devices(self, user: Background[str]) -> list[Device]:
        user.wait(60)
        all_types = self._all_device_types
        if callable(all_types):
            all_types = all_types()
        return list_devices(self._client, user.result(), all_types=all_types)

    def _outcome(
        self, job: Background[T], wait: float, scope: str, what: str, typed: str
    ) -> T | Degraded:
        if not job.wait(wait):
            return Degraded(f"sipgate is slow to list {what}, so type {typed} instead.")
        try:
            return job.result()
        except HttpStatusError as error:
            if error.status == 403:
                fix = (
                    f"put a token with {scope} into SIPGATE_TOKEN_ID / SIPGATE_TOKEN"
                    if self._from_environment
                    else f"log in with a token that has {scope}"
                )
                return Degraded(
                    f"Your token lacks the scope {scope}, so {what} cannot be listed; type "
                    f"{typed} instead (or {fix})."
                )
            if error.status == 401:
                return Degraded(f"sipgate did not accept the token, so {what} cannot be listed.")
            return Degraded(f"sipgate could not list {what} (HTTP {error.status}); type {typed}.")
        except NetworkError as error:
            if error.slow:  # reached, but no answer in time: slow, not unreachable
                return Degraded(f"sipgate is slow to list {what}, so type {typed} instead.")
            return Degraded(f"Could not reach sipgate to list {what}; type {typed} instead.")
        except ApiError:
            return Degraded(f"sipgate could not list {what}; type {typed} instead.")
