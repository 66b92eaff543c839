"""The global options and their defaults: all the CLI layer needs before a command runs.

Kept free of imports, so ``--help`` pays for nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_API_URL = "https://api.sipgate.com/v2"
DEFAULT_PROFILE = "default"
DEFAULT_REGION = "DE"  # country of numbers written without a country code


@dataclass(frozen=True)
class GlobalOptions:
    """Options given before the subcommand (or through their environment variables)."""

    api_url: str = DEFAULT_API_URL
    no_input: bool = False
    debug: bool = False
    profile: str = DEFAULT_PROFILE
