"""The settings a person can choose (``config set KEY VALUE``): one table for the CLI's help and
completion, the ``config`` command, the config file's validation and the docs.

Kept free of imports, so ``--help`` and shell completion pay for nothing else.
"""

from __future__ import annotations


class SettingKey:
    """One setting: as typed (``default-device``), as stored in config.toml (``field``, also
    the attribute of ProfileSettings), and what it takes, for help texts. A plain class: the
    problem registry imports this on every path, where ``dataclasses`` would cost its import.
    """

    __slots__ = ("field", "name", "takes")

    def __init__(self, name: str, field: str, takes: str) -> None:
        self.name, self.field, self.takes = name, field, takes


SETTING_KEYS: tuple[SettingKey, ...] = (
    SettingKey("default-device", "default_device", "e.g. e0"),
    SettingKey("default-caller-id", "default_caller_id", "one of your numbers"),
    SettingKey("region", "region", "e.g. DE"),
    SettingKey("history", "history", "true/false: remember recent numbers"),
)
BY_NAME = {key.name: key for key in SETTING_KEYS}


def names_in_words(last: str = "or") -> str:
    """``default-device, default-caller-id, region or history``."""
    names = [key.name for key in SETTING_KEYS]
    return f"{', '.join(names[:-1])} {last} {names[-1]}"
