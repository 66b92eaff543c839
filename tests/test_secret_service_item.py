"""The fast read of the Secret Service (sipgate_tui.secret_service_item) holds to keyring's own
SecretService backend: the same names, the same item, the same answers. Against a real,
private Secret Service; they skip where none can start (and fail in .ci/run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import SecretService as keyring_secret_service
from secret_service import SecretService, private_secret_service

from sipgate_tui import secret_service_item
from sipgate_tui.credentials import KeyringStore, remember_backend

pytestmark = pytest.mark.secret_service
ITEM = '{"token_id": "token-SIM001", "token": "not-a-real-token"}'


@pytest.fixture
def secret_service(tmp_path: Path) -> Iterator[SecretService]:
    with private_secret_service(tmp_path / "keyring-home") as service, service.session():
        yield service


def test_the_names_are_keyrings_own() -> None:
    backend = keyring_secret_service.Keyring
    assert f"{backend.__module__}.{backend.__qualname__}" == secret_service_item.BACKEND
    assert backend.name == secret_service_item.LABEL


def test_it_reads_the_item_keyrings_backend_wrote(secret_service: SecretService) -> None:
    backend = keyring_secret_service.Keyring()
    backend.set_password("sipgate-tui", "work", ITEM)
    backend.set_password("sipgate-tui", "home", "another")
    backend.set_password("another-app", "work", "not this one")
    assert secret_service_item.read_password("sipgate-tui", "work") == ITEM
    assert secret_service_item.read_password("sipgate-tui", "work") == backend.get_password(
        "sipgate-tui", "work"
    )
    assert secret_service_item.read_password("sipgate-tui", "nobody") is None


def test_a_locked_collection_is_locked(secret_service: SecretService) -> None:
    keyring_secret_service.Keyring().set_password("sipgate-tui", "default", ITEM)
    secret_service.lock()  # headless, gnome-keyring's unlock prompt is dismissed at once
    with pytest.raises(secret_service_item.ItemLocked):
        secret_service_item.read_password("sipgate-tui", "default")


def test_no_secret_service_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    with pytest.raises(secret_service_item.ServiceUnavailable):
        secret_service_item.read_password("sipgate-tui", "default")


def test_the_store_reads_through_it_and_names_the_backend_as_keyring_does(
    secret_service: SecretService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))  # no keyringrc.cfg
    monkeypatch.setattr("keyring.core._keyring_backend", None)  # nothing chosen in-process
    env = {"SIPGATE_TUI_STATE_DIR": str(tmp_path / "state")}
    keyring_secret_service.Keyring().set_password("sipgate-tui", "default", ITEM)
    remember_backend(env, keyring_secret_service.Keyring())

    found = KeyringStore(env=env).read_remembered("default")
    assert found is not None
    assert (found.credentials.token_id, found.source, found.backend) == (
        "token-SIM001",
        "keyring",
        "SecretService Keyring",
    )


@pytest.mark.parametrize(
    ("environ", "applies"),
    [
        ({}, True),
        ({"PATH": "/usr/bin"}, True),
        ({"KEYRING_PROPERTY_SCHEME": "KeePassXC"}, False),
        ({"KEYRING_PROPERTY_PREFERRED_COLLECTION": "/org/freedesktop/secrets/x"}, False),
        ({"MY_KEYRING_PROPERTY_SCHEME": "KeePassXC"}, False),  # keyring takes it too
    ],
)
def test_keyring_properties_leave_the_read_to_keyring(
    environ: dict[str, str], applies: bool
) -> None:
    assert secret_service_item.applies(environ) is applies
