"""``sipgate-tui config`` and ``sipgate-tui favourites``: the settings a person chooses.

These are the only commands that write ``config.toml``; they keep its comments and layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipgate_tui import render
from sipgate_tui.context import AppContext
from sipgate_tui.errors import ExitCode, InputError
from sipgate_tui.numbers import (
    is_favourite_name,
    parse_device_id,
    parse_phone_number,
    parse_region,
    pretty,
)
from sipgate_tui.options import DEFAULT_REGION
from sipgate_tui.setting_keys import BY_FIELD, BY_NAME, SETTING_KEYS
from sipgate_tui.settings import TONE_PAUSE_RULE, Pinned, SettingsStore, tone_pause_seconds

TRUE_WORDS, FALSE_WORDS = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


@dataclass(frozen=True)
class ConfigOptions:
    """``config`` (show), ``config set KEY VALUE``, ``config unset KEY``."""

    action: str = "show"
    key: str | None = None
    value: str | None = None
    json: bool = False


@dataclass(frozen=True)
class FavouriteOptions:
    """``favourites`` (list), ``favourites add NAME NUMBER``, ``favourites remove NAME``."""

    action: str = "list"
    name: str | None = None
    number: str | None = None
    json: bool = False


def config(options: ConfigOptions, ctx: AppContext) -> ExitCode:
    """Show the settings and where they live, or change one of them."""
    store = ctx.make_settings()
    changed = None
    pinned: list[Pinned] = []
    if options.action in ("set", "unset"):
        key = _key(options.key)
        value = None if options.action == "unset" else _value(key, options.value or "", store)
        pinned = store.set_value(key, value)  # said "saved" only after the write succeeded
        changed = f"{options.key} {'removed' if value is None else 'saved'}"
    elif options.action == "clear-recent":
        count = store.forget_recent()
        changed = f"{count} recent number{'s' if count != 1 else ''} forgotten"
    settings = store.load()
    values = {key.name: getattr(settings, key.field) for key in SETTING_KEYS}
    if options.json:
        ctx.emit_json(
            {
                "ok": True,
                "profile": store.profile,
                "configPath": str(store.config_path),
                "statePath": str(store.state_path),
                "settings": values,
                "favourites": settings.favourites,
                "pinned": [
                    {"key": key, "was": was, "now": now, "region": region}
                    for key, was, now, region in pinned
                ],
            }
        )
    else:
        if pinned:
            ctx.show(render.notes([_pinned_note(pinned)]))
        ctx.show(
            render.config_view(
                profile=store.profile,
                config_path=str(store.config_path),
                state_path=str(store.state_path),
                values=values,
                favourites=len(settings.favourites),
                changed=changed,
            )
        )
    return ExitCode.OK


def favourites(options: FavouriteOptions, ctx: AppContext) -> ExitCode:
    """List, add or remove favourites (names to call by: ``sipgate-tui call mom``)."""
    store = ctx.make_settings()
    message = None
    notes: list[str] = []
    if options.action == "add":
        name = _favourite_name(options.name)
        region = store.load().region or DEFAULT_REGION
        number = parse_phone_number(options.number or "", region, what="number")
        notes += number.notes
        replaced = store.set_favourite(name, number.e164)
        message = f"Saved {name} → {number.pretty}. Call with: sipgate-tui call {name}"
        if replaced:
            message += " (replaced " + ", ".join(f"{n} → {v}" for n, v in replaced.items()) + ")"
    elif options.action == "remove":
        name = (options.name or "").strip()
        removed = store.set_favourite(name, None)
        if not removed:
            raise InputError(
                "unknown-favourite",
                f"There is no favourite named '{name[:40]}'.",
                hint="See them with `sipgate-tui favourites`.",
            )
        # Named as stored ("Mom"), not as typed ("MOM"): names match whatever their case.
        message = "Removed " + ", ".join(f"{n} ({pretty(v)})" for n, v in removed.items()) + "."
    listed = store.load().favourites
    if options.json:
        ctx.emit_json(
            {"ok": True, "profile": store.profile, "favourites": listed, "warnings": notes}
        )
    else:
        if notes:
            ctx.show(render.notes(notes))
        ctx.show(render.favourites_view(listed, message=message))
    return ExitCode.OK


def _pinned_note(pinned: list[Pinned]) -> str:
    """Which numbers written without a country code were pinned, and why."""
    region = pinned[0][3]
    pins = "; ".join(
        f"{key.removeprefix('favourites.')} {was.strip()} → {pretty(now, region)}"
        for key, was, now, _ in pinned
    )
    many = len(pinned) != 1
    return (
        f"Written without a country code, {'these were' if many else 'this was'} read in "
        f"region {region}; now pinned to that country, so {'they' if many else 'it'} still "
        f"reach{'' if many else 'es'} the same number{'s' if many else ''}: {pins}."
    )


def _key(text: str | None) -> str:
    key = BY_NAME.get((text or "").strip().lower().replace("_", "-"))
    if key is None:
        raise InputError(
            "unknown-setting",
            f"'{(text or '')[:40]}' is not a setting.",
            hint="Settings: " + ", ".join(BY_NAME) + ". Favourites have their own command: "
            "sipgate-tui favourites add NAME NUMBER.",
        )
    return key.field


def _value(key: str, text: str, store: SettingsStore) -> str | bool | float:
    """Validate and normalise a value before it is written."""
    if key == "tone_pause":
        pause = tone_pause_seconds(text)
        if pause is None:
            raise InputError(
                "invalid-value",
                f"tone-pause {TONE_PAUSE_RULE}, not '{text.strip()[:20]}'.",
                hint="For example: sipgate-tui config set tone-pause 3",
            )
        return pause
    if key == "default_device":
        return parse_device_id(text)
    if key == "region":
        return parse_region(text)
    if key == "default_caller_id":
        region = store.load().region or DEFAULT_REGION
        return parse_phone_number(text, region, what="caller ID").e164
    word = text.strip().lower()
    setting = BY_FIELD[key]
    if setting.choices:  # account-type, neo-numbers, live-view: one of a few words
        if word in setting.choices:
            return word
        raise InputError(
            "invalid-value",
            f"{setting.name} takes {setting.choices_in_words()}, not '{text[:20]}'.",
            hint=f"For example: sipgate-tui config set {setting.name} {setting.choices[0]}",
        )
    if word in TRUE_WORDS | FALSE_WORDS:
        return word in TRUE_WORDS
    raise InputError("invalid-value", f"history takes true or false, not '{text[:20]}'.")


def _favourite_name(text: str | None) -> str:
    name = (text or "").strip()
    if not is_favourite_name(name):
        raise InputError(
            "invalid-favourite-name",
            f"'{name[:40]}' cannot be a favourite's name.",
            hint="Use a word that starts with a letter (letters, digits, '.', '_', '-') and "
            "does not look like a device id, such as mom or office_berlin.",
        )
    return name
