"""sipgate-tui: place phone calls through the sipgate REST API from a terminal."""

__version__ = "0.1.0"
