"""The settings a person can choose (``config set KEY VALUE``): one table for the CLI's help and
completion, the ``config`` command, the config file's validation and the docs.

Kept free of imports, so ``--help`` and shell completion pay for nothing else.
"""

from __future__ import annotations


class SettingKey:
    """One setting: as typed (``default-device``), as stored in config.toml (``field``, also
    the attribute of ProfileSettings), and what it takes, for help texts. ``choices``, when
    given, are the only values it takes (the first is the default), checked in config.toml and
    by ``config set`` alike. A plain class: the problem registry imports this on every path,
    where ``dataclasses`` would cost its import.
    """

    __slots__ = ("choices", "field", "name", "takes")

    def __init__(self, name: str, field: str, takes: str, choices: tuple[str, ...] = ()) -> None:
        self.name, self.field, self.takes, self.choices = name, field, takes, choices

    def choices_in_words(self) -> str:
        """``auto, classic or neo``."""
        return f"{', '.join(self.choices[:-1])} or {self.choices[-1]}"


SETTING_KEYS: tuple[SettingKey, ...] = (
    SettingKey("default-device", "default_device", "e.g. e0"),
    SettingKey("default-caller-id", "default_caller_id", "one of your numbers"),
    SettingKey("region", "region", "e.g. DE"),
    SettingKey("history", "history", "true/false: remember recent numbers"),
    # Kept in step with options.ACCOUNT_TYPE_CHOICES (a test checks): no import here.
    SettingKey(
        "account-type",
        "account_type",
        "auto/classic/neo: force the account type when detection is wrong",
        ("auto", "classic", "neo"),
    ),
    SettingKey(
        "neo-numbers",
        "neo_numbers",
        "digits/plus: numbers in a sipgate Neo call without or with +",
        ("digits", "plus"),
    ),
    SettingKey(
        "live-view",
        "live_view",
        "auto/on/off: follow the call after the dial (auto: not on sipgate Neo)",
        ("auto", "on", "off"),
    ),
    SettingKey(
        "tone-pause",
        "tone_pause",
        "seconds each ',' pauses between keypad tones after connecting (0.5-10, default 2)",
    ),
)
BY_NAME = {key.name: key for key in SETTING_KEYS}
BY_FIELD = {key.field: key for key in SETTING_KEYS}


def names_in_words(last: str = "or") -> str:
    """``default-device, default-caller-id, region or history``."""
    names = [key.name for key in SETTING_KEYS]
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
