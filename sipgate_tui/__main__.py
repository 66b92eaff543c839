"""Entry point of the ``sipgate-tui`` console script and of ``python -m sipgate_tui``."""

from __future__ import annotations

import sys


def main() -> None:
    """Start the app; ``--version`` alone is answered before anything heavy is imported."""
    if sys.argv[1:] == ["--version"]:
        from sipgate_tui import __version__

        print(f"sipgate-tui {__version__}")
        return
    from sipgate_tui.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
