"""A private, real Secret Service for integration tests: its own D-Bus session bus and an
unlocked gnome-keyring in a throwaway HOME. The developer's own keyring is never touched.

Without dbus-daemon and gnome-keyring-daemon the tests skip with the reason, except when
SIPGATE_TUI_REQUIRE_SECRET_SERVICE=1 (as in .ci/run): then they fail, so CI cannot pass by
skipping them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRED = os.environ.get("SIPGATE_TUI_REQUIRE_SECRET_SERVICE") == "1"


def missing_reason() -> str | None:
    """Why no private Secret Service can be started here, or None."""
    for binary, package in (("dbus-daemon", "dbus"), ("gnome-keyring-daemon", "gnome-keyring")):
        if shutil.which(binary) is None:
            return f"{binary} not found (apt-get install {package})"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip with the reason, or fail where the Secret Service is required (CI)."""
    if REQUIRED:
        pytest.fail(f"a Secret Service is required here: {reason}")
    pytest.skip(f"no Secret Service for integration tests: {reason}")


@dataclass
class SecretService:
    """A running private Secret Service; ``env`` reaches it from subprocesses."""

    address: str
    home: Path
    bus_pid: int

    @property
    def env(self) -> dict[str, str]:
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    @contextmanager
    def session(self) -> Iterator[None]:
        """Point this process's keyring/secretstorage at the private bus for a moment."""
        previous = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = self.address
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous

    def items(self, service: str = "sipgate-tui") -> dict[str, str]:
        """username -> secret of every item the keyring library stored for ``service``."""
        import secretstorage

        with self.session():
            connection = secretstorage.dbus_init()
            try:
                collection = secretstorage.get_default_collection(connection)
                return {
                    item.get_attributes()["username"]: item.get_secret().decode()
                    for item in collection.search_items({"service": service})
                }
            finally:
                connection.close()

    def lock(self) -> None:
        """Lock the default collection, as a screen lock or a timeout would."""
        import secretstorage

        with self.session():
            connection = secretstorage.dbus_init()
            try:
                secretstorage.get_default_collection(connection).lock()
            finally:
                connection.close()


@contextmanager
def private_secret_service(home: Path) -> Iterator[SecretService]:
    """Start a session bus and an unlocked gnome-keyring on it; stop both afterwards."""
    reason = missing_reason()
    if reason:
        skip_or_fail(reason)
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    started = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )
    if started.returncode != 0:
        skip_or_fail(f"dbus-daemon did not start: {started.stderr.strip()[:200]}")
    address, pid = started.stdout.split()[:2]
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    try:
        unlocked = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets"],
            input="test-password",
            env=env,
            capture_output=True,
            text=True,
            timeout=20,
        )
        if unlocked.returncode != 0:
            skip_or_fail(f"gnome-keyring-daemon failed: {unlocked.stderr.strip()[:200]}")
        yield SecretService(address=address, home=home, bus_pid=int(pid))
    finally:
        # gnome-keyring-daemon exits when its bus goes away.
        with suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGTERM)
