"""Remembered settings: config.toml (the user's) and the state file (the app's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import flat, make_context, output_of, read_only_directory
from hypothesis import given, settings
from hypothesis import strategies as st

from sipgate_tui.commands.settings_commands import (
    ConfigOptions,
    FavouriteOptions,
    config,
    favourites,
)
from sipgate_tui.errors import AppError, ExitCode, InputError
from sipgate_tui.settings import MAX_RECENT, SettingsStore

API = "http://127.0.0.1:9/v2"  # never contacted by these commands


def store_at(tmp_path: Path, profile: str = "default") -> SettingsStore:
    return SettingsStore(
        {
            "SIPGATE_TUI_CONFIG_DIR": str(tmp_path / "config"),
            "SIPGATE_TUI_STATE_DIR": str(tmp_path / "state"),
        },
        profile,
    )


def run_config(tmp_path: Path, **fields: object) -> str:
    ctx = make_context(API, settings_dir=tmp_path)
    config(ConfigOptions(**fields), ctx)  # type: ignore[arg-type]
    return output_of(ctx.out)


def test_set_values_round_trip_normalised(tmp_path: Path) -> None:
    run_config(tmp_path, action="set", key="default-device", value="E0")
    run_config(tmp_path, action="set", key="region", value="at")
    run_config(tmp_path, action="set", key="default-caller-id", value="+49 211 5550001")
    run_config(tmp_path, action="set", key="history", value="off")
    loaded = store_at(tmp_path).load()
    assert (loaded.default_device, loaded.region, loaded.default_caller_id, loaded.history) == (
        "e0",
        "AT",
        "+492115550001",
        False,
    )
    text = (tmp_path / "config" / "config.toml").read_text()
    assert "[profiles.default]" in text and 'default_device = "e0"' in text


def test_config_shows_paths_and_values(tmp_path: Path) -> None:
    shown = flat(run_config(tmp_path, action="set", key="default-device", value="e0"))
    assert "default-device e0" in shown
    assert (
        str(tmp_path / "config" / "config.toml") in shown.replace(" ", "") or "config.toml" in shown
    )


def test_config_json(tmp_path: Path) -> None:
    ctx = make_context(API, settings_dir=tmp_path)
    config(ConfigOptions(json=True), ctx)
    document = json.loads(output_of(ctx.out))
    assert document["settings"] == {
        "default-device": None,
        "default-caller-id": None,
        "region": None,
        "history": True,
        "account-type": "auto",
        "neo-numbers": "digits",
        "live-view": "auto",
        "tone-pause": 2.0,
    }
    assert document["configPath"].endswith("config.toml")


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("default-device", "w0", "invalid-device"),
        ("region", "Germany", "invalid-region"),
        ("history", "maybe", "invalid-value"),
        ("colour", "red", "unknown-setting"),
        ("default-caller-id", "112", "invalid-number"),
        ("tone-pause", "0.1", "invalid-value"),
        ("tone-pause", "11", "invalid-value"),
        ("tone-pause", "two", "invalid-value"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    tmp_path: Path, key: str, value: str, code: str
) -> None:
    with pytest.raises(InputError) as caught:
        run_config(tmp_path, action="set", key=key, value=value)
    assert caught.value.code == code
    assert not (tmp_path / "config" / "config.toml").exists()


def test_the_users_comments_survive_a_change(tmp_path: Path) -> None:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('# my phones\n[profiles.default]\nregion = "DE"  # home\n')
    run_config(tmp_path, action="set", key="default-device", value="e1")
    text = path.read_text()
    assert "# my phones" in text and "# home" in text and 'default_device = "e1"' in text


def test_a_corrupted_file_names_the_line_and_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    broken = "[profiles.default]\nregion = \n"
    path.write_text(broken)
    with pytest.raises(AppError) as caught:
        run_config(tmp_path, action="set", key="default-device", value="e0")
    assert (caught.value.code, caught.value.exit_code) == (
        "config-unreadable",
        ExitCode.ENVIRONMENT,
    )
    assert str(path) in caught.value.message and "line 2" in caught.value.message
    assert path.read_text() == broken


def test_a_wrong_type_in_the_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[profiles.default]\nhistory = "yes"\n')
    with pytest.raises(AppError) as caught:
        run_config(tmp_path)
    assert "profiles.default.history must be true or false" in caught.value.message


def test_a_missing_directory_is_created(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er"
    run_config(target, action="set", key="region", value="DE")
    assert (target / "config" / "config.toml").exists()


def test_a_read_only_directory_is_exit_7_and_the_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "config" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text('[profiles.default]\nregion = "DE"\n')
    with read_only_directory(path.parent), pytest.raises(AppError) as caught:
        run_config(tmp_path, action="set", key="region", value="AT")
    assert (caught.value.code, caught.value.exit_code) == (
        "settings-unwritable",
        ExitCode.ENVIRONMENT,
    )
    assert str(path) in caught.value.message
    assert path.read_text() == '[profiles.default]\nregion = "DE"\n'


def test_an_unwritable_target_is_exit_7_even_for_root(tmp_path: Path) -> None:
    # A directory where the file should be: no permission trick needed, fails for root too.
    (tmp_path / "config" / "config.toml").mkdir(parents=True)
    with pytest.raises(AppError) as caught:
        run_config(tmp_path, action="set", key="region", value="DE")
    assert caught.value.exit_code == ExitCode.ENVIRONMENT


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path: Path) -> None:
    for device in ("e0", "e1", "e2"):
        run_config(tmp_path, action="set", key="default-device", value=device)
    # The lock file stays by design: removing it could let two writers in at once.
    names = sorted(p.name for p in (tmp_path / "config").iterdir())
    assert names == ["config.toml", "config.toml.lock"]


def test_favourites_add_list_remove(tmp_path: Path) -> None:
    ctx = make_context(API, settings_dir=tmp_path)
    favourites(FavouriteOptions(action="add", name="mom", number="0157 99912345"), ctx)
    favourites(FavouriteOptions(action="add", name="Office", number="+49 211 5550001"), ctx)
    assert store_at(tmp_path).load().favourites == {
        "mom": "+4915799912345",
        "Office": "+492115550001",
    }
    assert "sipgate-tui call mom" in flat(output_of(ctx.out))
    favourites(FavouriteOptions(action="remove", name="MOM"), ctx)
    assert store_at(tmp_path).load().favourites == {"Office": "+492115550001"}
    with pytest.raises(InputError, match="no favourite named"):
        favourites(FavouriteOptions(action="remove", name="mom"), ctx)


@pytest.mark.parametrize("name", ["123", "e0", "", "a b", "-x"])
def test_favourite_names_cannot_look_like_numbers(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError):
        favourites(
            FavouriteOptions(action="add", name=name, number="0157 99912345"),
            make_context(API, settings_dir=tmp_path),
        )


def test_profiles_have_their_own_tables(tmp_path: Path) -> None:
    store_at(tmp_path, "work").set_value("default_device", "x1")
    assert store_at(tmp_path, "work").load().default_device == "x1"
    assert store_at(tmp_path).load().default_device is None


def test_recent_numbers_are_bounded_newest_first(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    for i in range(MAX_RECENT + 5):
        store.remember_call(f"+4921155500{i:02d}", "e0")
    store.remember_call("+492115550003", "y0")  # called again: moves to the front
    state = store.load_state()
    assert len(state.recent) == MAX_RECENT
    assert state.recent[0].number == "+492115550003" and state.last_device == "y0"
    assert [r.number for r in state.recent].count("+492115550003") == 1


def test_a_damaged_state_file_is_reported_not_overwritten(tmp_path: Path) -> None:
    store = store_at(tmp_path)
    store.state_path.parent.mkdir(parents=True)
    store.state_path.write_text("{broken")
    with pytest.raises(AppError) as caught:
        store.remember_call("+492115550001", "e0")
    assert "damaged" in caught.value.message and str(store.state_path) in caught.value.message
    assert store.state_path.read_text() == "{broken"


def test_no_secret_is_ever_written(tmp_path: Path) -> None:
    run_config(tmp_path, action="set", key="default-device", value="e0")
    store_at(tmp_path).remember_user("token-SIM001", "w0")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "5f0c2a4e" not in path.read_text()


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=200))
def test_any_config_text_loads_or_fails_with_our_error(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        store = store_at(Path(directory))
        store.config_path.parent.mkdir(parents=True)
        store.config_path.write_text(text)
        try:
            store.load()
        except AppError as error:
            assert error.exit_code == ExitCode.ENVIRONMENT


@settings(max_examples=100, deadline=None)
@given(
    table=st.dictionaries(
        st.sampled_from(
            ["default_device", "default_caller_id", "region", "history", "favourites", "other"]
        ),
        st.one_of(
            st.text(max_size=20),
            st.booleans(),
            st.integers(),
            st.dictionaries(st.text(max_size=8), st.text(max_size=15), max_size=3),
        ),
        max_size=5,
    )
)
def test_any_profile_table_validates_or_fails_with_our_error(table: dict) -> None:
    import tempfile

    import tomlkit

    with tempfile.TemporaryDirectory() as directory:
        store = store_at(Path(directory))
        store.config_path.parent.mkdir(parents=True)
        try:
            text = tomlkit.dumps({"profiles": {"default": table}})
        except Exception:  # noqa: BLE001 - not representable in TOML: nothing to test
            return
        store.config_path.write_text(text)
        try:
            store.load()
        except AppError as error:
            assert error.exit_code == ExitCode.ENVIRONMENT


def test_tone_pause_is_kept_as_seconds_and_read_back(tmp_path: Path) -> None:
    run_config(tmp_path, action="set", key="tone-pause", value="3.5")
    assert "tone_pause = 3.5" in (tmp_path / "config" / "config.toml").read_text()
    ctx = make_context(API, settings_dir=tmp_path)
    assert ctx.make_settings().load().tone_pause == 3.5


def test_a_tone_pause_edited_out_of_range_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("[profiles.default]\ntone_pause = 600\n")
    ctx = make_context(API, settings_dir=tmp_path)
    with pytest.raises(AppError) as caught:
        ctx.make_settings().load()
    assert "profiles.default.tone_pause" in caught.value.message
    assert "from 0.5 to 10" in caught.value.message
