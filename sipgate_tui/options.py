"""The global options and their defaults: all the CLI layer needs before a command runs.

Kept free of imports, so ``--help`` pays for nothing else.
"""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_API_URL = "https://api.sipgate.com/v2"
DEFAULT_PROFILE = "default"
DEFAULT_REGION = "DE"  # country of numbers written without a country code
# Forcing the account type when detection is wrong (the setting account-type, --account-type):
# "auto" detects; account types themselves are "classic", "neo" and "unknown".
ACCOUNT_TYPE_CHOICES = ("auto", "classic", "neo")
ENV_ACCOUNT_TYPE = "SIPGATE_TUI_ACCOUNT_TYPE"


class GlobalOptions(NamedTuple):
    """Options given before the subcommand (or through their environment variables)."""

    api_url: str = DEFAULT_API_URL
    no_input: bool = False
    debug: bool = False
    profile: str = DEFAULT_PROFILE
    account_type: str = "auto"  # one of ACCOUNT_TYPE_CHOICES; beats the setting account-type
