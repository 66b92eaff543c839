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
