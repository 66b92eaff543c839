"""A keyring backend for *subprocess* tests only: items in a JSON file outside the test's HOME.

Subprocesses cannot share the in-memory backend, and a real Secret Service is not everywhere.
Selected with PYTHON_KEYRING_BACKEND=file_keyring.FileKeyring and TEST_KEYRING_FILE=<path>.
It is plain text on purpose and lives only in tests/: sipgate-tui itself never falls back to a
file, and keyrings.alt is never installed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @property
    def path(self) -> Path:
        return Path(os.environ["TEST_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        items = self._load()
        items[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(items))

    def delete_password(self, service: str, username: str) -> None:
        items = self._load()
        if items.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("not found")
        self.path.write_text(json.dumps(items))


class FaultyKeyring(FileKeyring):
    """The file keyring with one fault, chosen by TEST_KEYRING_FAULT:

    ``locked`` (every call), ``raise-read``, ``raise-write``, ``raise-delete``, ``block``
    (reads hang, like a Secret Service waiting on an unlock prompt nobody answers).
    """

    @property
    def fault(self) -> str:
        return os.environ.get("TEST_KEYRING_FAULT", "")

    def get_password(self, service: str, username: str) -> str | None:
        from keyring.errors import KeyringError, KeyringLocked

        if self.fault == "locked":
            raise KeyringLocked("the collection is locked")
        if self.fault == "raise-read":
            raise KeyringError("the backend broke while reading")
        if self.fault == "block":
            import time

            time.sleep(3600)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        from keyring.errors import KeyringLocked, PasswordSetError

        if self.fault == "locked":
            raise KeyringLocked("the collection is locked")
        if self.fault == "raise-write":
            raise PasswordSetError("the backend refused to store")
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import KeyringLocked, PasswordDeleteError

        if self.fault == "locked":
            raise KeyringLocked("the collection is locked")
        if self.fault == "raise-delete":
            raise PasswordDeleteError("the backend refused to delete")
        super().delete_password(service, username)
